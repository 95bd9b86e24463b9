"""The models; importing this package registers every table on Base.metadata."""

from appeals.models.account import ApiToken, Shop, User
from appeals.models.appeal import Appeal, AppealState, AppealVersion, RebuttalRow
from appeals.models.audit import AuditEvent
from appeals.models.bundle import BuildState, BundleBuild
from appeals.models.complaint import (
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintType,
    MaliciousCategory,
    Order,
)
from appeals.models.evidence import EvidenceItem, EvidenceKind, Provenance, ReadingState
from appeals.models.imports import ImportStatus, OrderImport
from appeals.models.review import (
    ClockPause,
    InfoRequest,
    Notification,
    Outcome,
    ReviewNote,
    Ruling,
)

__all__ = [
    "ApiToken",
    "Appeal",
    "AppealState",
    "AppealVersion",
    "AuditEvent",
    "BuildState",
    "BundleBuild",
    "ClockPause",
    "Complaint",
    "ComplaintChannel",
    "ComplaintStatus",
    "ComplaintType",
    "EvidenceItem",
    "EvidenceKind",
    "ImportStatus",
    "InfoRequest",
    "MaliciousCategory",
    "Notification",
    "Order",
    "OrderImport",
    "Outcome",
    "Provenance",
    "ReadingState",
    "RebuttalRow",
    "ReviewNote",
    "Ruling",
    "Shop",
    "User",
]
