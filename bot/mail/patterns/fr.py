"""French (France, Belgium, Switzerland, Canada)."""

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="fr",
    attributions=(
        P(
            r"le\s(?=.*[\d@<]).{1,200}?\b(?:a\s+(?:é|e)crit|(?:é|e)crivait|nous a dit)\s*:",
            "Gmail, Thunderbird, Apple Mail, Roundcube, Zoho",
            "Le mar. 24 nov. 2026 à 09:14, partnerbot <bot@vendor.example> a écrit :",
        ),
        P(
            r"(?=.*[@<]).{1,300}?\ba\s+(?:é|e)crit\s*:",
            "clients writing name and address only",
            "partnerbot <bot@vendor.example> a écrit :",
        ),
    ),
    separators=(
        P(r"message d'origine", "Outlook, Exchange, Samsung Email", "-----Message d'origine-----"),
        P(
            r"message transf(?:é|e)r(?:é|e)",
            "Thunderbird, Gmail",
            "-------- Message transféré --------",
        ),
        P(r"mail original", "Zimbra", "----- Mail original -----"),
        P(r"message original", "Yahoo, Orange", "-------- Message original --------"),
    ),
    forward_lines=(
        P(
            r"d(?:é|e)but du message (?:transf(?:é|e)r(?:é|e)|r(?:é|e)exp(?:é|e)di(?:é|e))\s*:",
            "Apple Mail, iOS Mail",
            "Début du message transféré :",
        ),
    ),
    header_labels=(
        "De",
        "Envoyé",
        "Envoyé le",
        "À",
        "A",
        "Cc",
        "Objet",
        "Date",
        "Expéditeur",
        "Destinataire",
        "Répondre à",
        "Sujet",
        "Pour",
        "Le",  # Lotus Notes: "Le : 12/03/2026 10:00"
    ),
    client_lines=(
        P(
            r"envoy(?:é|e) (?:de|depuis|à partir de|a partir de|avec)"
            r" (?:mon|ma|yahoo|outlook|proton|l'application).{0,60}",
            "iOS Mail, Samsung, BlackBerry, Yahoo",
            "Envoyé de mon iPhone",
        ),
        P(
            r"(?:obtenir|télécharger|telecharger) outlook pour .{1,60}",
            "Outlook for iOS and Android",
            "Obtenir Outlook pour Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
