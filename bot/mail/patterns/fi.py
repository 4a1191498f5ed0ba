"""Finnish."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="fi",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?\bkirjoitti\s*:",
            "Gmail, Thunderbird, Apple Mail",
            "ti 24. marrask. 2026 klo 10.14 partnerbot (bot@vendor.example) kirjoitti:",
        ),
    ),
    separators=(
        P(
            r"alkuper(?:ä|a)inen viesti",
            "Outlook, Exchange, Samsung Email",
            "-----Alkuperäinen viesti-----",
        ),
        P(
            r"v(?:ä|a)litetty viesti",
            "Gmail, Thunderbird",
            "---------- Välitetty viesti ----------",
        ),
    ),
    forward_lines=(
        P(r"(?:aloita )?v(?:ä|a)litetty viesti\s*:", "Apple Mail, iOS Mail", "Välitetty viesti:"),
    ),
    header_labels=("Lähettäjä", "Lähetetty", "Vastaanottaja", "Kopio", "Aihe", "Päivämäärä"),
    client_lines=(
        P(r"lähetetty [^,;:]{1,40}(?:sta|stä|lta|ltä)", "iOS Mail, Samsung", "Lähetetty iPhonesta"),
        P(
            r"hanki outlook for .{1,60}",
            "Outlook for iOS and Android",
            "Hanki Outlook for Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
