"""German (Germany, Austria, Switzerland)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="de",
    attributions=(
        P(
            r"am\s(?=.*[\d@<]).{1,200}?\bschrieb\s[^:]{1,150}:",
            "Gmail, Apple Mail, Thunderbird, GMX, WEB.DE, K-9, Fastmail",
            "Am Di., 24. Nov. 2026 um 09:14 Uhr schrieb partnerbot <bot@vendor.example>:",
        ),
        P(
            r"am\s(?=.*[\d@<]).{1,200}?\b(?:schrieb|geschrieben|schrieben sie)\s*:",
            "Apple Mail, Outlook for Mac ('Am …, hat … geschrieben:')",
            "Am 24.11.2026 um 10:00 hat partnerbot <bot@vendor.example> geschrieben:",
        ),
        P(
            r".{1,150}?\bschrieb am\s.{1,100}:",
            "Gmail (until 2017), Android",
            "Max Mustermann <max@muster.example> schrieb am Fr., 28. Apr. 2026 um 11:53 Uhr:",
        ),
        P(
            r"(?=.*(?:@|\svia\s)).{1,300}?\bschrieb\s*:",
            "mailing lists, clients writing name and address only",
            "partnerbot via Vendor Partners <bot@vendor.example> schrieb:",
        ),
        P(
            r"zitat von\s(?=.*[@<]).{1,300}:",
            "Horde IMP",
            "Zitat von partnerbot <bot@vendor.example>:",
        ),
    ),
    separators=(
        P(
            r"urspr(?:ü|ue)ngliche nachricht",
            "Outlook, Samsung Email",
            "-----Ursprüngliche Nachricht-----",
        ),
        P(r"urspr(?:ü|ue)ngliche mail", "Zimbra", "----- Ursprüngliche Mail -----"),
        P(r"original-nachricht", "GMX, WEB.DE (older)", "-------- Original-Nachricht --------"),
        P(
            r"weitergeleitete (?:nachricht|mail|e-mail)",
            "Gmail, Thunderbird",
            "---------- Weitergeleitete Nachricht ---------",
        ),
        P(
            r"weitergeleitet von\s.{1,120}",
            "Lotus Notes",
            "----- Weitergeleitet von Dieter Schneider/DE am 01.12.2026 08:00 -----",
        ),
    ),
    forward_lines=(
        P(
            r"anfang der weitergeleiteten (?:e-mail|nachricht)\s*:",
            "Apple Mail, iOS Mail",
            "Anfang der weitergeleiteten E-Mail:",
        ),
    ),
    header_labels=("Von", "Gesendet", "An", "Cc", "Kopie", "Betreff", "Datum", "Antwort an"),
    client_lines=(
        P(
            r"von meinem .{1,60} gesendet\.?",
            "iOS Mail, Samsung, Huawei",
            "Von meinem iPhone gesendet",
        ),
        P(
            r"diese nachricht wurde von .{1,80} gesendet\.?",
            "WEB.DE, GMX, K-9 Mail on Android",
            "Diese Nachricht wurde von meinem Android Mobiltelefon mit WEB.DE Mail gesendet.",
        ),
        P(
            r"gesendet (?:von|mit|aus) [^,;:]{1,60}",
            "Proton, Yahoo, Mail für Windows, GMX app",
            "Gesendet mit der sicheren E-Mail von Proton Mail.",
        ),
        P(
            r"outlook für .{1,20} beziehen.{0,60}",
            "Outlook for iOS and Android",
            "Outlook für iOS beziehen<https://aka.ms/o0ukef>",
        ),
    ),
)
