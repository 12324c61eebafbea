"""What the quiz pages show of a question: its text, options and prompts rendered through the lessons'
sanitiser in the question's format (Markdown or Moodle's HTML), before submission without a hint of the right
answers, and after it with the review (right answers, weights, the feedback the learner earned)."""

from __future__ import annotations

from typing import Any

from app.catalog.rendering import render_rich
from app.quizzes.bank import Question
from app.quizzes.grading import prompts_of, public_question
from app.quizzes.service import ReviewItem


def attempt_question(question: Question) -> dict[str, Any]:
    """The attempt page's view: `public_question` (no answers) with the HTML of each piece of text."""
    view = public_question(question)
    fmt = question.format
    view["html"] = render_rich(question.text, fmt)
    for option in view["options"]:
        option["html"] = render_rich(option["text"], fmt, inline=True)
    for prompt in view["prompts"]:
        prompt["html"] = render_rich(prompt["text"], fmt, inline=True)
    return view


def review_question(item: ReviewItem) -> dict[str, Any]:
    """The result page's view of one reviewed question."""
    q = item.question
    fmt = q.format
    chosen = _chosen(item.answer)
    choices = {o.id: o.text for o in q.options}
    typed = item.answer if isinstance(item.answer, str) else ""
    matched = item.answer if isinstance(item.answer, dict) else {}
    return {
        "item": item,
        "html": render_rich(q.text, fmt),
        "options": [
            {
                "option": o,
                "html": render_rich(o.text, fmt, inline=True),
                "chosen": o.id in chosen,
                "feedback_html": render_rich(o.feedback, fmt) if o.id in chosen else "",
            }
            for o in q.options
        ],
        "typed": typed,
        "prompts": [
            {
                "html": render_rich(p.text, fmt, inline=True),
                "chosen": choices.get(str(matched.get(str(i), "")), ""),
                "right": choices.get(p.option, ""),
                "correct": matched.get(str(i)) == p.option,
            }
            for i, p in enumerate(prompts_of(q), 1)
        ],
        "feedback_html": [render_rich(text, fmt) for text in item.feedback]
        if q.kind not in _OPTION_FEEDBACK
        else [],
        "explanation_html": render_rich(q.explanation, fmt),
    }


# Kinds whose feedback belongs to the options shown beside them.
_OPTION_FEEDBACK = frozenset({"single", "multiple", "true_false"})


def _chosen(answer: Any) -> set[str]:
    if isinstance(answer, str):
        return {answer}
    if isinstance(answer, list):
        return {a for a in answer if isinstance(a, str)}
    return set()
