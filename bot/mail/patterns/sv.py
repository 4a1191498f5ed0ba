"""Swedish."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="sv",
    attributions=(
        P(
            r"den\s(?=.*[\d@<]).{1,200}?\bskrev(?:\s[^:]{1,150})?\s*:",
            "Gmail (sv, da), Thunderbird (sv, da, nb), Apple Mail",
            "Den tis 24 nov. 2026 kl 09:14 skrev partnerbot <bot@vendor.example>:",
        ),
    ),
    separators=(
        P(r"ursprungligt meddelande", "Outlook, Exchange", "-----Ursprungligt meddelande-----"),
        P(r"originalmeddelande", "Samsung Email, Yahoo", "-------- Originalmeddelande --------"),
        P(
            r"vidarebefordrat (?:meddelande|mejl)",
            "Gmail, Thunderbird",
            "---------- Vidarebefordrat meddelande ---------",
        ),
    ),
    forward_lines=(
        P(
            r"(?:början på )?vidarebefordrat (?:meddelande|mejl)\s*:",
            "Apple Mail, iOS Mail",
            "Vidarebefordrat mejl:",
        ),
    ),
    header_labels=("Från", "Skickat", "Till", "Kopia", "Ämne", "Datum", "Svara till"),
    client_lines=(
        P(r"skickat från [^,;:]{1,50}", "iOS Mail, Samsung, Outlook", "Skickat från min iPhone"),
        P(
            r"skaffa outlook för .{1,60}",
            "Outlook for iOS and Android",
            "Skaffa Outlook för iOS<https://aka.ms/o0ukef>",
        ),
    ),
)
