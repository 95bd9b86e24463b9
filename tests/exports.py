"""Platform order exports as sellers download them, built from the published column lists.

Each builder writes a file in the platform's own header order and conventions: Taobao's
GB18030 CSV with `="…"` guards and `'` before phones, Douyin's UTF-8-BOM CSV with a tab
inside every quoted id and `-` for empty, JD's GBK with order amounts repeated on each
item row, Shopify's first-line-only totals, Amazon's tab-separated flat file. `expected`
describes the orders each file holds, for the tests to compare against.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

TAOBAO_HEADER = [
    "订单编号", "买家会员名", "买家支付宝账号", "支付交易号", "买家应付货款", "买家应付邮费",
    "买家支付积分", "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态",
    "买家留言", "收货人姓名", "收货地址 ", "运送方式", "联系电话 ", "联系手机", "订单创建时间",
    "订单付款时间 ", "宝贝标题 ", "宝贝种类 ", "物流单号 ", "物流公司", "订单备注", "宝贝总数量",
    "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单",
    "分阶段订单信息", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
    "集分宝抵扣", "是否是O2O交易", "退款金额", "确认收货时间",
]  # fmt: skip
QIANNIU_HEADER = [
    "子订单编号", "主订单编号", "商品标题", "商品价格", "购买数量", "外部系统编号", "商品属性",
    "套餐信息", "联系方式备注", "订单状态", "商家编码", "支付单号", "买家应付货款", "买家实付金额",
    "退款状态", "退款金额", "订单创建时间", "订单付款时间", "淘鲜达渠道", "商品ID", "分阶段信息",
    "备注标签", "商家备注", "主订单买家留言", "是否主动赔付", "主动赔付金额", "主动赔付出账时间",
]  # fmt: skip
TMALL_HEADER = ["子订单编号", "主订单编号", "商家编码", "外部系统编号", "商品标题", "数量",
                "订单实际金额（元）", "退款金额（元）", "物流单号", "物流公司"]  # fmt: skip
JD_HEADER = [
    "订单号", "商品ID", "商品名称", "订购数量", "支付方式", "下单时间", "京东价", "订单金额",
    "结算金额", "余额支付", "应付金额", "订单状态", "订单类型", "下单帐号", "客户姓名", "客户地址",
    "联系电话", "订单备注", "发票类型", "发票抬头", "发票内容", "商家备注",
    "商家备注等级（等级1-5为由高到低）", "运费金额", "付款确认时间", "增值税发票", "货号",
    "订单完成时间", "订单来源", "订单渠道",
]  # fmt: skip
PDD_HEADER = [
    "商品", "订单号", "订单状态", "商品总价（元）", "店铺优惠折扣(元)", "平台优惠折扣(元)", "邮费(元)",
    "上门安装费(元)", "送货入户费(元)", "送货入户并安装费(元)", "用户实付金额(元)", "商品数量(件)",
    "身份证姓名", "身份证号码", "收货人", "手机", "是否异常", "省", "市", "区", "街道", "支付时间",
    "拼单成功时间", "订单确认时间", "承诺发货时间", "发货时间", "确认收货时间", "商品id", "商品规格",
    "用户购买手机号", "样式ID", "商家编码-SKU维度", "商家编码-商品维度", "快递单号", "快递公司",
    "海淘清关订单号", "支付ID", "支付方式", "是否抽奖或0元试用", "是否顺丰加价", "商家备注",
    "售后状态", "买家留言",
]  # fmt: skip
DOUYIN_HEADER = [
    "主订单编号", "子订单编号", "选购商品", "商品规格", "商品数量", "商品ID", "商家编码", "商品单价",
    "订单应付金额", "运费", "优惠总金额", "平台优惠", "商家优惠", "达人优惠", "商家改价", "支付优惠",
    "红包抵扣", "支付方式", "手续费", "收件人", "收件人手机号", "省", "市", "区", "街道", "详细地址",
    "是否修改过地址", "买家留言", "订单提交时间", "旗帜颜色", "商家备注", "订单完成时间",
    "支付完成时间", "APP渠道", "流量来源", "订单状态", "承诺发货时间", "订单类型", "鲁班落地页ID",
    "达人ID", "达人昵称", "所属门店ID", "售后状态", "取消原因", "预约发货时间", "仓库ID", "仓库名称",
    "是否安心购", "广告渠道", "流量类型", "流量体裁", "流量渠道", "发货主体", "发货主体明细",
    "发货时间", "降价类优惠", "平台实际承担优惠金额", "商家实际承担优惠金额", "达人实际承担优惠金额",
    "预计送达时间", "是否平台仓自流转", "车型", "预约送达时间", "建议发货时间（起）",
    "建议发货时间（止）", "快递信息",
]  # fmt: skip
SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Tax 1 Name",
    "Tax 1 Value",
    "Tax 2 Name",
    "Tax 2 Value",
    "Tax 3 Name",
    "Tax 3 Value",
    "Tax 4 Name",
    "Tax 4 Value",
    "Tax 5 Name",
    "Tax 5 Value",
    "Phone",
    "Receipt Number",
    "Duties",
    "Billing Province Name",
    "Shipping Province Name",
    "Payment ID",
    "Payment Terms Name",
    "Next Payment Due At",
    "Payment References",
]
AMAZON_HEADER = [
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "url",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
]


@dataclass
class Expected:
    """What one order of a fixture must become."""

    number: str
    total: str
    items: int = 1
    status: str | None = None
    state: str | None = None
    tracking: str | None = None
    carrier: str | None = None
    buyer: str = ""
    phone: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class Export:
    path: Path
    platform: str
    orders: list[Expected]
    skipped: int = 0
    refused_rows: list[int] = field(default_factory=list)


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _row(header: list[str], **cells: str) -> list[str]:
    """A row in the header's order; keys are header names (stripped)."""
    names = [name.strip() for name in header]
    row = [""] * len(header)
    for name, value in cells.items():
        row[names.index(name)] = value
    return row


def taobao(folder: Path) -> Export:
    """The classic 订单报表: GB18030, `="…"` ids, `'` phones, a 合计 line, a title with `""`."""
    h = TAOBAO_HEADER
    rows = [
        h,
        _row(h, 订单编号='="2766123456789012345"', 买家会员名="tb_小𠮷", 买家实际支付金额="1,299.00",
             总金额="1299.00", 订单状态="交易成功", 买家留言="请发顺丰，谢谢", 收货人姓名="王小二",
             收货地址="浙江省 杭州市 余杭区 文一西路 969 号", 联系手机="'13800138000",
             订单创建时间="2026-10-02 09:15:00", 订单付款时间="2026-10-02 09:16:30",
             宝贝标题='复古"小香风"外套, 含腰带', 宝贝总数量="1", 物流单号="No:SF1234567890123",
             物流公司="顺丰速运", 订单备注="已核对尺码", 店铺名称="测试店铺A", 确认收货时间="2026-10-06 20:01:00"),
        _row(h, 订单编号='="2766123456789012346"', 买家会员名="t**7", 买家实际支付金额="¥89.50",
             订单状态="卖家已发货，等待买家确认", 收货人姓名="李*", 联系手机="138****5678",
             订单创建时间="2026/10/3 8:05", 宝贝标题="袜子", 宝贝总数量="3", 物流单号="73512345678901",
             物流公司="中通快递", 店铺名称="测试店铺A"),
        _row(h, 订单编号="2.76612345678901E+18", 买家会员名="someone", 买家实际支付金额="10.00",
             订单状态="交易成功", 店铺名称="测试店铺A"),
        _row(h, 订单编号="合计", 买家实际支付金额="1398.50"),
    ]  # fmt: skip
    path = folder / "ExportOrderList202610.csv"
    path.write_bytes(_csv(rows).encode("gb18030"))
    return Export(
        path,
        "taobao",
        [
            Expected(
                "2766123456789012345",
                "1299.00",
                status="交易成功",
                state="completed",
                tracking="SF1234567890123",
                carrier="顺丰速运",
                buyer="tb_小𠮷",
                phone="13800138000",
                extra={
                    "receiver": "王小二",
                    "buyer_message": "请发顺丰，谢谢",
                    "seller_note": "已核对尺码",
                    "address": "浙江省 杭州市 余杭区 文一西路 969 号",
                    "item": '复古"小香风"外套, 含腰带',
                },
            ),
            Expected(
                "2766123456789012346",
                "89.50",
                status="卖家已发货，等待买家确认",
                state="shipped",
                tracking="73512345678901",
                buyer="t**7",
                phone="138****5678",
            ),
        ],
        skipped=1,
        refused_rows=[4],
    )


def qianniu(folder: Path) -> Export:
    """The Qianniu-era sub-order export as XLSX: two sub-orders of one order.

    Long ids are text cells, as the platform writes them; the 14-digit item id is a number.
    """
    h = QIANNIU_HEADER
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(h)
    base = dict.fromkeys(h, None)
    for sub, title, price, paid in (("3001234567890123451", "保温杯", "59.00", 59.0),
                                    ("3001234567890123452", "杯套", "9.90", 9.9)):  # fmt: skip
        row = {**base, "子订单编号": sub, "主订单编号": "3001234567890123450", "商品标题": title,
               "商品ID": 61234567890123,
               "商品价格": price, "购买数量": 1, "订单状态": "买家已付款，等待卖家发货",
               "买家实付金额": paid, "订单创建时间": "2026-10-05 11:00:00",
               "主订单买家留言": "送礼用", "商家备注": "加急"}  # fmt: skip
        sheet.append(list(row.values()))
    path = folder / "销售明细.xlsx"
    workbook.save(path)
    return Export(
        path,
        "qianniu",
        [Expected("3001234567890123450", "68.90", items=2, status="买家已付款，等待卖家发货",
                  state="paid", extra={"buyer_message": "送礼用", "seller_note": "加急"})],
    )  # fmt: skip


def tmall(folder: Path) -> Export:
    """Tmall's sub-order sheet: UTF-8, full-width （元）, two lines of one order."""
    h = TMALL_HEADER
    rows = [
        h,
        ["1001", "9001", "C-1", "", "天猫 T 恤", "2", "198.00", "0.00", "YT1234567890123", "圆通速递"],
        ["1002", "9001", "C-2", "", "天猫 短裤", "1", "79.00", "79.00", "YT1234567890123", "圆通速递"],
    ]  # fmt: skip
    path = folder / "ExportItemlList.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return Export(
        path,
        "qianniu",
        [Expected("9001", "277.00", items=2, tracking="YT1234567890123", carrier="圆通速递",
                  extra={"refund_amount": "79.00"})],
    )  # fmt: skip


def jd(folder: Path) -> Export:
    """JD POP: GBK, one row per SKU with the order amount repeated, `(删除)` states."""
    h = JD_HEADER
    common = dict(订单号="230000000001", 下单时间="2026-10-08 21:00:00", 订单金额="500.00",
                  应付金额="480.00", 订单状态="等待确认收货", 下单帐号="jd_buyer01", 客户姓名="赵六",
                  客户地址="北京市朝阳区建国路 1 号", 联系电话="1******6198", 订单备注="周末送",
                  商家备注="赠品已放", 运费金额="0.00", 付款确认时间="2026-10-08 21:01:00")  # fmt: skip
    rows = [
        h,
        _row(h, **common, 商品ID="100001", 商品名称="蓝牙耳机", 订购数量="1", 京东价="250.00"),
        _row(h, **common, 商品ID="100002", 商品名称="充电盒", 订购数量="1", 京东价="250.00"),
        _row(h, 订单号="230000000002", 商品ID="100003", 商品名称="数据线", 订购数量="2",
             京东价="20.00", 订单金额="40.00", 应付金额="40.00", 订单状态="(删除)等待出库",
             下单帐号="jd_buyer02", 下单时间="2026-10-09 10:00:00"),
    ]  # fmt: skip
    path = folder / "jd_orders.csv"
    path.write_bytes(_csv(rows).encode("gbk"))
    return Export(
        path,
        "jd",
        [Expected("230000000001", "480.00", items=2, status="等待确认收货", state="shipped",
                  buyer="jd_buyer01", phone="1******6198"),
         Expected("230000000002", "40.00", status="(删除)等待出库", state="cancelled",
                  buyer="jd_buyer02")],
    )  # fmt: skip


def pinduoduo(folder: Path) -> Export:
    """Pinduoduo: UTF-8 with BOM, a tab before ids, address in parts, no buyer column."""
    h = PDD_HEADER
    rows = [
        h,
        _row(h, 商品="【爆款】不锈钢锅", 订单号="\t261001-123456789012345", 订单状态="已发货，待签收",
             **{"商品总价（元）": "129.00", "用户实付金额(元)": "119.00", "商品数量(件)": "\t1",
                "邮费(元)": "0.00"},
             收货人="孙**", 手机="\t178****0000", 省="广东省", 市="深圳市", 区="南山区",
             街道="科技园路 8 号", 支付时间="\t2026-10-01 12:00:00", 发货时间="2026-10-02 09:00:00",
             商品规格="28cm", 快递单号="\t75812345678901", 快递公司="中通快递", 买家留言="",
             商家备注="已发"),
    ]  # fmt: skip
    path = folder / "pdd_orders.csv"
    path.write_bytes(_csv(rows).encode("utf-8-sig"))
    return Export(
        path,
        "pinduoduo",
        [Expected("261001-123456789012345", "119.00", status="已发货，待签收", state="shipped",
                  tracking="75812345678901", carrier="中通快递", phone="178****0000",
                  extra={"address": "广东省深圳市南山区科技园路 8 号"})],
    )  # fmt: skip


def douyin(folder: Path) -> Export:
    """Douyin: 66 columns, UTF-8 BOM, tabs in quoted cells, `-` for empty, encrypted PII."""
    h = DOUYIN_HEADER
    shared = {"主订单编号": "\t6917926768823643751", "收件人": "##密文", "收件人手机号": "$$密文",
              "详细地址": "##密文", "订单提交时间": "2026-09-22 00:54:10", "订单状态": "已发货",
              "支付完成时间": "2026-09-22 00:55:00", "发货时间": "2026-09-22 08:53:45",
              "买家留言": "-", "快递信息": "JDVA12345678901-京东快递", "运费": "0.00"}  # fmt: skip
    rows = [
        h,
        _row(h, **shared, 子订单编号="\t6917926768823643752", 选购商品="\t辣丝丝",
             商品规格="\t1袋", 商品数量="1", 商品单价="28.90", 订单应付金额="28.90"),
        _row(h, **shared, 子订单编号="\t6917926768823643753", 选购商品="\t麻辣牛肉",
             商品规格="\t2袋", 商品数量="2", 商品单价="15.00", 订单应付金额="30.00"),
    ]  # fmt: skip
    path = folder / "1791430000_orders.csv"
    path.write_bytes(_csv(rows).encode("utf-8-sig"))
    return Export(
        path,
        "douyin",
        [Expected("6917926768823643751", "58.90", items=2, status="已发货", state="shipped",
                  tracking="JDVA12345678901", carrier="京东快递", phone="$$密文")],
    )  # fmt: skip


def shopify(folder: Path) -> Export:
    """Shopify: 79 columns, totals on the first line only, a continuation line without Name."""
    h = SHOPIFY_HEADER
    first = _row(h, Name="#1050", Email="koper@example.com", **{
        "Financial Status": "paid", "Paid at": "2026-10-01 10:00:00 +0200",
        "Fulfillment Status": "fulfilled", "Fulfilled at": "2026-10-02 09:00:00 +0200",
        "Currency": "EUR", "Subtotal": "75.90", "Shipping": "4.95", "Total": "80.85",
        "Created at": "2026-10-01 09:58:00 +0200", "Lineitem quantity": "1",
        "Lineitem name": "Matcha Essence 50 gram", "Lineitem price": "37.95",
        "Lineitem sku": "MAT-50", "Shipping Name": "Anna Koper",
        "Shipping Street": "Keizersgracht 1", "Shipping City": "Amsterdam",
        "Shipping Zip": "1015 CJ", "Shipping Country": "NL", "Shipping Phone": "+31 6 1234 5678",
        "Notes": "Leave at the door, \"please\"\nthank you"})  # fmt: skip
    second = _row(h, Name="#1050", Email="koper@example.com", **{
        "Lineitem quantity": "1", "Lineitem name": "Matcha Whisk", "Lineitem price": "37.95",
        "Lineitem sku": "MAT-W"})  # fmt: skip
    third = _row(h, **{"Lineitem quantity": "1", "Lineitem name": "Gift card note",
                       "Lineitem price": "0.00"})  # fmt: skip
    path = folder / "orders_export_1.csv"
    path.write_text(_csv([h, first, second, third]), encoding="utf-8")
    return Export(
        path,
        "shopify",
        [Expected("#1050", "80.85", items=3, status="paid / fulfilled", state="shipped",
                  buyer="koper@example.com", phone="+31612345678",
                  extra={"currency": "EUR", "receiver": "Anna Koper"})],
    )  # fmt: skip


def amazon(folder: Path) -> Export:
    """Amazon All Orders: tab-separated, one row per item, item-price is the line total."""
    h = AMAZON_HEADER
    line = dict.fromkeys(h, "")
    rows = [
        h,
        list({**line, "amazon-order-id": "112-9739103-0000001",
              "purchase-date": "2026-10-05T08:04:21+00:00", "order-status": "Shipped",
              "product-name": "USB-C cable, 2 m", "sku": "CAB-2M", "asin": "B0TEST0001",
              "quantity": "2", "currency": "USD", "item-price": "19.98",
              "shipping-price": "3.99", "ship-city": "SEATTLE", "ship-state": "WA",
              "ship-postal-code": "98109", "ship-country": "US"}.values()),
        list({**line, "amazon-order-id": "112-9739103-0000001",
              "purchase-date": "2026-10-05T08:04:21+00:00", "order-status": "Shipped",
              "product-name": "Charger 65 W", "sku": "CHG-65", "asin": "B0TEST0002",
              "quantity": "1", "currency": "USD", "item-price": "29.99",
              "shipping-price": "0.00"}.values()),
    ]  # fmt: skip
    path = folder / "AllOrders.txt"
    path.write_text(_csv(rows, "\t"), encoding="utf-8")
    return Export(
        path,
        "amazon",
        [Expected("112-9739103-0000001", "53.96", items=2, status="Shipped", state="shipped",
                  extra={"currency": "USD"})],
    )  # fmt: skip


PLATFORMS = {
    "taobao": taobao,
    "qianniu": qianniu,
    "tmall": tmall,
    "jd": jd,
    "pinduoduo": pinduoduo,
    "douyin": douyin,
    "shopify": shopify,
    "amazon": amazon,
}
