"""The message catalogue: every word a person reads (pages, messages, CLI, problem texts).

One lookup, ``t(key, locale, **params)``, over one catalogue per locale. The Chinese catalogue is
the reference: a key missing from another locale falls back to Chinese, and a key missing from
Chinese is a programming error (``KeyError``), caught by a test that renders every key.
Sections of the catalogue live in ``app/i18n/zh/*.py`` (one module per area of the product), each
defining ``MESSAGES: dict[str, str]``; they are merged here, and a key defined twice is an error.

Enum display names use the key ``enum.<EnumName>.<value>``; ``label(member)`` looks them up.
"""

from __future__ import annotations

import importlib
import pkgutil
from enum import Enum
from functools import cache

DEFAULT_LOCALE = "zh"
LOCALES = ("zh", "en")


@cache
def catalogue(locale: str) -> dict[str, str]:
    """All messages of one locale, merged from its section modules."""
    package = importlib.import_module(f"app.i18n.{locale}")
    merged: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        section = importlib.import_module(f"{package.__name__}.{info.name}")
        for key, text in section.MESSAGES.items():
            if key in merged:
                raise ValueError(f"message {key!r} defined twice (again in {section.__name__})")
            merged[key] = text
    return merged


def normalize_locale(value: str | None) -> str:
    """Map 'zh-CN', 'zh_CN.UTF-8', 'en-US', None ... onto a supported locale."""
    if not value:
        return DEFAULT_LOCALE
    head = value.strip().lower().replace("_", "-").split("-")[0].split(".")[0]
    return head if head in LOCALES else DEFAULT_LOCALE


def t(key: str, locale: str | None = None, /, **params: object) -> str:
    """The message ``key`` in ``locale`` (Chinese by default), formatted with ``params``."""
    loc = normalize_locale(locale)
    text = catalogue(loc).get(key) if loc != DEFAULT_LOCALE else None
    if text is None:
        text = catalogue(DEFAULT_LOCALE)[key]
    return text.format(**params) if params else text


def label(value: Enum, locale: str | None = None) -> str:
    """Display name of an enum value, e.g. label(DemandStatus.OPEN) == '待匹配'."""
    return t(f"enum.{type(value).__name__}.{value.value}", locale)
