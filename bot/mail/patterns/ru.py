"""Russian."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="ru",
    attributions=(
        P(
            r"(?=.*\d).{1,400}?(?:пишет|написал(?:\(а\)|а)?)\s*:",
            "Thunderbird, Gmail (older), Yandex",
            "27.11.2026 12:00, partnerbot пишет:",
        ),
    ),
    separators=(
        P(
            r"(?:исходное|оригинальное) сообщение",
            "Outlook, Exchange, Samsung Email",
            "-----Исходное сообщение-----",
        ),
        P(
            r"(?:конец )?пересылаемого сообщения",
            "Yandex",
            "-------- Конец пересылаемого сообщения --------",
        ),
        P(
            r"(?:пересылаемое|пересланное|переадресованное) сообщение",
            "Yandex, Gmail, Thunderbird",
            "-------- Пересылаемое сообщение --------",
        ),
    ),
    forward_lines=(
        P(
            r"начало переадресованного (?:сообщения|письма)\s*:",
            "Apple Mail, iOS Mail",
            "Начало переадресованного сообщения:",
        ),
    ),
    header_labels=("От", "Отправлено", "Отправитель", "Кому", "Копия", "Тема", "Дата"),
    client_lines=(
        P(
            r"отправлено (?:с|из|со) [^,;:]{1,50}",
            "iOS Mail, Samsung, Mail.ru, Yandex",
            "Отправлено с iPhone",
        ),
        P(
            r"получите outlook для .{1,60}",
            "Outlook for iOS and Android",
            "Получите Outlook для Android<https://aka.ms/AAb9ysg>",
        ),
    ),
)
