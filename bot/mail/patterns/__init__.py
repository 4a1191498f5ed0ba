"""Reply-extraction patterns as data, one module per language (`intl` holds the shapes that
belong to no language). `bot.mail.trimming` compiles them once; tests check every example."""

from bot.mail.patterns import (
    cs,
    da,
    de,
    en,
    es,
    fi,
    fr,
    hu,
    intl,
    it,
    ja,
    ko,
    nb,
    nl,
    pl,
    pt,
    ru,
    sv,
    tr,
    uk,
    zh,
)
from bot.mail.patterns.base import Language, Pattern

LANGUAGES: tuple[Language, ...] = tuple(
    module.LANGUAGE
    for module in (
        intl,
        en,
        de,
        fr,
        es,
        it,
        pt,
        nl,
        sv,
        da,
        nb,
        fi,
        pl,
        ru,
        uk,
        cs,
        tr,
        hu,
        ja,
        zh,
        ko,
    )
)

__all__ = ["LANGUAGES", "Language", "Pattern"]
