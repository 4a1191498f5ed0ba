"""Dutch (Netherlands, Belgium)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="nl",
    attributions=(
        P(
            r"op\s(?=.*[\d@<]).{1,200}?\bschreef(?:\s[^:]{1,150})?\s*:",
            "Gmail, Thunderbird, Outlook",
            "Op di 24 nov. 2026 om 09:14 schreef partnerbot <bot@vendor.example>:",
        ),
        P(
            r"op\s(?=.*[\d@<]).{1,200}?\bhet volgende geschreven\s*:",
            "Apple Mail, iOS Mail",
            "Op 24 nov. 2026 om 10:00 heeft partnerbot <bot@vendor.example> het volgende"
            " geschreven:",
        ),
    ),
    separators=(
        P(
            r"oorspronkelijk bericht",
            "Outlook, Exchange, Samsung Email",
            "-----Oorspronkelijk bericht-----",
        ),
        P(r"origineel bericht", "Yahoo, Ziggo webmail", "-------- Origineel bericht --------"),
        P(
            r"doorgestuurd bericht",
            "Gmail, Thunderbird",
            "---------- Doorgestuurd bericht ---------",
        ),
    ),
    forward_lines=(
        P(r"begin doorgestuurd bericht\s*:", "Apple Mail, iOS Mail", "Begin doorgestuurd bericht:"),
    ),
    header_labels=(
        "Van",
        "Verzonden",
        "Aan",
        "CC",
        "BCC",
        "Onderwerp",
        "Datum",
        "Beantwoorden - Aan",
    ),
    client_lines=(
        P(
            r"(?:verzonden|verstuurd) (?:vanaf|vanuit|met|via) [^,;:]{1,50}",
            "iOS Mail, Samsung, Outlook",
            "Verzonden vanaf mijn iPhone",
        ),
        P(
            r"outlook voor .{1,20} downloaden.{0,60}",
            "Outlook for iOS and Android",
            "Outlook voor iOS downloaden<https://aka.ms/o0ukef>",
        ),
    ),
)
