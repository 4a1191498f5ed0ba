"""Spanish (Spain and Latin America)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="es",
    attributions=(
        P(
            r"el\s(?=.*[\d@<]).{1,200}?\bescribi(?:ó|o)\s*:",
            "Gmail, Thunderbird, Apple Mail, Yahoo",
            "El mar, 24 nov 2026 a las 9:14, partnerbot (<bot@vendor.example>) escribió:",
        ),
    ),
    separators=(
        P(r"mensaje original", "Outlook, Exchange, Samsung Email", "-----Mensaje original-----"),
        P(r"mensaje reenviado", "Gmail, Thunderbird", "---------- Mensaje reenviado ---------"),
    ),
    forward_lines=(
        P(
            r"(?:inicio|comienzo) del mensaje reenviado\s*:",
            "Apple Mail, iOS Mail",
            "Inicio del mensaje reenviado:",
        ),
    ),
    header_labels=(
        "De",
        "Enviado",
        "Enviado el",
        "Para",
        "CC",
        "CCO",
        "Asunto",
        "Fecha",
        "Responder a",
    ),
    client_lines=(
        P(
            r"enviado desde (?:mi|yahoo|outlook|proton|mail).{0,60}",
            "iOS Mail, Samsung, Yahoo",
            "Enviado desde mi iPhone",
        ),
        P(
            r"obt(?:é|e)n(?:er)? outlook para .{1,60}",
            "Outlook for iOS and Android",
            "Obtener Outlook para iOS<https://aka.ms/o0ukef>",
        ),
    ),
)
