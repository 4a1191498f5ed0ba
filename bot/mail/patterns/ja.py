"""Japanese."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="ja",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?(?:書きました|書き込みました|のメッセージ)\s*[:：]",
            "Thunderbird ('… に … さんは書きました:'), Becky!",
            "2026-11-27 18:00 に partnerbot さんは書きました:",
        ),
    ),
    separators=(
        P(
            r"(?:元の|転送|オリジナル)メッセージ",
            "Outlook, Thunderbird",
            "-----元のメッセージ-----",
        ),
    ),
    forward_lines=(
        P(r"転送されたメッセージ\s*[:：]", "Apple Mail, iOS Mail", "転送されたメッセージ:"),
    ),
    header_labels=("差出人", "送信者", "送信日時", "送信日", "宛先", "件名", "日付", "CC"),
    client_lines=(
        P(r"[^,;:、]{1,30}から送信", "iOS Mail, Samsung", "iPhoneから送信"),
        P(
            r".{1,20} ?版 outlook を入手.{0,60}",
            "Outlook for iOS and Android",
            "iOS 版 Outlook を入手<https://aka.ms/o0ukef>",
        ),
    ),
)
