"""The order exports sellers download from their platforms, recognised by their headers.

Each layout is one table of header spellings per order field, as the platform writes them
(learnt from the column lists that public importers of these files document). Headers are
compared after width normalisation (full-width brackets and digits), trimming and case
folding, so `商家实收金额（元）` and `商家实收金额(元)` are one header.

A field may have several columns, in order of preference: the first non-empty cell wins
(Taobao's 联系手机 before 联系电话). Address parts (省, 市, 区, 街道, 详细地址) are joined
when the file has no full address. Amounts the platform writes once per order and
repeats on each item row (JD's 订单金额, Shopify's Total on the first line) are taken
once per order; amounts written per line (Amazon's item-price) are summed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

# The fields an export can fill, each once per order unless listed in LINE_FIELDS.
ORDER_FIELDS = (
    "number", "buyer_ref", "receiver", "phone", "address", "status", "total_amount",
    "postage", "currency", "ordered_at", "paid_at", "shipped_at", "delivered_at",
    "confirmed_at", "completed_at", "refunded_at", "carrier", "tracking_number",
    "tracking_info", "refund_amount", "buyer_message", "seller_note", "shop",
)  # fmt: skip
LINE_FIELDS = (
    "line_id", "item", "sku", "quantity", "unit_price", "line_amount", "line_postage",
    "line_refund",
)  # fmt: skip
ADDRESS_PARTS = ("province", "city", "district", "street", "address_detail", "postcode", "country")
FIELDS = ORDER_FIELDS + LINE_FIELDS + ADDRESS_PARTS


class Platform(StrEnum):
    TAOBAO = "taobao"
    TAOBAO_ITEMS = "taobao_items"
    QIANNIU = "qianniu"
    JD = "jd"
    PINDUODUO = "pinduoduo"
    DOUYIN = "douyin"
    SHOPIFY = "shopify"
    AMAZON = "amazon"
    GENERIC = "generic"


@dataclass(frozen=True)
class Layout:
    platform: Platform
    columns: dict[str, tuple[str, ...]]
    signature: tuple[str, ...]  # headers that must all be present to take this layout
    # Shopify leaves the order number off some continuation lines: they belong to the
    # order above. Elsewhere a row without a number is refused.
    continuation_rows: bool = False


def normalise_header(text: str) -> str:
    """A header as compared: NFKC (full width to half), no spaces or marks, lower case."""
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    return re.sub(r"[\s_\-:()\[\]/.·,，、*]+", "", text).casefold()


_TAOBAO = {
    "number": ("订单编号",),
    "buyer_ref": ("买家会员名", "买家昵称"),
    "total_amount": ("买家实际支付金额", "总金额"),
    "postage": ("买家应付邮费",),
    "status": ("订单状态",),
    "buyer_message": ("买家留言",),
    "receiver": ("收货人姓名",),
    "address": ("修改后的收货地址", "收货地址"),
    "phone": ("联系手机", "联系电话", "买家手机号"),
    "ordered_at": ("订单创建时间",),
    "paid_at": ("订单付款时间",),
    "shipped_at": ("发货时间",),
    "confirmed_at": ("确认收货时间",),
    "item": ("宝贝标题",),
    "quantity": ("宝贝总数量",),
    "sku": ("修改后的sku",),
    "tracking_number": ("物流单号",),
    "carrier": ("物流公司",),
    "seller_note": ("订单备注", "卖家备注"),
    "refund_amount": ("退款金额",),
    "shop": ("店铺名称",),
}

LAYOUTS: tuple[Layout, ...] = (
    Layout(Platform.TAOBAO, _TAOBAO, ("订单编号", "买家会员名", "订单状态")),
    Layout(
        Platform.TAOBAO_ITEMS,
        {
            "number": ("订单编号",),
            "item": ("标题", "宝贝标题"),
            "unit_price": ("价格",),
            "quantity": ("购买数量",),
            "sku": ("商品属性", "套餐信息"),
            "seller_note": ("备注",),
            "status": ("订单状态",),
        },
        ("订单编号", "标题", "购买数量"),
    ),
    # The sub-order exports of the Qianniu era (销售明细, and the item report with 子订单编号):
    # one row per sub-order, amounts per line.
    Layout(
        Platform.QIANNIU,
        {
            "number": ("主订单编号", "主订单号", "订单编号"),
            "line_id": ("子订单编号", "子订单号"),
            "buyer_ref": ("买家会员名", "买家昵称", "买家账号"),
            "item": ("商品标题", "标题", "宝贝标题", "商品名称"),
            "sku": ("商品属性", "销售属性", "sku属性", "规格", "套餐信息"),
            "unit_price": ("商品价格", "价格", "单价", "宝贝价格"),
            "quantity": ("购买数量", "数量", "商品数量"),
            "line_amount": (
                "买家实付金额",
                "买家实际支付金额",
                "实付金额",
                "订单实际金额(元)",
                "买家应付货款",
            ),
            "line_refund": ("退款金额", "退款金额(元)"),
            "postage": ("买家应付邮费", "买家承担邮费", "邮费", "运费"),
            "status": ("订单状态", "子订单状态"),
            "ordered_at": ("订单创建时间", "创建时间"),
            "paid_at": ("订单付款时间", "付款时间"),
            "shipped_at": ("发货时间",),
            "confirmed_at": ("确认收货时间",),
            "completed_at": ("交易成功时间", "交易完成时间"),
            "tracking_number": ("物流单号", "运单号"),
            "carrier": ("物流公司", "快递公司"),
            "receiver": ("收货人姓名",),
            "phone": ("联系手机", "联系电话"),
            "address": ("收货地址",),
            "buyer_message": ("主订单买家留言", "买家留言", "买家备注"),
            "seller_note": ("商家备注", "卖家备注", "主订单备注", "备注"),
            "shop": ("店铺名称",),
        },
        ("主订单编号", "子订单编号"),
    ),
    Layout(
        Platform.JD,
        {
            "number": ("订单号",),
            "item": ("商品名称",),
            "sku": ("货号", "商家SKUID", "商品ID"),
            "quantity": ("订购数量",),
            "unit_price": ("京东价",),
            "total_amount": ("应付金额", "订单金额"),
            "postage": ("运费金额",),
            "status": ("订单状态",),
            "ordered_at": ("下单时间",),
            "paid_at": ("付款确认时间",),
            "shipped_at": ("出库时间",),
            "completed_at": ("订单完成时间",),
            "buyer_ref": ("下单帐号", "下单账号"),
            "receiver": ("客户姓名",),
            "address": ("客户地址",),
            "phone": ("联系电话",),
            "postcode": ("邮政编码",),
            "buyer_message": ("订单备注",),
            "seller_note": ("商家备注",),
            "carrier": ("快递公司", "承运商"),
            "tracking_number": ("运单号", "快递单号"),
            "shop": ("店铺名称",),
        },
        ("订单号", "商品ID", "订购数量"),
    ),
    Layout(
        Platform.PINDUODUO,
        {
            "number": ("订单号",),
            "item": ("商品",),
            "sku": ("商品规格",),
            "quantity": ("商品数量(件)", "商品数量"),
            "line_amount": ("商品总价(元)",),
            "total_amount": ("用户实付金额(元)",),
            "postage": ("邮费(元)",),
            "status": ("订单状态",),
            "receiver": ("收货人",),
            "phone": ("手机", "收货人手机"),
            "province": ("省",),
            "city": ("市",),
            "district": ("区",),
            "street": ("街道",),
            "address_detail": ("详细地址",),
            "paid_at": ("支付时间",),
            "ordered_at": ("支付时间", "拼单成功时间", "订单确认时间"),
            "shipped_at": ("发货时间",),
            "confirmed_at": ("确认收货时间",),
            "tracking_number": ("快递单号",),
            "carrier": ("快递公司",),
            "seller_note": ("商家备注",),
            "buyer_message": ("买家留言",),
            "refund_amount": ("退款金额(元)",),
            "shop": ("店铺名称",),
        },
        ("订单号", "用户实付金额(元)"),
    ),
    Layout(
        Platform.DOUYIN,
        {
            "number": ("主订单编号",),
            "line_id": ("子订单编号",),
            "item": ("选购商品", "商品名称"),
            "sku": ("商品规格",),
            "quantity": ("商品数量",),
            "unit_price": ("商品单价", "商品金额"),
            "line_amount": ("订单应付金额",),
            "postage": ("运费",),
            "status": ("订单状态",),
            "buyer_ref": ("用户昵称", "买家昵称"),
            "receiver": ("收件人",),
            "phone": ("收件人手机号", "收件人电话"),
            "address": ("收件地址",),
            "province": ("省",),
            "city": ("市",),
            "district": ("区",),
            "street": ("街道",),
            "address_detail": ("详细地址",),
            "buyer_message": ("买家留言",),
            "seller_note": ("商家备注",),
            "ordered_at": ("订单提交时间",),
            "paid_at": ("支付完成时间",),
            "shipped_at": ("发货时间",),
            "completed_at": ("订单完成时间",),
            "tracking_info": ("快递信息",),
            "carrier": ("快递公司", "物流公司"),
            "tracking_number": ("快递单号", "物流单号"),
            "shop": ("店铺名称",),
        },
        ("主订单编号", "子订单编号", "选购商品"),
    ),
    Layout(
        Platform.SHOPIFY,
        {
            "number": ("Name",),
            "buyer_ref": ("Email", "Billing Name"),
            "status": ("Financial Status", "Fulfillment Status"),
            "paid_at": ("Paid at",),
            "shipped_at": ("Fulfilled at", "Fulfillment Date"),
            "currency": ("Currency",),
            "postage": ("Shipping",),
            "total_amount": ("Total",),
            "ordered_at": ("Created at",),
            "quantity": ("Lineitem quantity",),
            "item": ("Lineitem name",),
            "unit_price": ("Lineitem price",),
            "sku": ("Lineitem sku",),
            "receiver": ("Shipping Name", "Billing Name"),
            "address_detail": ("Shipping Street", "Shipping Address1"),
            "city": ("Shipping City",),
            "postcode": ("Shipping Zip",),
            "province": ("Shipping Province Name", "Shipping Province"),
            "country": ("Shipping Country",),
            "phone": ("Shipping Phone", "Phone", "Billing Phone"),
            "buyer_message": ("Notes",),
            "refund_amount": ("Refunded Amount",),
        },
        ("Name", "Financial Status", "Lineitem name"),
        continuation_rows=True,
    ),
    Layout(
        Platform.AMAZON,
        {
            "number": ("amazon-order-id",),
            "ordered_at": ("purchase-date",),
            "status": ("order-status",),
            "item": ("product-name",),
            "sku": ("sku",),
            "line_id": ("asin",),
            "quantity": ("quantity", "quantity-purchased"),
            "currency": ("currency",),
            "line_amount": ("item-price",),
            "line_postage": ("shipping-price",),
            "buyer_ref": ("buyer-email", "buyer-name"),
            "receiver": ("recipient-name",),
            "phone": ("buyer-phone-number", "ship-phone-number"),
            "address_detail": ("ship-address-1",),
            "city": ("ship-city",),
            "province": ("ship-state",),
            "postcode": ("ship-postal-code",),
            "country": ("ship-country",),
            "carrier": ("carrier",),
            "tracking_number": ("tracking-number",),
        },
        ("amazon-order-id", "purchase-date"),
    ),
)

# Anything else: the spellings seen across exports and hand-made tables.
GENERIC = Layout(
    Platform.GENERIC,
    {
        "number": ("订单号", "订单编号", "订单id", "主订单编号", "order number", "order no",
                   "order id", "order"),
        "line_id": ("子订单编号", "子订单号", "line id"),
        "buyer_ref": ("买家", "买家昵称", "买家账号", "买家会员名", "买家id", "下单帐号",
                      "下单账号", "买家用户名", "买家旺旺", "buyer", "buyer id", "buyer name",
                      "buyer ref", "customer"),
        "item": ("商品", "商品名称", "宝贝标题", "商品标题", "item", "items", "product",
                 "product name", "title"),
        "sku": ("商品规格", "规格", "sku"),
        "quantity": ("数量", "购买数量", "宝贝数量", "quantity", "qty"),
        "unit_price": ("单价", "商品单价", "unit price", "price"),
        "total_amount": ("金额", "实付金额", "订单金额", "实收款", "买家实际支付金额", "amount",
                         "total", "total amount", "paid amount"),
        "postage": ("运费", "邮费", "shipping"),
        "currency": ("币种", "货币", "currency"),
        "status": ("订单状态", "状态", "status", "order status"),
        "ordered_at": ("下单时间", "订单创建时间", "创建时间", "ordered at", "order time",
                       "created at", "order date"),
        "paid_at": ("付款时间", "支付时间", "paid at", "payment time", "pay time"),
        "shipped_at": ("发货时间", "shipped at", "ship time", "shipping time"),
        "delivered_at": ("签收时间", "送达时间", "delivered at", "delivery time"),
        "confirmed_at": ("确认收货时间", "确认时间", "confirmed at", "receipt confirmed",
                         "confirm time"),
        "completed_at": ("完成时间", "订单完成时间", "completed at"),
        "carrier": ("物流公司", "快递公司", "承运商", "carrier", "logistics company", "courier"),
        "tracking_number": ("物流单号", "运单号", "快递单号", "tracking number", "tracking no",
                            "waybill", "waybill no"),
        "refund_amount": ("退款金额", "refund amount", "refunded", "refund"),
        "refunded_at": ("退款时间", "refunded at", "refund time"),
        "receiver": ("收货人", "收货人姓名", "收件人", "receiver", "recipient"),
        "phone": ("收货人电话", "收货人手机", "联系电话", "联系手机", "手机", "电话", "phone",
                  "contact phone", "mobile", "contact"),
        "address": ("收货地址", "收货人地址", "详细地址", "地址", "shipping address", "address",
                    "delivery address"),
        "buyer_message": ("买家留言", "buyer message", "note"),
        "seller_note": ("卖家备注", "商家备注", "备注", "seller note", "memo"),
        "shop": ("店铺名称", "店铺", "shop", "store"),
    },
    (),
)  # fmt: skip


@dataclass(frozen=True)
class Recognised:
    """Which layout a header row is, and which column serves each field."""

    layout: Layout
    columns: dict[str, list[int]]  # field -> column indexes, in order of preference
    unused: list[int]


def recognise(header: list[str], remembered: dict[str, str] | None = None) -> Recognised:
    """The layout whose signature the header has and which explains most of its columns.

    `remembered` maps normalised headers to fields: the merchant's own choices for
    columns no layout knows, kept for the shop; they win over the layout's guess.
    """
    names = [normalise_header(cell) for cell in header]
    present = set(names)
    best, best_score = GENERIC, 0
    for layout in LAYOUTS:
        if not all(normalise_header(sign) in present for sign in layout.signature):
            continue
        score = sum(
            1
            for spellings in layout.columns.values()
            for spelling in spellings
            if normalise_header(spelling) in present
        )
        if score > best_score:
            best, best_score = layout, score
    return _assign(best, names, remembered or {})


def with_mapping(recognised: Recognised, header: list[str], chosen: dict[str, str]) -> Recognised:
    """The recognised layout with the merchant's choice of field for some columns."""
    return _assign(recognised.layout, [normalise_header(cell) for cell in header], chosen)


def _assign(layout: Layout, names: list[str], remembered: dict[str, str]) -> Recognised:
    columns: dict[str, list[int]] = {}
    decided: set[int] = set()  # columns the merchant has placed: only where they said
    for index, name in enumerate(names):
        field = remembered.get(name)
        if field == "" or field in FIELDS:
            decided.add(index)
            if field:
                columns.setdefault(field, []).append(index)
    for field, spellings in layout.columns.items():
        if field in columns:
            continue
        for spelling in spellings:
            wanted = normalise_header(spelling)
            # A column may serve two fields (Pinduoduo's 支付时间 is order and payment time).
            found = next(
                (i for i, name in enumerate(names) if name == wanted and i not in decided), None
            )
            if found is not None and found not in columns.get(field, []):
                columns.setdefault(field, []).append(found)
    used = {index for indexes in columns.values() for index in indexes}
    unused = [index for index, name in enumerate(names) if name and index not in used]
    return Recognised(layout, columns, unused)


def find_header(rows: list[list[str]]) -> int | None:
    """Which of the first rows is the header: some exports start with a title or a note."""
    best, best_score = None, 1
    for index, row in enumerate(rows):
        names = {normalise_header(cell) for cell in row if cell}
        score = sum(
            1
            for spellings in GENERIC.columns.values()
            if any(normalise_header(s) in names for s in spellings)
        ) + max(
            (sum(normalise_header(s) in names for s in layout.signature) for layout in LAYOUTS),
            default=0,
        )
        if score > best_score:
            best, best_score = index, score
    return best


class OrderState(StrEnum):
    """What the platform's status words mean, for the dossier and the inbox."""

    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


# Each part of a status ("已发货，待签收", "paid / unfulfilled") is read by the first rule whose
# words it holds; the furthest state of the parts is the order's.
_STATE_RULES: tuple[tuple[OrderState, tuple[str, ...]], ...] = (
    (OrderState.REFUNDED, ("退款成功", "已退款", "全额退款", "refunded")),
    (OrderState.CANCELLED, ("关闭", "取消", "删除", "cancel", "voided")),
    (OrderState.AWAITING_PAYMENT, ("待付款", "待支付", "等待买家付款", "未付款", "pending",
                                   "unpaid", "authorized")),
    (OrderState.PAID, ("待发货", "等待卖家发货", "未发货", "等待出库", "待出库", "备货中",
                       "等待打印", "unfulfilled", "unshipped", "已付款", "paid")),
    (OrderState.SHIPPED, ("待签收", "待收货", "等待确认收货", "等待买家确认", "已发货",
                          "发往配送中心", "配送中心已收货", "运输中", "shipped", "fulfilled",
                          "partial", "shipping")),
    (OrderState.DELIVERED, ("已签收", "签收", "delivered")),
    (OrderState.COMPLETED, ("交易成功", "已完成", "完成", "已收货", "收款确认", "complete")),
)  # fmt: skip
_RANK = {
    OrderState.UNKNOWN: 0,
    OrderState.AWAITING_PAYMENT: 1,
    OrderState.PAID: 2,
    OrderState.SHIPPED: 3,
    OrderState.DELIVERED: 4,
    OrderState.COMPLETED: 5,
    OrderState.CANCELLED: 6,
    OrderState.REFUNDED: 7,
}


def order_state(status: str | None) -> OrderState:
    """The state a platform's status text stands for; the text itself is kept as written."""
    found = OrderState.UNKNOWN
    text = unicodedata.normalize("NFKC", status or "").casefold()
    for part in re.split(r"[,;/|]|\s-\s", text):
        for state, words in _STATE_RULES:
            if any(word in part for word in words):
                found = max(found, state, key=_RANK.__getitem__)
                break
    return found
