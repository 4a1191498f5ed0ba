"""Polish."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="pl",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?\bnapisał(?:\(a\)|a)?\s*:",
            "Gmail, Onet, WP and Interia webmail",
            "wt. 24 lis 2026 o 09:14 partnerbot <bot@vendor.example> napisał(a):",
        ),
        P(
            r"w dniu\s(?=.*\d).{1,200}?\b(?:pisze|napisał(?:\(a\)|a)?)\s*:",
            "Thunderbird",
            "W dniu 26.11.2026 o 10:00, partnerbot pisze:",
        ),
    ),
    separators=(
        P(
            r"(?:oryginalna wiadomość|wiadomość oryginalna)",
            "Outlook, Exchange, Samsung Email",
            "-----Oryginalna wiadomość-----",
        ),
        P(
            r"(?:przekazana wiadomość|wiadomość przekazana)",
            "Gmail, Thunderbird",
            "---------- Przekazana wiadomość ---------",
        ),
    ),
    forward_lines=(
        P(
            r"początek przekazywanej wiadomości\s*:",
            "Apple Mail, iOS Mail",
            "Początek przekazywanej wiadomości:",
        ),
    ),
    header_labels=("Od", "Wysłano", "Wysłane", "Do", "DW", "UDW", "Temat", "Data"),
    client_lines=(
        P(r"wysłan[eo] (?:z|przy użyciu) [^,;:]{1,50}", "iOS Mail, Samsung", "Wysłane z iPhone'a"),
        P(
            r"pobierz (?:aplikację )?outlook dla .{1,60}",
            "Outlook for iOS and Android",
            "Pobierz aplikację Outlook dla systemu Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
