"""Every model, imported in one place so the metadata (and Alembic) sees the whole schema."""

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.catalog.models import Course, CourseModule, Lesson, MediaFile
from app.certificates.models import Certificate
from app.cohorts.models import Cohort, CohortTrainer
from app.core.db import Base
from app.imports.models import CredentialBatch, ImportJob
from app.progress.models import Enrolment, LessonProgress
from app.quizzes.models import Quiz, QuizAttempt, QuizQuestion
from app.reports.models import (
    ReportCounter,
    ReportDaily,
    ReportLearner,
    ReportTenant,
    ReportUnit,
    VisitDay,
)
from app.tenancy.models import Tenant
from app.units.models import Unit

__all__ = [
    "AuditEvent",
    "Base",
    "Certificate",
    "Cohort",
    "CohortTrainer",
    "Course",
    "CourseModule",
    "CredentialBatch",
    "Enrolment",
    "ImportJob",
    "Lesson",
    "LessonProgress",
    "MediaFile",
    "Quiz",
    "QuizAttempt",
    "QuizQuestion",
    "ReportCounter",
    "ReportDaily",
    "ReportLearner",
    "ReportTenant",
    "ReportUnit",
    "Tenant",
    "Unit",
    "User",
    "VisitDay",
]

# The ORM listeners that keep the report counters current on every enrolment event.
import app.reports.counters  # noqa: F401
