"""Ukrainian."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="uk",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?(?:пише|написав|написала)\s*:",
            "Gmail, Thunderbird, ukr.net",
            "вт, 24 лист. 2026 р. о 10:14 partnerbot <bot@vendor.example> пише:",
        ),
    ),
    separators=(
        P(
            r"(?:оригінальне|вихідне) повідомлення",
            "ukr.net, Outlook, Samsung Email",
            "--- Оригінальне повідомлення ---",
        ),
        P(
            r"(?:пересланий лист|переслане повідомлення)",
            "Gmail, Thunderbird",
            "---------- Пересланий лист ---------",
        ),
    ),
    forward_lines=(
        P(
            r"початок пересланого (?:листа|повідомлення)\s*:",
            "Apple Mail, iOS Mail",
            "Початок пересланого листа:",
        ),
    ),
    header_labels=("Від", "Від кого", "Надіслано", "Кому", "Копія", "Тема", "Дата"),
    client_lines=(
        P(r"надіслано (?:з|із|зі) [^,;:]{1,50}", "iOS Mail, Samsung", "Надіслано з iPhone"),
    ),
)
