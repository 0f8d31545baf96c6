"""Chinese message templates (from the catalogue) filled for one notification.

A message knows which of its values are personal (the place of the need, phone-like digit
runs): ``masked()`` is what may appear in a log line; the real text only goes to the member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.enums import NotificationEvent
from app.domain.times import LOCAL_TZ, stored_utc
from app.i18n import t
from app.models import Assignment, Demand, Member

_DIGITS = re.compile(r"\d{7,}")
_TOKEN = re.compile(r"/([tm])/[A-Za-z0-9_\-]{8,}")
MASK = "***"


def local_time(value: datetime) -> str:
    """A stored (UTC) timestamp as Beijing wall-clock time, the way members read it."""
    return stored_utc(value).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    url: str | None = None
    sensitive: tuple[str, ...] = field(default_factory=tuple)

    @property
    def markdown(self) -> str:
        """The robot-friendly form: a bold subject line, then the text."""
        return f"**{self.subject}**\n\n{self.text}"

    def masked(self, value: str | None = None) -> str:
        """``value`` (default: subject + text) safe for a log: no place, phone or token."""
        out = f"{self.subject} | {self.text}" if value is None else value
        for secret in self.sensitive:
            if secret:
                out = out.replace(secret, MASK)
        out = _TOKEN.sub(lambda m: f"/{m.group(1)}/{MASK}", out)
        return _DIGITS.sub(MASK, out)


def build(
    *, event: NotificationEvent, assignment: Assignment, demand: Demand, member: Member, url: str | None
) -> Message:
    place = f"{demand.area.name}{demand.community.name}" if demand.community is not None else demand.area.name
    params = {
        "name": member.name,
        "title": demand.title,
        "place": place,
        "when": local_time(demand.starts_at),
        "why": assignment.explanation_text or t("notify.why.default"),
        "url": url or "",
    }
    text = t(f"notify.body.{event.value}", **params)
    if url:
        text = f"{text}\n{t('notify.footer')}"
    return Message(
        subject=t(f"notify.subject.{event.value}", **params),
        text=text,
        url=url,
        sensitive=(place, demand.community.name if demand.community else "", member.phone or ""),
    )
