"""Cell parsers: turn what district offices type into spreadsheets into typed values.

Spreadsheets are typed by hand, in Chinese or English, sometimes with full-width
punctuation, so every parser is lenient about form and strict about meaning: a
value it cannot read raises ``CellError`` with a message for the row report,
never a guess. XLSX cells may already be typed (int, float, bool, datetime);
CSV cells are always text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from app.errors import Msg, msg

#: Spreadsheet times carry no zone; district offices work in Beijing time (no DST).
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

#: Separators accepted between list items: ; ； 、 , ， and line breaks.
LIST_SEPARATORS = re.compile(r"[;；、,，\n\r]+")

#: Invisible characters pasted in from web pages and Word (zero-width spaces, BOMs): never data.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
#: Dots typed between the parts of a minority or foreign name (阿依古丽·买买提); stored as U+00B7.
_NAME_DOTS = re.compile(r"\s*[·•・．.﹒‧∙⋅]\s*")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\U00020000-\U0003134f])\s+(?=[\u3400-\u9fff\U00020000-\U0003134f])")
#: Excel's day 0 (its serial dates count from 1899-12-30, the 1900 leap-year bug included).
_EXCEL_EPOCH = date(1899, 12, 30)
_EXCEL_SERIALS = range(36_526, 73_051)  # 2000-01-01 .. 2099-12-31 as Excel day numbers
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）.]+")
_CN_MOBILE = re.compile(r"^(?:\+?86|0086)?(1\d{10})$")
#: What a phone cell may hold: digits, +, separators, and an extension (转 / ext / x).
_PHONE_TYPED = re.compile(r"\+?[\d\s\-()（）./,#]+(?:(?:转|ext\.?|x)\s*\d+)?", re.IGNORECASE)

#: How yes/no and weekdays are written back into exported sheets (forms the parsers read).
YES, NO = "是", "否"
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")

_TRUE = {"是", "true", "t", "yes", "y", "1", "对", "√", "✓", "允许", "接受"}
_FALSE = {"否", "false", "f", "no", "n", "0", "不", "×", "✗", "不允许", "不接受"}

_WEEKDAYS = {
    **{w: i for i, w in enumerate(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])},
    **{w: i for i, w in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])},
    "tues": 1,
    "thur": 3,
    "thurs": 3,
}
_CN_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_CN_DAY_PREFIX = ("星期", "礼拜", "周")
_RANGE_DASH = r"\s*(?:-|–|—|~|～|至|到)\s*"
_SLOT = re.compile(r"^(?P<day>\S+?)\s*(?P<start>\d{1,2}[:：]\d{2})" + _RANGE_DASH + r"(?P<end>\d{1,2}[:：]\d{2})$")
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATETIME = re.compile(r"^(?P<date>.+?)(?:[ T]+|(?<=日))(?P<h>\d{1,2})[:：时](?P<m>\d{2})(?:[:：](?P<s>\d{2}))?分?$")
_DATE_RANGE = re.compile(r"^(.+?)\s*(?:~|～|至|到|—)\s*(.+)$")
_MAX_DATE_RANGE_DAYS = 366


class CellError(ValueError):
    """A cell's value cannot be read; its sentence (a catalogue ``Msg``, so the bad-row report
    speaks the caller's language) goes into the bad-row report. ``str()`` is the English one."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message.render("en"))
        self.message = message


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """Normalise a cell to text: numbers typed into XLSX ids/phones lose their '.0'; leading and
    trailing spaces (ideographic U+3000 and no-break ones too) and invisible characters go."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).translate(_INVISIBLE).strip()


def folded(value: Any) -> str:
    """Text with full-width forms folded to ASCII (NFKC: '１２．５' -> '12.5', '：' -> ':'), for
    cells that hold numbers, dates, times and codes, never for names or free text."""
    return unicodedata.normalize("NFKC", text(value)).strip()


def parse_name(value: Any) -> str:
    """A person's name; the dot between the parts of a minority name is stored as '·' whatever
    was typed (•, ・, ．, a full stop), with no spaces around it; spaces between Chinese
    characters go."""
    name = " ".join(text(value).split())
    name = _CJK_GAP.sub("", name)  # '王　强': offices pad two-character names to align them
    return _NAME_DOTS.sub("·", name).strip("·")


def parse_phone(value: Any) -> str:
    """'+86 138 0013 8000', '138-0013-8000', '１３８００１３８０００' -> '13800138000'. Mainland mobile
    numbers are stored as their 11 digits; other numbers (landlines, extensions) as typed."""
    typed = folded(value)
    compact = _PHONE_SEPARATORS.sub("", typed)
    mobile = _CN_MOBILE.match(compact)
    if mobile:
        return mobile[1]
    if not _PHONE_TYPED.fullmatch(typed) or sum(ch.isdigit() for ch in typed) < 5:
        raise CellError(msg("cell_not_phone", value=text(value)))
    return " ".join(typed.split())


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    token = folded(value).lower()
    if token in _TRUE:
        return True
    if token in _FALSE:
        return False
    raise CellError(msg("cell_not_yes_no", value=text(value)))


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError(msg("cell_expected_whole_number"))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise CellError(msg("cell_not_whole_number", value=str(value)))
    token = folded(value).replace(",", "")
    try:
        number = float(token)
    except ValueError:
        raise CellError(msg("cell_not_whole_number", value=text(value))) from None
    if not number.is_integer():
        raise CellError(msg("cell_not_whole_number", value=token))
    return int(number)


def parse_float(value: Any) -> float:
    if isinstance(value, bool):
        raise CellError(msg("cell_expected_number"))
    if isinstance(value, (int, float)):
        return float(value)
    token = folded(value).lower().removesuffix("km").removesuffix("公里").strip()
    try:
        return float(token)
    except ValueError:
        raise CellError(msg("cell_not_number", value=text(value))) from None


def parse_date(value: Any) -> date:
    """2026-12-05, 2026/12/5, 2026.12.05, 2026年12月5日 (full-width digits too), an XLSX date
    cell, or an Excel day number (a date cell that lost its format: 46363 is 2026-12-07)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if float(value).is_integer() and int(value) in _EXCEL_SERIALS:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        raise CellError(msg("cell_not_date", value=text(value)))
    token = folded(value)
    match = _DATE.match(token)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError as exc:
            raise CellError(msg("cell_invalid_date", value=token, reason=str(exc))) from None
    raise CellError(msg("cell_not_date", value=token))


def parse_datetime(value: Any) -> datetime:
    """A date with a time (2026-12-05 09:00, ISO 8601, 2026年12月5日 9:00, or an XLSX
    datetime cell). Without an explicit offset the time is Beijing time."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=LOCAL_TZ)
    if isinstance(value, date):
        raise CellError(msg("cell_no_time_of_day", value=value.isoformat()))
    token = folded(value)
    try:
        parsed = datetime.fromisoformat(token.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is not None:
        if len(token) <= 10:  # a bare date parses as midnight: refuse, a need has a time
            raise CellError(msg("cell_no_time_of_day", value=token))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)
    match = _DATETIME.match(token)
    if match:
        day = parse_date(match["date"].strip())
        try:
            moment = time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
        except ValueError:
            raise CellError(msg("cell_invalid_time_of_day", value=token)) from None
        return datetime.combine(day, moment, LOCAL_TZ)
    raise CellError(msg("cell_not_datetime", value=token))


def split_list(value: Any) -> list[str]:
    if is_blank(value):
        return []
    return [part.strip() for part in LIST_SEPARATORS.split(text(value)) if part.strip()]


def parse_skills(value: Any) -> list[tuple[str, int | None]]:
    """'法律咨询:3;金融' -> [('法律咨询', 3), ('金融', None)]; the level is 1..3 (full-width '：３' too)."""
    result: list[tuple[str, int | None]] = []
    for item in split_list(value):
        name, sep, level = item.replace("：", ":").partition(":")
        level = unicodedata.normalize("NFKC", level)
        name = name.strip()
        if not name:
            raise CellError(msg("cell_no_skill_name", value=item))
        if not sep:
            result.append((name, None))
            continue
        try:
            lvl = int(level.strip())
        except ValueError:
            raise CellError(msg("cell_skill_level", value=item)) from None
        if not 1 <= lvl <= 3:
            raise CellError(msg("cell_skill_level", value=item))
        result.append((name, lvl))
    return result


def parse_weekday(token: str) -> int:
    """周六 / 星期六 / 礼拜六 / Sat / Saturday -> 5 (Monday is 0)."""
    t = token.strip().lower()
    if t in _WEEKDAYS:
        return _WEEKDAYS[t]
    for prefix in _CN_DAY_PREFIX:
        if t.startswith(prefix) and t[len(prefix) :] in _CN_DAYS:
            return _CN_DAYS[t[len(prefix) :]]
    raise CellError(msg("cell_not_weekday", value=token))


def _hhmm(token: str) -> str:
    hours, minutes = token.replace("：", ":").split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise CellError(msg("cell_not_time_of_day", value=token))
    return f"{h:02d}:{m:02d}"


def parse_slots(value: Any) -> list[dict[str, Any]]:
    """'周六 09:00-12:00;周日 14:00-17:00' or 'Sat 09:00-12:00' -> [{weekday, start, end}]."""
    slots = []
    for item in split_list(value):
        item = unicodedata.normalize("NFKC", item)
        match = _SLOT.match(item)
        if not match:
            raise CellError(msg("cell_not_weekly_slot", value=item))
        start, end = _hhmm(match["start"]), _hhmm(match["end"])
        if end <= start:
            raise CellError(msg("cell_slot_end_before_start", value=item))
        slots.append({"weekday": parse_weekday(match["day"]), "start": start, "end": end})
    return slots


def parse_dates(value: Any) -> list[date]:
    """Dates separated like lists; '2026-12-01~2026-12-03' (or 至) is an inclusive range."""
    if isinstance(value, (date, datetime, int, float)) and not isinstance(value, bool):
        return [parse_date(value)]
    days: list[date] = []
    for item in split_list(value):
        match = _DATE_RANGE.match(item)
        if match and _DATE.match(match[1].strip()) and _DATE.match(match[2].strip()):
            first, last = parse_date(match[1].strip()), parse_date(match[2].strip())
            span = (last - first).days
            if span < 0:
                raise CellError(msg("cell_range_ends_before_start", value=item))
            if span >= _MAX_DATE_RANGE_DAYS:
                raise CellError(msg("cell_range_too_long", value=item, days=_MAX_DATE_RANGE_DAYS))
            days.extend(first + timedelta(days=i) for i in range(span + 1))
        else:
            days.append(parse_date(item))
    return sorted(set(days))
