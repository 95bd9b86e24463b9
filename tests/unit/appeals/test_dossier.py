"""The dossier's figures on a hand-built history, as of the complaint, and their reproducibility.

The history is built with the clock at NOW, so that "recorded by" cutoffs mean the same on
any day the suite runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from appeals import accounts, complaints
from appeals.accounts import SYSTEM
from appeals.dossier import build_dossier
from appeals.models import ComplaintChannel, ComplaintType
from appeals.permissions import Role
from appeals.policies import DEFAULT_POLICIES
from tests.conftest import Clock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"


def build_history(session: Session):  # type: ignore[no-untyped-def]
    from appeals import passwords

    passwords.use_profile("cheapest")
    shop = accounts.create_shop(session, SYSTEM, "Dossier Shop")
    owner = accounts.create_user(
        session, SYSTEM, email="d@x.example", role=Role.MERCHANT_OWNER,
        password="long password 1", shop=shop,
    )  # fmt: skip

    def order(number: str, buyer: str, days_ago: float, **extra):  # type: ignore[no-untyped-def]
        return complaints.record_order(
            session, shop, number=number, buyer_ref=buyer, items=[],
            total_amount=Decimal("10"), ordered_at=NOW - timedelta(days=days_ago), **extra,
        )  # fmt: skip

    def complaint(eid: str, buyer: str, days_ago: float, linked=None, text="not as described"):  # type: ignore[no-untyped-def]
        return complaints.record_complaint(
            session, shop, external_id=eid, type=ComplaintType.NOT_AS_DESCRIBED,
            channel=ComplaintChannel.ONLINE, description=text, buyer_ref=buyer,
            received_at=NOW - timedelta(days=days_ago), order=linked,
            policy=DEFAULT_POLICIES.deadlines,
        )  # fmt: skip

    # 20 ordinary orders from 20 buyers and 1 complaint among them: the shop's baseline.
    for i in range(20):
        order(f"N{i}", f"good-{i}", 30)
    complaint("C-GOOD", "good-0", 20)
    # The suspect: 4 orders in 90 days, 2 refunded, 3 complaints, one order shared a phone
    # with a second account that complained too. One order from 200 days ago is outside.
    suspect_orders = [
        order(
            "S1", "suspect", 60, refunded_at=NOW - timedelta(days=55), contact_fingerprint="f" * 32
        ),
        order("S2", "suspect", 40, refunded_at=NOW - timedelta(days=35)),
        order("S3", "suspect", 20),
        order(
            "S4",
            "suspect",
            10,
            delivered_at=NOW - timedelta(days=8),
            confirmed_at=NOW - timedelta(days=7),
        ),
        order("S-OLD", "suspect", 200),
    ]
    order("ALT1", "suspect-alt", 30, contact_fingerprint="f" * 32)
    complaint("C-ALT", "suspect-alt", 25)
    complaint("C-S1", "suspect", 50, suspect_orders[0])
    complaint("C-S2", "suspect", 30, suspect_orders[1])
    target = complaint(
        "C-S4", "suspect", 2, suspect_orders[3], text="不退款就给差评, or I will leave a bad review"
    )
    return owner, target


def test_dossier_figures_on_a_hand_built_history(session: Session, clock: Clock) -> None:
    clock.move_to(NOW)
    owner, target = build_history(session)
    dossier = build_dossier(session, owner, target.id, time_zone=TZ, known_at=NOW)
    signals = {signal.code: signal for signal in dossier.signals}

    history = signals["complaint_history"].params
    # 3 complaints on 4 orders = 75 %; the shop: 5 complaints on 25 orders in 90 days = 20 %.
    assert (history["complaints"], history["orders"], history["rate"]) == (3, 4, "75%")
    assert history["shop_rate"] == "20.0%" and history["ratio"] == "3.8"
    assert signals["complaint_history"].level == "alert"

    refunds = signals["refund_history"].params
    assert (refunds["refunds"], refunds["rate"], refunds["shop_rate"]) == (2, "50%", "8.0%")

    assert signals["after_confirmation"].level == "warning"
    assert signals["delivery_gap"].params == {"days": "6.0"}
    shared = signals["shared_fingerprints"].params
    assert (shared["buyers"], shared["complaints"], shared["accounts"]) == (1, 1, ["suspect-alt"])
    assert signals["shared_fingerprints"].level == "alert"
    extortion = signals["extortion"]
    assert extortion.level == "alert" and extortion.params["count"] == 1
    (quote,) = extortion.quotes
    assert quote["file"] == "complaint" and quote["speaker"] == "suspect"
    assert (
        quote["text"].startswith("不退款就给差评") and quote["at"] == target.received_at.isoformat()
    )


def test_dossier_is_reproducible_and_records_its_inputs(session: Session, clock: Clock) -> None:
    clock.move_to(NOW)
    owner, target = build_history(session)
    first = build_dossier(session, owner, target.id, time_zone=TZ, known_at=NOW)
    second = build_dossier(session, owner, target.id, time_zone=TZ, known_at=NOW)
    assert first.digest == second.digest
    assert first.to_json()["algorithm"] == "dossier/4"
    assert first.to_json()["as_of"] == target.received_at.isoformat(), "as of the complaint"
    assert len(first.inputs["orders"]) == 5 and len(first.inputs["complaints"]) == 3
    later = build_dossier(
        session, owner, target.id, time_zone=TZ, known_at=NOW + timedelta(days=60)
    )
    assert later.digest != first.digest


def test_history_imported_long_after_it_happened_counts_as_of_the_complaint(
    session: Session, clock: Clock
) -> None:
    """Last year's orders and complaint, imported a year later, read as they stood then."""
    clock.move_to(NOW + timedelta(days=365))
    owner, target = build_history(session)
    dossier = build_dossier(
        session, owner, target.id, time_zone=TZ, known_at=NOW + timedelta(days=366)
    )
    signals = {signal.code: signal for signal in dossier.signals}
    history = signals["complaint_history"].params
    assert (history["complaints"], history["orders"], history["shop_rate"]) == (3, 4, "20.0%")
    assert signals["refund_history"].params["refunds"] == 2
    assert signals["shared_fingerprints"].params["accounts"] == ["suspect-alt"]


def test_rows_recorded_after_the_submission_stay_out_of_its_dossier(
    session: Session, clock: Clock
) -> None:
    clock.move_to(NOW)
    owner, target = build_history(session)
    clock.shift(timedelta(days=3))
    complaints.record_order(
        session, owner.shop, number="S-LATE", buyer_ref="suspect", items=[],
        total_amount=Decimal("10"), ordered_at=NOW - timedelta(days=15),
    )  # fmt: skip
    frozen = build_dossier(
        session, owner, target.id, time_zone=TZ, known_at=NOW + timedelta(days=1)
    )
    today = build_dossier(session, owner, target.id, time_zone=TZ)
    assert len(frozen.inputs["orders"]) == 5 and len(today.inputs["orders"]) == 6
    orders = {s.code: s for s in today.signals}["complaint_history"].params["orders"]
    assert orders == 5, "an order placed before the complaint counts once it is known"


def test_orders_and_complaints_after_the_complaint_do_not_count(
    session: Session, clock: Clock
) -> None:
    clock.move_to(NOW)
    owner, target = build_history(session)
    complaints.record_order(
        session, owner.shop, number="S-AFTER", buyer_ref="suspect", items=[],
        total_amount=Decimal("10"), ordered_at=NOW - timedelta(days=1),
    )  # fmt: skip
    complaints.record_complaint(
        session, owner.shop, external_id="C-AFTER", type=ComplaintType.OTHER,
        channel=ComplaintChannel.ONLINE, description="x", buyer_ref="suspect",
        received_at=NOW - timedelta(days=1), policy=DEFAULT_POLICIES.deadlines,
    )  # fmt: skip
    dossier = build_dossier(session, owner, target.id, time_zone=TZ)
    history = {s.code: s for s in dossier.signals}["complaint_history"].params
    assert (history["complaints"], history["orders"]) == (3, 4)
