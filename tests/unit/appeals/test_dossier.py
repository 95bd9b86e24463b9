"""The dossier's figures on a hand-built history, and their reproducibility."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from appeals import accounts, complaints
from appeals.accounts import SYSTEM
from appeals.dossier import build_dossier, find_phrases
from appeals.models import ComplaintChannel, ComplaintType
from appeals.permissions import Role

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


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


def test_dossier_figures_on_a_hand_built_history(session: Session) -> None:
    owner, target = build_history(session)
    dossier = build_dossier(session, owner, target.id, as_of=NOW)
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
    assert set(signals["extortion_phrases"].params["phrases"].split("、")) == {
        "不退款就", "差评", "bad review", "or i will",
    }  # fmt: skip


def test_dossier_is_reproducible_and_records_its_inputs(session: Session) -> None:
    owner, target = build_history(session)
    first = build_dossier(session, owner, target.id, as_of=NOW)
    second = build_dossier(session, owner, target.id, as_of=NOW)
    assert first.digest == second.digest
    assert first.to_json()["algorithm"] == "dossier/1"
    assert len(first.inputs["orders"]) == 5 and len(first.inputs["complaints"]) == 3
    later = build_dossier(session, owner, target.id, as_of=NOW + timedelta(days=60))
    assert later.digest != first.digest


def test_phrase_lists_cover_both_languages() -> None:
    assert find_phrases("给你差评") == ["差评"]
    assert find_phrases("I will go to the media about this") == ["go to the media"]
    assert find_phrases("parcel arrived late") == []
