"""Chinese (Simplified and Traditional)."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="zh",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?(?:写道|寫道)\s*[:：]",
            "NetEase 163, QQ Mail, Gmail (zh-CN, zh-TW), Apple Mail",
            '在 2026-11-25 17:00:00，"partnerbot" <bot@vendor.example> 写道：',
        ),
    ),
    separators=(
        P(
            r"原始(?:邮件|郵件|信件|訊息)",
            "QQ Mail, Foxmail, Outlook",
            "------------------ 原始邮件 ------------------",
        ),
        P(
            r"(?:转发|轉寄|轉發)(?:邮件|郵件|信件|的邮件)",
            "Gmail, NetEase",
            "---------- 转发邮件 ---------",
        ),
    ),
    forward_lines=(
        P(
            r"(?:下面是被转发的邮件|以下為轉寄的郵件)\s*[:：]",
            "Apple Mail, iOS Mail",
            "下面是被转发的邮件：",
        ),
    ),
    header_labels=(
        "发件人",
        "发送时间",
        "收件人",
        "抄送",
        "主题",
        "日期",
        "寄件者",
        "寄件日期",
        "收件者",
        "副本",
        "主旨",
        "時間",
    ),
    client_lines=(
        P(
            r"(?:发自|來自|来自)(?:我的)?\s?[^,;:，。！？]{0,20}"
            r"(?:手机|手機|iphone|ipad|android|邮箱大师|邮箱|郵箱|客户端|设备|設備|mail|outlook)",
            "iOS Mail, NetEase Mail Master, Huawei, Xiaomi",
            "发自我的iPhone",
        ),
        P(r"從我的[^,;:，]{1,30}傳送", "iOS Mail (zh-TW)", "從我的 iPhone 傳送"),
        P(
            r"(?:获取|取得) outlook for .{1,60}",
            "Outlook for iOS and Android",
            "获取 Outlook for iOS<https://aka.ms/o0ukef>",
        ),
    ),
)
