"""Quiz limits and defaults (SPEC §6): one place, so the YAML parser, the GIFT parser and the pages agree."""

from __future__ import annotations

from typing import Final, Literal

QuestionKind = Literal["single", "multiple", "true_false", "short", "numerical", "matching"]
QUESTION_KINDS: Final[tuple[QuestionKind, ...]] = (
    "single",
    "multiple",
    "true_false",
    "short",
    "numerical",
    "matching",
)
# The kinds the browser's question editor writes; the others come from GIFT or quiz files.
EDITOR_KINDS: Final[tuple[QuestionKind, ...]] = ("single", "multiple", "true_false", "short")
# Kinds whose options the learner chooses among (radio buttons or check boxes).
CHOICE_KINDS: Final = frozenset({"single", "multiple", "true_false"})

# How a question's text, options and feedback are written: Markdown (with inline HTML, the files' default) or
# HTML (Moodle's exports). Both reach the browser through the lessons' sanitiser (app/catalog/rendering.py).
TextFormat = Literal["markdown", "html"]
TEXT_FORMATS: Final[tuple[TextFormat, ...]] = ("markdown", "html")

# Defaults for settings a quiz file leaves out.
DEFAULT_PASS_PERCENT: Final = 70.0
DEFAULT_POINTS: Final = 1
DEFAULT_SHUFFLE_OPTIONS: Final = True
DEFAULT_SHOW_REVIEW: Final = True

# Option ids are letters in file order (a, b, c, …): stable while an author edits option text.
OPTION_IDS: Final = "abcdefghijklmnopqrstuvwxyz"
MAX_OPTIONS: Final = len(OPTION_IDS)

# A true/false question becomes two options, always in this order and never shuffled.
TRUE_OPTION_ID: Final = "true"
FALSE_OPTION_ID: Final = "false"
TRUE_TEXT: Final = "Đúng"
FALSE_TEXT: Final = "Sai"

# Question ids appear in form field names and stored answers.
QUESTION_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_POINTS: Final = 100

# Upper bounds of a quiz's settings (files, editor and API alike): a longer time limit overflowed the deadline
# and left learners with a 422, and no learner needs more.
MAX_TIME_LIMIT_MINUTES: Final = 24 * 60
MAX_ATTEMPTS: Final = 100
MAX_DRAW: Final = 500
SETTING_MAXIMUM: Final = {
    "time_limit_minutes": MAX_TIME_LIMIT_MINUTES,
    "max_attempts": MAX_ATTEMPTS,
    "draw": MAX_DRAW,
}
MAX_SHORT_ANSWER_LENGTH: Final = 500
# Answer weights are percentages of a question's points, as Moodle's `%50%` (negative: a penalty).
MIN_WEIGHT: Final = -100.0
MAX_WEIGHT: Final = 100.0
# A matching question has at least two prompts (Moodle's minimum) and at most MAX_OPTIONS choices.
MIN_PROMPTS: Final = 2
