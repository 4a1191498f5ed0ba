"""Czech."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="cs",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?\bnapsal(?:\(a\)|a)?\s*:",
            "Gmail ('… odesílatel … napsal:'), Thunderbird ('Dne … napsal(a):'), Seznam",
            "út 24. 11. 2026 v 10:00 odesílatel partnerbot <bot@vendor.example> napsal:",
        ),
    ),
    separators=(
        P(
            r"původní (?:e-mail|zpráva)",
            "Seznam, Outlook, Samsung Email",
            "---------- Původní e-mail ----------",
        ),
        P(
            r"přeposlan(?:á zpráva|ý e-mail)",
            "Gmail, Thunderbird",
            "---------- Přeposlaná zpráva ----------",
        ),
    ),
    forward_lines=(
        P(r"začátek přeposílané zprávy\s*:", "Apple Mail, iOS Mail", "Začátek přeposílané zprávy:"),
    ),
    header_labels=("Od", "Odesláno", "Komu", "Kopie", "Předmět", "Datum"),
    client_lines=(
        P(r"odesláno z [^,;:]{1,50}", "iOS Mail, Samsung", "Odesláno z iPhonu"),
        P(
            r"získejte outlook pro .{1,60}",
            "Outlook for iOS and Android",
            "Získejte Outlook pro Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
