"""Hungarian."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="hu",
    attributions=(
        P(
            r".{1,150}?\bezt írta\b.{0,150}:",
            "Gmail ('… ezt írta (időpont: …):')",
            "partnerbot <bot@vendor.example> ezt írta (időpont: 2026. nov. 24., K, 9:14):",
        ),
        P(
            r"(?=.*\d).{1,400}?\bírta\s*:",
            "Thunderbird ('… keltezéssel, … írta:'), Freemail",
            "2026. 11. 27. 10:00 keltezéssel, partnerbot írta:",
        ),
    ),
    separators=(
        P(r"eredeti üzenet", "Outlook, Exchange, Samsung Email", "-----Eredeti üzenet-----"),
        P(
            r"továbbított (?:üzenet|levél)",
            "Gmail, Thunderbird",
            "---------- Továbbított üzenet ----------",
        ),
    ),
    header_labels=("Feladó", "Elküldve", "Címzett", "Másolat", "Tárgy", "Dátum"),
    client_lines=(
        P(r"(?:az )?[^,;:]{1,40}(?:ról|ről) küldve", "iOS Mail, Samsung", "Az iPhone-omról küldve"),
        P(
            r"az? .{1,20} outlook letöltése.{0,60}",
            "Outlook for iOS and Android",
            "Az Android Outlook letöltése<https://aka.ms/AAb9ysg>",
        ),
    ),
)
