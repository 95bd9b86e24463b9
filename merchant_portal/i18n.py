"""Language and time zone of the viewer, and how dates, deadlines and labels are shown."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from babel.lists import format_list
from flask import Flask, request, session
from flask_babel import (
    force_locale,
    format_timedelta,
    get_locale,
    get_timezone,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_login import current_user

from appeals.accounts import SUPPORTED_LOCALES
from appeals.clock import utcnow
from appeals.deadlines import DeadlineState, deadline_state
from appeals.models import (
    AppealState,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintType,
    EvidenceKind,
    MaliciousCategory,
    Outcome,
    Provenance,
    ReadingState,
)
from appeals.permissions import Role
from appeals.platforms import OrderState, Platform
from appeals.rebuttal import row_label
from appeals.vocabulary import BuyerMeasure, MerchantMeasure, Remedy
from evidence.cells import is_masked
from evidence.intake import CSV, PDF, TEXT, XLSX
from merchant_portal.context import policies

LANGUAGE_NAMES = {"zh_Hans_CN": "中文", "en": "English"}
SESSION_LOCALE = "locale"

ROLE_LABELS = {
    Role.MERCHANT_OWNER: lazy_gettext("Merchant owner"),
    Role.MERCHANT_STAFF: lazy_gettext("Merchant staff"),
    Role.REVIEWER: lazy_gettext("Reviewer"),
    Role.SENIOR_REVIEWER: lazy_gettext("Senior reviewer"),
    Role.ADMIN: lazy_gettext("Platform admin"),
    Role.PLATFORM: lazy_gettext("Platform integration"),
}
COMPLAINT_TYPE_LABELS = {
    ComplaintType.PRODUCT_QUALITY: lazy_gettext("Product quality"),
    ComplaintType.NOT_AS_DESCRIBED: lazy_gettext("Not as described"),
    ComplaintType.NOT_RECEIVED: lazy_gettext("Not received"),
    ComplaintType.SERVICE_ATTITUDE: lazy_gettext("Service attitude"),
    ComplaintType.LATE_SHIPMENT: lazy_gettext("Late shipment"),
    ComplaintType.COUNTERFEIT: lazy_gettext("Counterfeit"),
    ComplaintType.OTHER: lazy_gettext("Other"),
}
CHANNEL_LABELS = {
    ComplaintChannel.ONLINE: lazy_gettext("Online form"),
    ComplaintChannel.HOTLINE: lazy_gettext("Hotline"),
    ComplaintChannel.EMAIL: lazy_gettext("Email"),
}
STATUS_LABELS = {
    ComplaintStatus.OPEN: lazy_gettext("Open"),
    ComplaintStatus.APPEALED: lazy_gettext("Appealed"),
    ComplaintStatus.CLOSED: lazy_gettext("Closed"),
}
MALICIOUS_LABELS = {
    MaliciousCategory.RETURN_ABUSE: lazy_gettext("Return abuse"),
    MaliciousCategory.EXTORTION: lazy_gettext("Malicious review or extortion"),
    MaliciousCategory.FAKE_TRANSACTION: lazy_gettext("Fake transaction"),
    MaliciousCategory.PROFESSIONAL_CLAIMANT: lazy_gettext("Professional claimant"),
    MaliciousCategory.COMPETITOR_SABOTAGE: lazy_gettext("Competitor sabotage"),
    MaliciousCategory.OTHER: lazy_gettext("Other"),
}
EVIDENCE_KIND_LABELS = {
    EvidenceKind.SHIPPING_RECEIPT: lazy_gettext("Shipping receipt"),
    EvidenceKind.LOGISTICS_TRACKING: lazy_gettext("Logistics tracking"),
    EvidenceKind.DELIVERY_PROOF: lazy_gettext("Delivery proof"),
    EvidenceKind.CHAT_SCREENSHOT: lazy_gettext("Chat screenshot"),
    EvidenceKind.CHAT_EXPORT: lazy_gettext("Chat export"),
    EvidenceKind.ORDER_HISTORY: lazy_gettext("Order history"),
    EvidenceKind.PRODUCT_PHOTO: lazy_gettext("Product photo"),
    EvidenceKind.PAYMENT_RECORD: lazy_gettext("Payment record"),
    EvidenceKind.REVIEW_CAPTURE: lazy_gettext("Review capture"),
    EvidenceKind.OTHER: lazy_gettext("Other"),
}
PROVENANCE_LABELS = {
    Provenance.PLATFORM_NATIVE: lazy_gettext("Platform record"),
    Provenance.MERCHANT_UPLOADED: lazy_gettext("Uploaded by the shop"),
}
READING_LABELS = {
    ReadingState.QUEUED: lazy_gettext("Waiting to be read"),
    ReadingState.READING: lazy_gettext("Reading the text…"),
    ReadingState.DONE: lazy_gettext("Text read"),
    ReadingState.FAILED: lazy_gettext("The text could not be read; the file is kept as it is"),
}
REMEDY_LABELS = {
    Remedy.VOID_COMPLAINT: lazy_gettext("Void the complaint"),
    Remedy.REMOVE_REVIEW: lazy_gettext("Remove the review"),
    Remedy.RESTORE_POINTS: lazy_gettext("Restore the rating and penalty points"),
    Remedy.SANCTION_BUYER: lazy_gettext("Sanction the buyer"),
}
APPEAL_STATE_LABELS = {
    AppealState.DRAFT: lazy_gettext("Draft"),
    AppealState.SUBMITTED: lazy_gettext("Submitted"),
    AppealState.IN_REVIEW: lazy_gettext("In review"),
    AppealState.INFO_REQUESTED: lazy_gettext("Information requested"),
    AppealState.DECIDED: lazy_gettext("Decided"),
    AppealState.SECOND_REVIEW: lazy_gettext("Second review"),
    AppealState.FINAL: lazy_gettext("Final"),
    AppealState.WITHDRAWN: lazy_gettext("Withdrawn"),
    AppealState.EXPIRED: lazy_gettext("Expired"),
}
CHECKLIST_LABELS = {
    "delivery_proof": lazy_gettext("Proof of delivery or logistics tracking"),
    "product_condition": lazy_gettext("Photos of the product's condition"),
    "chat": lazy_gettext("The chat with the buyer"),
    "review": lazy_gettext("A capture of the review"),
    "order_history": lazy_gettext("The buyer's order history"),
    "payment": lazy_gettext("A payment record"),
    "logistics": lazy_gettext("A shipping receipt or tracking"),
    "any_evidence": lazy_gettext("At least one exhibit"),
    "category": lazy_gettext("Why the complaint is malicious"),
    "statement": lazy_gettext("A statement of facts (20 characters or more)"),
    "remedies": lazy_gettext("At least one remedy"),
    "rows": lazy_gettext("At least one answered allegation"),
    "within_limits": lazy_gettext("Within the platform's limits (see the bundle budget)"),
}
OUTCOME_LABELS = {
    Outcome.UPHELD: lazy_gettext("Upheld"),
    Outcome.PARTIALLY_UPHELD: lazy_gettext("Partially upheld"),
    Outcome.REJECTED: lazy_gettext("Rejected"),
}
MERCHANT_MEASURE_LABELS = {
    MerchantMeasure.WARNING: lazy_gettext("Warning"),
    MerchantMeasure.SUSPENSION: lazy_gettext("Suspension"),
    MerchantMeasure.FINE: lazy_gettext("Fine"),
    MerchantMeasure.LEGAL_REFERRAL: lazy_gettext("Referral for legal action"),
}
BUYER_MEASURE_LABELS = {
    BuyerMeasure.VOID_COMPLAINT: lazy_gettext("Complaint voided"),
    BuyerMeasure.REMOVE_REVIEW: lazy_gettext("Review removed"),
    BuyerMeasure.BUYER_WARNING: lazy_gettext("Warning to the buyer"),
    BuyerMeasure.BUYER_RESTRICTION: lazy_gettext("Buyer account restricted"),
}
# A measure kind names one measure on either side: the two tables never share a value.
MEASURE_LABELS = {**MERCHANT_MEASURE_LABELS, **BUYER_MEASURE_LABELS}
NOTIFICATION_LABELS = {
    "submitted": lazy_gettext("Appeal %(number)s was received by the platform."),
    "info_requested": lazy_gettext("The reviewer of %(number)s asks for more information."),
    "info_answered": lazy_gettext("The shop answered your question on %(number)s."),
    "ruled": lazy_gettext("Appeal %(number)s has a ruling."),
    "second_instance": lazy_gettext(
        "Appeal %(number)s was appealed again and waits for a senior reviewer."
    ),
    "final": lazy_gettext("The ruling on %(number)s is final."),
    "expired": lazy_gettext("The draft appeal %(number)s expired: its deadline passed."),
    "deadline_soon": lazy_gettext("Less than 24 hours left on %(number)s."),
    "bundle_incomplete": lazy_gettext(
        "Some exhibits of %(number)s could not be included in its bundle; each has a page "
        "saying so. Replace those files and submit them with your next answer."
    ),
    "answer_due_soon": lazy_gettext(
        "Less than 24 hours left to answer the reviewer's question on %(number)s; after that "
        "the reviewer may rule on what is on record."
    ),
    "window_closing": lazy_gettext("Less than 24 hours left to appeal %(number)s again."),
}
DEADLINE_LABELS = {
    DeadlineState.AMPLE: lazy_gettext("Plenty of time"),
    DeadlineState.UNDER_5_DAYS: lazy_gettext("Under 5 days"),
    DeadlineState.UNDER_24_HOURS: lazy_gettext("Under 24 hours"),
    DeadlineState.PAST_DUE: lazy_gettext("Past due"),
}


IMPORT_FIELD_LABELS = {
    "number": lazy_gettext("Order number"),
    "buyer_ref": lazy_gettext("Buyer"),
    "receiver": lazy_gettext("Receiver"),
    "phone": lazy_gettext("Phone"),
    "address": lazy_gettext("Address"),
    "status": lazy_gettext("Order status"),
    "total_amount": lazy_gettext("Amount paid"),
    "postage": lazy_gettext("Postage"),
    "currency": lazy_gettext("Currency"),
    "ordered_at": lazy_gettext("Order time"),
    "paid_at": lazy_gettext("Payment time"),
    "shipped_at": lazy_gettext("Shipping time"),
    "delivered_at": lazy_gettext("Delivery time"),
    "confirmed_at": lazy_gettext("Receipt confirmed"),
    "completed_at": lazy_gettext("Completion time"),
    "refunded_at": lazy_gettext("Refund time"),
    "carrier": lazy_gettext("Carrier"),
    "tracking_number": lazy_gettext("Tracking number"),
    "tracking_info": lazy_gettext("Carrier and tracking number"),
    "refund_amount": lazy_gettext("Refund amount"),
    "buyer_message": lazy_gettext("Buyer message"),
    "seller_note": lazy_gettext("Seller note"),
    "shop": lazy_gettext("Shop"),
    "line_id": lazy_gettext("Sub-order number"),
    "item": lazy_gettext("Item"),
    "sku": lazy_gettext("Item variant"),
    "quantity": lazy_gettext("Quantity"),
    "unit_price": lazy_gettext("Unit price"),
    "line_amount": lazy_gettext("Line amount"),
    "line_postage": lazy_gettext("Line postage"),
    "line_refund": lazy_gettext("Line refund"),
    "province": lazy_gettext("Province"),
    "city": lazy_gettext("City"),
    "district": lazy_gettext("District"),
    "street": lazy_gettext("Street"),
    "address_detail": lazy_gettext("Street address"),
    "postcode": lazy_gettext("Postcode"),
    "country": lazy_gettext("Country"),
}
ORDER_STATE_LABELS = {
    OrderState.AWAITING_PAYMENT: lazy_gettext("awaiting payment"),
    OrderState.PAID: lazy_gettext("paid, not shipped"),
    OrderState.SHIPPED: lazy_gettext("shipped"),
    OrderState.DELIVERED: lazy_gettext("delivered"),
    OrderState.COMPLETED: lazy_gettext("completed"),
    OrderState.REFUNDED: lazy_gettext("refunded"),
    OrderState.CANCELLED: lazy_gettext("cancelled"),
    OrderState.UNKNOWN: lazy_gettext("unknown"),
}
PLATFORM_LABELS = {
    Platform.TAOBAO: lazy_gettext("Taobao / Tmall order report"),
    Platform.TAOBAO_ITEMS: lazy_gettext("Taobao / Tmall item report"),
    Platform.QIANNIU: lazy_gettext("Taobao / Tmall sub-order export (Qianniu)"),
    Platform.JD: lazy_gettext("JD POP order export"),
    Platform.PINDUODUO: lazy_gettext("Pinduoduo order export"),
    Platform.DOUYIN: lazy_gettext("Douyin shop order export"),
    Platform.SHOPIFY: lazy_gettext("Shopify order export"),
    Platform.AMAZON: lazy_gettext("Amazon All Orders report"),
    Platform.GENERIC: lazy_gettext("Order table"),
}
# What a merchant calls a file: never its media type ("image/jpeg").
MEDIA_TYPE_LABELS = {
    "image/png": lazy_gettext("PNG picture"),
    "image/jpeg": lazy_gettext("JPEG picture"),
    "image/webp": lazy_gettext("WebP picture"),
    "image/heic": lazy_gettext("HEIC photo"),
    "image/heif": lazy_gettext("HEIC photo"),
    PDF: lazy_gettext("PDF document"),
    XLSX: lazy_gettext("Excel workbook"),
    CSV: lazy_gettext("CSV table"),
    TEXT: lazy_gettext("Text file"),
}


def file_type(media_type: str | None) -> str:
    """A file's type in words: 'JPEG picture', 'PDF document'."""
    found = MEDIA_TYPE_LABELS.get(media_type or "")
    return str(found) if found is not None else gettext("File")


FILE_BADGES = {PDF: "PDF", XLSX: "XLSX", CSV: "CSV", TEXT: "TXT", "image/jpeg": "JPG"}


def file_badge(media_type: str) -> str:
    """The few letters drawn on a file's tile: the name people know its format by."""
    return FILE_BADGES.get(media_type) or media_type.rpartition("/")[2][:4].upper()


def join_list(values: Iterable[object]) -> str:
    """Items joined as the viewer's language lists them: 'A, B, and C' or 'A、B和C'."""
    items = [str(value) for value in values if value is not None and str(value) != ""]
    return format_list(items, locale=get_locale() or "en") if items else ""


def select_locale() -> str:
    """The user's setting, then the header switcher's choice, then Accept-Language."""
    if current_user.is_authenticated and current_user.locale:
        return str(current_user.locale)
    chosen = session.get(SESSION_LOCALE)
    if chosen in SUPPORTED_LOCALES:
        return str(chosen)
    best = request.accept_languages.best_match(["zh_Hans_CN", "zh", "zh-CN", "en"])
    if best and best.lower().startswith("zh"):
        return "zh_Hans_CN"
    return "en"


def select_timezone() -> str:
    """The user's time zone, or the platform default for visitors."""
    if current_user.is_authenticated:
        return str(current_user.time_zone)
    return policies().time_zone


def when(value: datetime | str | None, now: datetime | None = None) -> str:
    """An absolute time in the viewer's zone with a hint: '2026-12-03 18:00 (in 2 days)'.

    Takes a datetime or the ISO 8601 text a frozen dossier keeps.
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value is None:
        return "—"
    # Digits only, the same in both languages: strftime in the viewer's zone is the
    # pattern Babel would format, at a quarter of the cost (a list page shows 50).
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    absolute = aware.astimezone(get_timezone()).strftime("%Y-%m-%d %H:%M")
    relative = format_timedelta(value - (now or utcnow()), threshold=1.1, add_direction=True)
    return f"{absolute} ({relative})"


def deadline(value: datetime) -> DeadlineState:
    """The visible state of a deadline right now."""
    return deadline_state(value, utcnow())


# Every vocabulary the portal shows, with its labels: a test holds each complete and
# translated. Tables are kept apart because values repeat across vocabularies ("other").
VOCABULARY: list[tuple[type[StrEnum], Mapping[Any, Any]]] = [
    (Role, ROLE_LABELS),
    (ComplaintType, COMPLAINT_TYPE_LABELS),
    (ComplaintChannel, CHANNEL_LABELS),
    (DeadlineState, DEADLINE_LABELS),
    (ComplaintStatus, STATUS_LABELS),
    (MaliciousCategory, MALICIOUS_LABELS),
    (EvidenceKind, EVIDENCE_KIND_LABELS),
    (Provenance, PROVENANCE_LABELS),
    (ReadingState, READING_LABELS),
    (AppealState, APPEAL_STATE_LABELS),
    (Outcome, OUTCOME_LABELS),
    (Remedy, REMEDY_LABELS),
    (MerchantMeasure, MERCHANT_MEASURE_LABELS),
    (BuyerMeasure, BUYER_MEASURE_LABELS),
]


_OWN_TABLE: dict[type, Mapping[Any, Any]] = dict(VOCABULARY)


def label(value: object) -> str:
    """The translated label of a value of one of the vocabularies (its own enum first)."""
    own = _OWN_TABLE.get(type(value))
    if own is not None and value in own:
        return str(own[value])
    for _enum, table in VOCABULARY:
        if value in table:
            return str(table[value])
    return str(value)


def notification_text(note: object) -> str:
    """A notification as a sentence in the viewer's language."""
    kind = getattr(note, "kind", "")
    params = {"number": "", **(getattr(note, "params", None) or {})}
    template = NOTIFICATION_LABELS.get(kind)
    if template is None:
        return str(kind)
    return str(template) % {"number": params["number"]}


def signal_text(code: str, message: str, params: Mapping[str, Any]) -> str:
    """A dossier signal's sentence in the viewer's language, each count in its plural form.

    The dossier records its message id and numbers (its digest rests on them); the words
    are chosen here, for the portal and the bundle alike."""
    compose = _SIGNAL_SENTENCES.get(code)
    if compose is not None:
        sentence = compose(params)
        if sentence is not None:
            return sentence
    return str(gettext(message, **params))


def _complaint_history(p: Mapping[str, Any]) -> str:
    return str(
        gettext(
            "%(complaints)s in the last 90 days on %(orders)s (%(rate)s); your shop's rate is "
            "%(shop_rate)s, so this buyer complains %(ratio)s times as often.",
            complaints=ngettext("%(num)d complaint", "%(num)d complaints", p["complaints"]),
            orders=ngettext("%(num)d order", "%(num)d orders", p["orders"]),
            rate=p["rate"],
            shop_rate=p["shop_rate"],
            ratio=p["ratio"],
        )
    )


def _refund_history(p: Mapping[str, Any]) -> str:
    return str(
        ngettext(
            "%(num)d refund in the last 90 days (%(rate)s of this buyer's orders); your shop "
            "refunds %(shop_rate)s of orders.",
            "%(num)d refunds in the last 90 days (%(rate)s of this buyer's orders); your shop "
            "refunds %(shop_rate)s of orders.",
            p["refunds"],
            rate=p["rate"],
            shop_rate=p["shop_rate"],
        )
    )


def _shared_fingerprints(p: Mapping[str, Any]) -> str:
    if not p["buyers"]:
        return str(gettext("No other buyer account shares this buyer's phone or address."))
    return str(
        ngettext(
            "%(num)d other buyer account shares this buyer's phone or address; it filed "
            "%(complaints)s.",
            "%(num)d other buyer accounts share this buyer's phone or address; they filed "
            "%(complaints)s.",
            p["buyers"],
            complaints=ngettext("%(num)d complaint", "%(num)d complaints", p["complaints"]),
        )
    )


def _extortion(p: Mapping[str, Any]) -> str:
    if p["count"]:
        return str(
            ngettext(
                "%(num)d of the buyer's messages ties a demand for money to a threat.",
                "%(num)d of the buyer's messages tie a demand for money to a threat.",
                p["count"],
            )
        )
    if not p["files"]:
        return str(gettext("No demand tied to a threat in the complaint; no chat file was read."))
    return str(
        ngettext(
            "No demand tied to a threat in the complaint or the buyer's lines of %(num)d chat "
            "file.",
            "No demand tied to a threat in the complaint or the buyer's lines of %(num)d chat "
            "files.",
            p["files"],
        )
    )


def _chat_mentions(p: Mapping[str, Any]) -> str:
    return str(
        gettext(
            "The buyer's messages mention %(orders)s (%(others)d not this complaint's) and "
            "offer %(phones)s.",
            orders=ngettext("%(num)d order number", "%(num)d order numbers", p["orders"]),
            others=p["others"],
            phones=ngettext("%(num)d phone number", "%(num)d phone numbers", p["phones"]),
        )
    )


def _bulk_buying(p: Mapping[str, Any]) -> str:
    return str(
        gettext(
            "In the last 90 days this buyer bought at most %(most)d of one item in an order, "
            "and the same item in %(orders)s (%(item)s).",
            most=p["most"],
            item=p["item"],
            orders=ngettext("%(num)d order", "%(num)d orders", p["repeat"]),
        )
    )


_SIGNAL_SENTENCES: dict[str, Callable[[Mapping[str, Any]], str | None]] = {
    "complaint_history": _complaint_history,
    "refund_history": _refund_history,
    "shared_fingerprints": _shared_fingerprints,
    "extortion": _extortion,
    "chat_mentions": _chat_mentions,
    "bulk_buying": _bulk_buying,
}


def html_lang() -> str:
    """The BCP 47 tag of the page's language, for <html lang>."""
    locale = get_locale()
    return "zh-Hans" if locale is not None and locale.language == "zh" else "en"


def init_app(app: Flask) -> None:
    """Expose the helpers to templates."""
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["row_label"] = row_label
    app.jinja_env.filters["deadline_state"] = deadline
    app.jinja_env.filters["checklist"] = lambda name: str(
        CHECKLIST_LABELS.get(name.removeprefix("evidence:"), name)
    )
    app.jinja_env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)
    app.jinja_env.filters["remedy"] = lambda name: str(REMEDY_LABELS.get(name, name))
    app.jinja_env.filters["import_field"] = lambda name: str(IMPORT_FIELD_LABELS.get(name, name))
    app.jinja_env.filters["platform"] = lambda name: str(PLATFORM_LABELS.get(name, name))
    app.jinja_env.filters["order_state"] = lambda name: str(ORDER_STATE_LABELS.get(name, name))
    app.jinja_env.tests["masked"] = is_masked
    app.jinja_env.filters["measure"] = lambda name: str(MEASURE_LABELS.get(name, name))
    app.jinja_env.filters["notification"] = notification_text
    app.jinja_env.filters["signal_text"] = lambda signal: signal_text(
        signal.code, signal.message, signal.params
    )
    app.jinja_env.filters["isotime"] = datetime.fromisoformat
    app.jinja_env.filters["join_list"] = join_list
    app.jinja_env.filters["file_type"] = file_type
    app.jinja_env.filters["file_badge"] = file_badge
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        SUPPORTED_LOCALES=SUPPORTED_LOCALES,
        tz_name=lambda: str(get_timezone()),
        get_locale=get_locale,
        html_lang=html_lang,
    )


class PortalWording:
    """The portal's own translations, English and Chinese, for the bundle's text."""

    def text(self, msgid: str, **params: Any) -> tuple[str, str]:
        return self._both(lambda: gettext(msgid, **params))

    def label(self, value: str) -> tuple[str, str]:
        return self._both(lambda: label(value))

    def plural(self, singular: str, plural: str, num: int, **params: Any) -> tuple[str, str]:
        return self._both(lambda: ngettext(singular, plural, num, **params))

    def signal(self, code: str, message: str, params: Mapping[str, Any]) -> tuple[str, str]:
        return self._both(lambda: signal_text(code, message, params))

    @staticmethod
    def _both(produce: Any) -> tuple[str, str]:
        with force_locale("en"):
            english = str(produce())
        with force_locale("zh_Hans_CN"):
            chinese = str(produce())
        return english, chinese
