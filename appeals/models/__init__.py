"""The models; importing this package registers every table on Base.metadata."""

from appeals.models.account import ApiToken, Shop, User
from appeals.models.audit import AuditEvent
from appeals.models.complaint import (
    Complaint,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintType,
    MaliciousCategory,
    Order,
)
from appeals.models.imports import ImportStatus, OrderImport

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Complaint",
    "ComplaintChannel",
    "ComplaintStatus",
    "ComplaintType",
    "ImportStatus",
    "MaliciousCategory",
    "Order",
    "OrderImport",
    "Shop",
    "User",
]
