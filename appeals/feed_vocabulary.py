"""The words platforms use in their complaint feeds, read as this portal's vocabulary.

A feed may send our values (`not_received`) or the platform's own words (未收到货, 物流轨迹异常,
在线客服, 12315). Words are compared after width normalisation, trimming and case folding;
an exact word wins over a word found inside a longer phrase (商品质量问题 → product quality).
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import TypeVar

from appeals.models import ComplaintChannel, ComplaintType

TYPE_WORDS: dict[ComplaintType, tuple[str, ...]] = {
    ComplaintType.COUNTERFEIT: ("假冒", "假冒伪劣", "假货", "假冒商品", "售假", "盗版",
                                "counterfeit", "fake"),
    ComplaintType.NOT_RECEIVED: ("未收到货", "未收到商品", "没收到货", "未收货", "物流问题",
                                 "物流轨迹异常", "丢件", "快递丢失", "not received",
                                 "item not received", "lost in transit"),
    ComplaintType.LATE_SHIPMENT: ("延迟发货", "发货慢", "超时发货", "未按约定时间发货", "缺货",
                                  "虚假发货", "发货问题", "未发货",
                                  "late shipment", "late dispatch", "delayed shipment"),
    ComplaintType.NOT_AS_DESCRIBED: ("描述不符", "与描述不符", "货不对板", "发错货", "卖家发错货",
                                     "错发", "少发", "漏发", "少发漏发", "少件", "尺码问题",
                                     "not as described", "wrong item", "missing item"),
    ComplaintType.PRODUCT_QUALITY: ("商品质量", "质量问题", "商品质量问题", "商品损坏", "商品破损",
                                    "运输损坏", "破损", "做工", "quality", "defective",
                                    "damaged"),
    ComplaintType.SERVICE_ATTITUDE: ("服务态度", "客服态度", "态度恶劣", "骚扰", "服务问题",
                                     "service", "rude", "service attitude"),
    ComplaintType.OTHER: ("其他", "其它", "承诺未履行", "other"),
}  # fmt: skip
CHANNEL_WORDS: dict[ComplaintChannel, tuple[str, ...]] = {
    ComplaintChannel.HOTLINE: ("热线", "电话", "客服热线", "客服电话", "12315", "400热线",
                               "hotline", "phone", "telephone", "call"),
    ComplaintChannel.EMAIL: ("邮件", "邮箱", "电子邮件", "官方邮箱", "客服邮箱", "email",
                             "e-mail", "mail"),
    ComplaintChannel.ONLINE: ("在线", "在线客服", "在线投诉", "在线反馈", "网页", "网站", "app",
                              "im", "小程序", "客户端", "online", "web", "chat"),
}  # fmt: skip

E = TypeVar("E", bound=StrEnum)


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-/·.()（）\[\]【】]+", "", unicodedata.normalize("NFKC", text)).casefold()


def read_word(text: str, enum: type[E], words: dict[E, tuple[str, ...]]) -> E | None:
    """Our value, or the value a platform's word stands for; None when nothing fits."""
    value = unicodedata.normalize("NFKC", text).strip().casefold()
    for member in enum:
        if value == member.value:
            return member
    key = _norm(text)
    if not key:
        return None
    for member, spellings in words.items():
        if key in {_norm(word) for word in spellings}:
            return member
    # Within a longer phrase: the longest word found decides (商品质量问题 over 问题).
    found = [
        (len(_norm(word)), member)
        for member, spellings in words.items()
        for word in spellings
        if len(_norm(word)) >= 2 and _norm(word) in key
    ]
    return max(found, key=lambda pair: pair[0])[1] if found else None


def complaint_type(text: str) -> ComplaintType | None:
    return read_word(text, ComplaintType, TYPE_WORDS)


def complaint_channel(text: str) -> ComplaintChannel | None:
    return read_word(text, ComplaintChannel, CHANNEL_WORDS)
