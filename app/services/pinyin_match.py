"""Finding Chinese names by what staff type: characters, full pinyin or initials.

``fl`` and ``falv`` both find 法律咨询, ``zw`` and ``zhangwei`` find 张伟. Pinyin comes from
``pypinyin`` (toneless, ü written as v, as on a Chinese keyboard); results are cached per text.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


def normalize_query(query: str) -> str:
    return "".join(query.split()).replace("'", "").casefold()


@lru_cache(maxsize=8192)
def pinyin_forms(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of a text, e.g. 法律咨询 -> ("falvzixun", "flzx")."""
    full = "".join(lazy_pinyin(text)).casefold()
    initials = "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).casefold()
    return "".join(full.split()), "".join(initials.split())


def match_rank(query: str, text: str) -> int | None:
    """How well ``text`` answers ``query`` (0 best), or None when it does not match at all.

    0: the text starts with the query (characters or pinyin), 1: initials start with it,
    2: it occurs inside the text or its pinyin or initials.
    """
    q = normalize_query(query)
    if not q:
        return 0
    plain = "".join(text.split()).casefold()
    full, initials = pinyin_forms(text)
    if plain.startswith(q) or full.startswith(q):
        return 0
    if initials.startswith(q):
        return 1
    if q in plain or q in full or q in initials:
        return 2
    return None


def best_rank(query: str, texts: list[str]) -> int | None:
    """The best rank over several texts (a name and its synonyms); None when none matches."""
    ranks = [r for r in (match_rank(query, x) for x in texts if x) if r is not None]
    return min(ranks) if ranks else None
