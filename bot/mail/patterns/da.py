"""Danish."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="da",
    attributions=(
        P(
            r".{0,200}?\bkl\.?\s*\d{1,2}[.:]\d\d\b.{0,200}?\bskrev(?:\s[^:]{1,150})?\s*:",
            "Gmail (nb, da), Apple Mail (da, nb, sv): a date with 'kl.' and 'skrev'",
            "tir. 24. nov. 2026 kl. 09:14 skrev partnerbot <bot@vendor.example>:",
        ),
    ),
    separators=(
        P(
            r"oprindelig (?:meddelelse|besked)",
            "Outlook, Exchange, Samsung Email",
            "-----Oprindelig meddelelse-----",
        ),
        P(
            r"videresendt (?:meddelelse|besked)",
            "Gmail, Thunderbird",
            "---------- Videresendt meddelelse ----------",
        ),
    ),
    forward_lines=(
        P(
            r"(?:start på )?videresendt (?:meddelelse|besked)\s*:",
            "Apple Mail, iOS Mail",
            "Start på videresendt besked:",
        ),
    ),
    header_labels=("Fra", "Sendt", "Til", "Cc", "Kopi", "Emne", "Dato", "Svar til"),
    client_lines=(
        P(r"sendt fra [^,;:]{1,50}", "iOS Mail, Samsung (da, nb)", "Sendt fra min iPhone"),
        P(
            r"hent outlook til .{1,60}",
            "Outlook for iOS and Android",
            "Hent Outlook til Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
