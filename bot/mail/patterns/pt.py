"""Portuguese (Brazil and Portugal)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="pt",
    attributions=(
        P(
            r"em\s(?=.*[\d@<]).{1,200}?\bescreveu\s*:",
            "Gmail (pt-BR), Thunderbird, Apple Mail",
            "Em ter., 24 de nov. de 2026 às 05:14, partnerbot <bot@vendor.example> escreveu:",
        ),
        P(
            r".{1,150}?\bescreveu\s+(?:no dia|em)\s.{1,100}:",
            "Gmail (pt-PT)",
            "partnerbot <bot@vendor.example> escreveu no dia terça, 01/12/2026 à(s) 09:00:",
        ),
        P(
            r"(?:a|à|às)\s+\d.{1,200}?\bescreveu\s*:",
            "Apple Mail, iOS Mail (pt-PT)",
            "A 1/12/2026, às 09:00, partnerbot <bot@vendor.example> escreveu:",
        ),
    ),
    separators=(
        P(r"mensagem original", "Outlook, Exchange, Samsung Email", "-----Mensagem original-----"),
        P(
            r"mensagem encaminhada",
            "Gmail, Thunderbird",
            "---------- Mensagem encaminhada ---------",
        ),
    ),
    forward_lines=(
        P(
            r"in(?:í|i)cio da mensagem (?:re)?encaminhada\s*:",
            "Apple Mail, iOS Mail",
            "Início da mensagem encaminhada:",
        ),
    ),
    header_labels=(
        "De",
        "Enviado",
        "Enviada em",
        "Enviado em",
        "Para",
        "Cc",
        "Assunto",
        "Data",
        "Responder a",
    ),
    client_lines=(
        P(
            r"enviado (?:do|a partir do|pelo) (?:meu|yahoo|outlook|proton).{0,60}",
            "iOS Mail, Samsung, Yahoo",
            "Enviado do meu iPhone",
        ),
        P(
            r"obter o outlook para .{1,60}",
            "Outlook for iOS and Android",
            "Obter o Outlook para Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
