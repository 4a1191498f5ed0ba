"""Italian."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="it",
    attributions=(
        P(
            r"il\s(?=.*[\d@<]).{1,200}?\bha\s+scritto\s*:",
            "Gmail ('Il giorno … ha scritto:'), Thunderbird, Yahoo, Apple Mail",
            "Il giorno mar 24 nov 2026 alle ore 09:14 partnerbot <bot@vendor.example> ha scritto:",
        ),
    ),
    separators=(
        P(
            r"messaggio originale",
            "Outlook, Exchange, Samsung Email",
            "-----Messaggio originale-----",
        ),
        P(r"messaggio inoltrato", "Gmail, Thunderbird", "---------- Messaggio inoltrato ---------"),
    ),
    forward_lines=(
        P(r"inizio messaggio inoltrato\s*:", "Apple Mail, iOS Mail", "Inizio messaggio inoltrato:"),
    ),
    header_labels=("Da", "Inviato", "A", "Cc", "Ccn", "Oggetto", "Data", "Risposta", "Rispondi a"),
    client_lines=(
        P(r"inviato da(?:l mio)? [^,;:]{1,40}", "iOS Mail, Samsung, Yahoo", "Inviato da iPhone"),
        P(
            r"scarica outlook per .{1,60}",
            "Outlook for iOS and Android",
            "Scarica Outlook per Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
