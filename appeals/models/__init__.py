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
from appeals.models.evidence import EvidenceItem, EvidenceKind, Provenance
from appeals.models.imports import ImportStatus, OrderImport

__all__ = [
    "ApiToken",
    "Appeal",
    "AppealState",
    "AppealVersion",
    "AuditEvent",
    "BuildState",
    "BundleBuild",
    "Complaint",
    "ComplaintChannel",
    "ComplaintStatus",
    "ComplaintType",
    "EvidenceItem",
    "EvidenceKind",
    "ImportStatus",
    "MaliciousCategory",
    "Order",
    "OrderImport",
    "Provenance",
    "RebuttalRow",
    "Shop",
    "User",
]
