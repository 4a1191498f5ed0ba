"""Norwegian (Bokmål); the attributions are Danish and Swedish ones (see da.py, sv.py)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="nb",
    separators=(
        P(r"opprinnelig melding", "Outlook, Exchange", "-----Opprinnelig melding-----"),
        P(r"original melding", "Samsung Email", "-------- Original melding --------"),
        P(r"videresendt melding", "Gmail, Thunderbird", "---------- Videresendt melding ---------"),
    ),
    forward_lines=(
        P(r"(?:start på )?videresendt melding\s*:", "Apple Mail, iOS Mail", "Videresendt melding:"),
    ),
    header_labels=("Fra", "Sendt", "Til", "Kopi", "Emne", "Dato"),
    client_lines=(
        P(
            r"få outlook for .{1,60}",
            "Outlook for iOS and Android",
            "Få Outlook for iOS<https://aka.ms/o0ukef>",
        ),
    ),
)
