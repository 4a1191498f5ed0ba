"""Language-neutral shapes: attributions made of a date and an address only, whatever the
language of the date (Gmail in Russian, Japanese or Korean, Yandex, Mail.ru, old Gmail)."""

# ruff: noqa: RUF001 - letters and punctuation of other scripts are the data here

from bot.mail.patterns.base import Language, Pattern

P = Pattern

LANGUAGE = Language(
    code="intl",
    attributions=(
        P(
            r"(?=.*\d{4}).{1,200}?<[^<>@\s]+@[^<>\s]+>\s*:",
            "Gmail (ru, ja), Yandex, Mail.ru: a date, the name and the address",
            "вт, 24 нояб. 2026 г. в 11:14, partnerbot <bot@vendor.example>:",
        ),
    ),
    bare_attributions=(
        P(
            r"(?=.*\d{4})\d.{0,200}?<[^<>@\s]+@[^<>\s]+>",
            "older webmail: the same starting with the date, without a colon",
            "2026/12/2 partnerbot <bot@vendor.example>",
        ),
        P(
            r"\d{4}-\d\d-\d\d\s\d{1,2}:\d\d\sGMT[+-]\d{1,2}:\d\d\s.{1,150}",
            "Gmail (before 2016), any language",
            "2026-12-01 12:00 GMT+03:00 Ann Lee",
        ),
    ),
)
