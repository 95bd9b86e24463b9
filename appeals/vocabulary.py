"""What a merchant may ask for and what a ruling may impose: one typed vocabulary each.

Adding a value means adding it here (or to its enum in appeals.models), its label in
merchant_portal.i18n and its translation; a test fails while any value lacks a label in
either language.
"""

from __future__ import annotations

from enum import StrEnum


class Remedy(StrEnum):
    """What the merchant asks the platform to do when the complaint is found malicious."""

    VOID_COMPLAINT = "void_complaint"
    REMOVE_REVIEW = "remove_review"
    RESTORE_POINTS = "restore_points"
    SANCTION_BUYER = "sanction_buyer"


class MerchantMeasure(StrEnum):
    """What a ruling may impose on the merchant."""

    WARNING = "warning"
    SUSPENSION = "suspension"  # with days
    FINE = "fine"  # with an amount
    LEGAL_REFERRAL = "legal_referral"


class BuyerMeasure(StrEnum):
    """What a ruling may impose on the buyer or their complaint."""

    VOID_COMPLAINT = "void_complaint"
    REMOVE_REVIEW = "remove_review"
    BUYER_WARNING = "buyer_warning"
    BUYER_RESTRICTION = "buyer_restriction"  # with days
