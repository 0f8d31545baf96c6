"""Suggesting required skills from a demand's free text, and skill type-ahead.

Why this way: residents' needs arrive as prose ("小区物业纠纷，需要律师帮忙"), and staff should not
have to know the catalogue by heart. The text is segmented with ``jieba`` whose dictionary is
extended by the catalogue's names and synonyms (so "防金融诈骗" stays one word); a skill scores
3 for each of its names or synonyms found whole in the text and 1 for each word of them (two
characters or more) found on its own. Every suggestion carries the words that matched, so staff
see why it was suggested. The same function serves the console and ``POST /v1/skills:suggest``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import jieba
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Skill
from app.services.pinyin_match import best_rank

jieba.setLogLevel(logging.WARNING)
_tokenizer = jieba.Tokenizer()
_added: set[str] = set()
_lock = threading.Lock()
WHOLE, PART = 3.0, 1.0


@dataclass
class SkillSuggestion:
    skill: Skill
    score: float
    matched_words: list[str] = field(default_factory=list)


def _phrases(skill: Skill) -> list[str]:
    return [p.strip() for p in [skill.name, *(skill.synonyms or [])] if p and p.strip()]


def _words(phrases: list[str]) -> set[str]:
    """The catalogue phrases (added to jieba's dictionary) and their own words of 2+ characters."""
    with _lock:
        for p in phrases:
            if p not in _added:
                _tokenizer.add_word(p, freq=200_000)
                _added.add(p)
        return {w for p in phrases for w in _tokenizer.cut_for_search(p) if len(w.strip()) >= 2}


def _active_skills(session: Session, district_id: int) -> list[Skill]:
    return list(
        session.scalars(
            select(Skill).where(Skill.district_id == district_id, Skill.active.is_(True)).order_by(Skill.id)
        )
    )


def suggest_skills(session: Session, *, district_id: int, text: str, limit: int = 5) -> list[SkillSuggestion]:
    """Skills of the catalogue the text speaks of, best first, each with the words that matched."""
    text = (text or "").strip()
    if not text:
        return []
    skills = _active_skills(session, district_id)
    _words([p for s in skills for p in _phrases(s)])  # make sure jieba knows every phrase first
    with _lock:
        tokens = {w for w in _tokenizer.cut_for_search(text) if len(w.strip()) >= 2}
    out = []
    for skill in skills:
        phrases = _phrases(skill)
        matched: list[str] = []
        score = 0.0
        for p in phrases:
            if p in text or p in tokens:
                score += WHOLE
                matched.append(p)
        for w in sorted(_words(phrases) - set(matched)):
            if w in tokens and not any(w in m for m in matched):
                score += PART
                matched.append(w)
        if score:
            out.append(SkillSuggestion(skill=skill, score=score, matched_words=matched))
    out.sort(key=lambda s: (-s.score, s.skill.id))
    return out[:limit]


def find_skills(session: Session, *, district_id: int, query: str, limit: int = 20) -> list[Skill]:
    """Type-ahead over the catalogue: code, name and synonyms, by characters, pinyin or initials."""
    ranked = []
    for skill in _active_skills(session, district_id):
        rank = best_rank(query, [skill.name, skill.code, *(skill.synonyms or [])])
        if rank is not None:
            ranked.append((rank, skill.id, skill))
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [s for _, _, s in ranked[:limit]]
