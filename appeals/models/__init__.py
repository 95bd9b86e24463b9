"""The models; importing this package registers every table on Base.metadata."""

from appeals.models.account import ApiToken, Shop, User
from appeals.models.complaint import Complaint, ComplaintChannel, ComplaintType, Order

__all__ = [
    "ApiToken",
    "Complaint",
    "ComplaintChannel",
    "ComplaintType",
    "Order",
    "Shop",
    "User",
]
