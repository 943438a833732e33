"""All models, imported here so Alembic and the app see one metadata."""
from .audit import AuditLog
from .base import Base, utc_now
from .forms import CONFIDENTIALITY, FORM_SUBMISSION_STATUSES, Form, FormFile, FormSubmission, FormVersion
from .ledger import (EVIDENCE_KINDS, LEDGER_CATEGORIES, LEDGER_SOURCES, LEDGER_STATUSES, LedgerEvidence,
                     LedgerItem, SupervisionOrder, SupervisionTarget)
from .exams import Attempt, AttemptQuestion, Exam, ExamBlueprint, ExamGrant, ExamPoolItem, JobRun
from .practice import PracticeCard, PracticeItem, PracticeSet
from .notices import AUDIENCES, BODY_FORMATS, Announcement, Notification
from .settings import AppSetting
from .talks import TALK_KINDS, TALK_TOPICS, Talk
from .questions import QUESTION_TYPES, Question, QuestionVersion
from .reports import ReportSnapshot, ReportSnapshotUnit
from .tasks import SUBMISSION_STATUSES, TASK_KINDS, Campaign, CampaignStage, Task, TaskSubmission
from .modules import MODULES
from .study import (ITEM_KINDS, STAGES, StudyBeat, StudyCursor, StudyDay, StudyFlag, StudyItem, StudyPolicy,
                    StudyProgress)
from .units import UNIT_LEVELS, Unit
from .users import ROLES, AuthSession, LoginThrottle, User

__all__ = [
    "AUDIENCES", "Announcement", "BODY_FORMATS",
    "AppSetting", "Attempt", "Campaign", "CampaignStage", "SUBMISSION_STATUSES", "TASK_KINDS", "Task",
    "TaskSubmission", "AttemptQuestion", "AuditLog", "AuthSession", "Base", "Exam", "ExamBlueprint", "ExamGrant",
    "ExamPoolItem", "ITEM_KINDS", "PracticeCard", "PracticeItem", "PracticeSet", "JobRun", "MODULES", "Notification", "QUESTION_TYPES", "Question",
    "QuestionVersion", "ROLES", "ReportSnapshot", "ReportSnapshotUnit", "STAGES", "StudyBeat", "StudyCursor", "StudyDay", "StudyFlag", "StudyItem",
    "StudyPolicy", "StudyProgress", "UNIT_LEVELS", "Unit", "User", "utc_now",
    "LoginThrottle", "CONFIDENTIALITY", "FORM_SUBMISSION_STATUSES", "Form", "FormFile", "FormSubmission",
    "FormVersion",
    "EVIDENCE_KINDS", "LEDGER_CATEGORIES", "LEDGER_SOURCES", "LEDGER_STATUSES", "LedgerEvidence", "LedgerItem",
    "SupervisionOrder", "SupervisionTarget", "TALK_KINDS", "TALK_TOPICS", "Talk",
]
