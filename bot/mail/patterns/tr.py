"""Turkish."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="tr",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?\byazdı\s*:",
            "Gmail ('… tarihinde şunu yazdı:'), Yandex, Thunderbird",
            "partnerbot <bot@vendor.example>, 24 Kas 2026 Sal, 11:14 tarihinde şunu yazdı:",
        ),
    ),
    separators=(
        P(
            r"(?:orijinal|özgün) (?:mesaj|ileti)",
            "Outlook, Samsung Email",
            "-------- Orijinal mesaj --------",
        ),
        P(r"iletilen (?:mesaj|ileti)", "Gmail, Thunderbird", "---------- İletilen mesaj ---------"),
    ),
    header_labels=("Kimden", "Gönderen", "Gönderildi", "Kime", "Alıcı", "Bilgi", "Konu", "Tarih"),
    client_lines=(
        P(
            r"[^,;:]{0,40}(?:cihazımdan|iphone'umdan|ipad'imden|telefonumdan) gönderildi",
            "iOS Mail, Samsung",
            "iPhone'umdan gönderildi",
        ),
        P(
            r".{1,20} için outlook'u edinin.{0,60}",
            "Outlook for iOS and Android",
            "iOS için Outlook'u edinin<https://aka.ms/o0ukef>",
        ),
    ),
)
