"""Chat exports become messages, courier traces become events, and the dossier quotes them.

Fixtures are written in the exporters' own layouts (Qianniu copied records, WeChat exports of
MemoTrace and WechatExporter, WhatsApp, a plain `time | sender | text` table, Kuaidi100's
JSON, couriers' pasted traces). Each dossier signal has its near misses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from appeals import accounts, complaints
from appeals.accounts import SYSTEM
from appeals.dossier import build_dossier
from appeals.evidence_text import EvidenceText
from appeals.extortion import Line, extortion_lines
from appeals.models import ComplaintChannel, ComplaintType, EvidenceKind
from appeals.permissions import Role
from appeals.policies import DEFAULT_POLICIES
from evidence.chats import read_chat
from evidence.tracking import TrackState, read_trace
from tests.conftest import Clock

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

QIANNIU = """t******7 2026-11-20 14:22:10
在吗，这个有货吗
测试旗舰店:小美 2026-11-20 14:22:31
亲，有货的哦
[图片]
buyer-x 2026-11-25 9:05:00
不给我退款200元我就给差评，还要打12315
buyer-x 撤回了一条消息
测试旗舰店:小美 2026-11-25 9:06:00
亲，差评我们也没办法，不给差评的话我们可以补偿您5元
"""
WECHAT_MEMOTRACE = """2026-11-24 20:00:00 buyer-x
东西收到了

2026-11-24 20:00:05 老板
好的亲

2026-11-24 20:01:00 buyer-x
[图片]

"""
WECHAT_EXPORTER = "buyer-x (2026-11-24 21:00:10):赔我三倍的钱\n店主 (2026-11-24 21:01:00):不行\nbuyer-x (2026-11-24 21:02:00):那我就去曝光你们\n"
WHATSAPP = "11/24/26, 9:41 PM - Anna: refund me or I will leave a 1-star review\n11/24/26, 9:42 PM - Shop: <Media omitted>\n[24/11/2026, 21:43:05] Anna: This message was deleted\n"
PLAIN = "2026-11-24 10:00:00 | buyer-x | 你好\n2026-11-24 10:00:30 | 客服 | 您好\n"
TRACE = """顺丰速运 运单号：SF1234567890123
2026-11-20 10:30:56  顺丰速运 已收取快件
2026-11-21 11:01:03  快件运输中
2026-11-22 08:00:00 快件交给张师傅，正在派送途中
2026-11-22 18:40:00 已签收，签收人：本人，感谢使用顺丰
"""


def test_qianniu_copied_records_keep_speakers_times_recalls_and_placeholders() -> None:
    messages = read_chat(QIANNIU, ZONE)
    assert [m.speaker for m in messages] == ["t******7", "测试旗舰店:小美", "buyer-x", "buyer-x",
                                             "测试旗舰店:小美"]  # fmt: skip
    assert messages[1].self_side and not messages[0].self_side, "店铺:子账号 is the seller"
    assert messages[3].kind == "recalled" and messages[3].line == 8
    assert messages[2].at == datetime(2026, 11, 25, 1, 5, tzinfo=UTC)
    assert messages[1].text == "亲，有货的哦\n[图片]"


@pytest.mark.parametrize(
    ("text", "speakers", "kinds"),
    [
        (WECHAT_MEMOTRACE, ["buyer-x", "老板", "buyer-x"], ["text", "text", "placeholder"]),
        (WECHAT_EXPORTER, ["buyer-x", "店主", "buyer-x"], ["text"] * 3),
        (WHATSAPP, ["Anna", "Shop", "Anna"], ["text", "placeholder", "recalled"]),
        (PLAIN, ["buyer-x", "客服"], ["text", "text"]),
    ],
)
def test_chat_layouts_become_messages_in_time_order(
    text: str, speakers: list[str], kinds: list[str]
) -> None:
    messages = read_chat(text, ZONE)
    assert [m.speaker for m in messages] == speakers
    assert [m.kind for m in messages] == kinds
    times = [m.at for m in messages]
    assert all(times) and times == sorted(times)  # type: ignore[type-var]


def test_csv_exports_of_wechat_tools_mark_the_own_side() -> None:
    csv_text = (
        "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,"
        "NickName,Sender\n1,2,1,0,0,1,2,赔偿我,2026-11-24 10:00:00,,buyer-x,\n"
        "2,2,1,0,1,2,2,好的,2026-11-24 10:01:00,,,\n"
    )
    first, second = read_chat(csv_text, ZONE)
    assert (first.speaker, first.self_side, second.self_side) == ("buyer-x", False, True)


def test_a_courier_trace_becomes_events_with_states_and_the_signer() -> None:
    trace = read_trace(TRACE, ZONE)
    assert trace.waybills == ["SF1234567890123"]
    assert [e.state for e in trace.events] == [
        TrackState.COLLECTED, TrackState.IN_TRANSIT, TrackState.OUT_FOR_DELIVERY,
        TrackState.SIGNED,
    ]  # fmt: skip
    assert trace.events[-1].signer == "本人"


@pytest.mark.parametrize(
    ("line", "state"),
    [
        ("2026-11-22 09:12 快件已由杭州文一路菜鸟驿站代收,请及时取件", TrackState.AT_STATION),
        ("2026-11-22 09:12 【丰巢】凭取件码『12345678』至快递柜取件", TrackState.AT_STATION),
        ("2026-11-22 09:12 您的快递已签收, 签收人在【丰巢智能柜】领取", TrackState.SIGNED),
        ("2026-11-22 09:12 【杭州转运中心】已发出 下一站【杭州文一路】", TrackState.IN_TRANSIT),
        ("2026-11-22 09:12 中通快递 已揽收", TrackState.COLLECTED),
        ("2026-11-22 09:12 快件已退回，退回原因：拒收", TrackState.RETURNED),
        ("2026-11-22 09:12 派件异常，电话无人接听", TrackState.PROBLEM),
        ("2026-11-22 09:12 EMS 您的邮件已妥投", TrackState.SIGNED),
    ],
)
def test_trace_states_by_the_couriers_words(line: str, state: TrackState) -> None:
    (event,) = read_trace(line, ZONE).events
    assert event.state is state


def test_kuaidi100_json_and_date_lines_with_time_only_events() -> None:
    data = ('{"nu":"YT2234014274999","state":"3","data":[{"time":"2026-11-22 19:10:30",'
            '"context":"客户 签收人 : 本人签收 已签收"},{"time":"2026-11-21 10:33:25",'
            '"context":"北京七道堰 已发出,下一站 北京大学"}]}')  # fmt: skip
    trace = read_trace(data, ZONE)
    assert trace.waybills == ["YT2234014274999"]
    assert [e.state for e in trace.events] == [TrackState.IN_TRANSIT, TrackState.SIGNED]
    split = read_trace("2026-11-21\n10:12 【杭州】已发出\n11-22 18:00 已签收", ZONE, year=2026)
    assert [e.at for e in split.events] == [
        datetime(2026, 11, 21, 2, 12, tzinfo=UTC), datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    ]  # fmt: skip


def lines(*texts: str, source: str = "chat.txt") -> list[Line]:
    return [Line(source, 1, n, "buyer", None, text) for n, text in enumerate(texts, start=1)]


@pytest.mark.parametrize(
    ("texts", "found"),
    [
        (["不给我退款200元我就给差评"], 1),
        (["赔我三倍", "不然就曝光你"], 2),
        (["refund me or I will leave a 1-star review"], 1),
        (["不赔偿我就去12315投诉你们"], 1),
        # near misses: each has one half at most
        (["给个好评吧亲，好评返现5元"], 0),
        (["请问能退差价吗？"], 0),
        (["东西收到了，五星好评！"], 0),
        (["我要退款"], 0),
        (["我要给差评"], 0),
        (["I want a refund please"], 0),
        (["赔我三倍"], 0),
    ],
)
def test_extortion_needs_a_demand_tied_to_a_threat(texts: list[str], found: int) -> None:
    assert len(extortion_lines(lines(*texts))) == found


def test_a_complaint_that_says_it_complains_is_no_threat() -> None:
    assert extortion_lines(lines("已经投诉了，要求退款", source="complaint")) == []


@pytest.fixture
def shop_case(session: Session, clock: Clock):  # type: ignore[no-untyped-def]
    from appeals import passwords

    clock.move_to(NOW)
    passwords.use_profile("cheapest")
    shop = accounts.create_shop(session, SYSTEM, "Evidence Shop")
    owner = accounts.create_user(
        session, SYSTEM, email="e@x.example", role=Role.MERCHANT_OWNER,
        password="long password 1", shop=shop,
    )  # fmt: skip
    order = complaints.record_order(
        session, shop, number="E1", buyer_ref="buyer-x", items=[{"name": "耳机", "quantity": 12}],
        total_amount=Decimal("10"), ordered_at=NOW - timedelta(days=10),
        tracking_number="SF1234567890123",
    )  # fmt: skip

    def complaint(kind: ComplaintType, buyer: str = "buyer-x"):  # type: ignore[no-untyped-def]
        return complaints.record_complaint(
            session, shop, external_id=f"E-{kind.value}-{buyer}", type=kind,
            channel=ComplaintChannel.ONLINE, description="没收到货", buyer_ref=buyer,
            received_at=NOW - timedelta(days=2), order=order, policy=DEFAULT_POLICIES.deadlines,
        )  # fmt: skip

    return owner, complaint


def dossier_of(session: Session, owner, complaint, *texts: EvidenceText):  # type: ignore[no-untyped-def]
    found = build_dossier(
        session, owner, complaint.id, time_zone="Asia/Shanghai", evidence=list(texts)
    )
    return {signal.code: signal for signal in found.signals}


def test_the_dossier_quotes_the_buyers_extortion_lines_with_file_speaker_and_time(
    session: Session, shop_case
) -> None:  # type: ignore[no-untyped-def]
    owner, complaint = shop_case
    chat = EvidenceText(7, "千牛聊天.txt", EvidenceKind.CHAT_EXPORT, QIANNIU)
    signal = dossier_of(session, owner, complaint(ComplaintType.NOT_RECEIVED), chat)["extortion"]
    assert signal.level == "alert" and signal.params["count"] == 1
    (quote,) = signal.quotes
    assert quote == {
        "file": "千牛聊天.txt", "evidence_id": 7, "line": 7, "speaker": "buyer-x",
        "at": "2026-11-25T01:05:00+00:00", "text": "不给我退款200元我就给差评，还要打12315",
    }  # fmt: skip
    # The seller's own line (差评 ... 补偿) is never the buyer's extortion.
    assert not any("补偿您" in q["text"] for q in signal.quotes)


def test_an_ordinary_chat_finds_no_extortion(session: Session, shop_case) -> None:  # type: ignore[no-untyped-def]
    owner, complaint = shop_case
    chat = EvidenceText(8, "wechat.txt", EvidenceKind.CHAT_EXPORT, WECHAT_MEMOTRACE +
                        "2026-11-24 20:02:00 buyer-x\n给你五星好评，差价就不用退了\n")  # fmt: skip
    signal = dossier_of(session, owner, complaint(ComplaintType.NOT_RECEIVED), chat)["extortion"]
    assert signal.level == "info" and signal.quotes == []


def test_tracking_signed_before_a_not_received_complaint_contradicts_it(
    session: Session, shop_case
) -> None:  # type: ignore[no-untyped-def]
    owner, complaint = shop_case
    trace = EvidenceText(9, "顺丰轨迹.txt", EvidenceKind.LOGISTICS_TRACKING, TRACE)
    signal = dossier_of(session, owner, complaint(ComplaintType.NOT_RECEIVED), trace)["tracking"]
    assert signal.level == "alert" and signal.params["signer"] == "本人"
    assert signal.quotes[0]["line"] == 5 and signal.quotes[0]["file"] == "顺丰轨迹.txt"
    # The same trace on a quality complaint is a fact, not a contradiction.
    other = dossier_of(session, owner, complaint(ComplaintType.PRODUCT_QUALITY), trace)["tracking"]
    assert other.level == "info"


def test_a_trace_of_another_waybill_is_not_taken_as_the_orders(session: Session, shop_case) -> None:  # type: ignore[no-untyped-def]
    owner, complaint = shop_case
    trace = EvidenceText(9, "t.txt", EvidenceKind.LOGISTICS_TRACKING,
                         TRACE.replace("SF1234567890123", "SF9999999999999"))  # fmt: skip
    signal = dossier_of(session, owner, complaint(ComplaintType.NOT_RECEIVED), trace)["tracking"]
    assert signal.level == "warning" and signal.quotes == []


def test_bulk_buying_is_shown_with_its_numbers(session: Session, shop_case) -> None:  # type: ignore[no-untyped-def]
    owner, complaint = shop_case
    signal = dossier_of(session, owner, complaint(ComplaintType.NOT_RECEIVED))["bulk_buying"]
    assert signal.level == "warning" and signal.params["most"] == 12


def test_a_masked_buyer_name_is_never_an_identity(session: Session, shop_case) -> None:  # type: ignore[no-untyped-def]
    owner, complaint = shop_case
    signals = dossier_of(session, owner, complaint(ComplaintType.NOT_RECEIVED, "t**7"))
    assert "masked_buyer" in signals
    assert signals["complaint_history"].params["complaints"] == 1
