"""The demo world as plain data, drawn from the catalogues with a seeded RNG (no database).

Keeping generation pure makes determinism cheap to test and lets ``generate`` stay a thin
ORM writer. Each part (people, members, needs, duty) has its own RNG stream, so a change in
one part does not reshuffle the others.

Times: the district works in Beijing time (UTC+8, no daylight saving). Demand windows here are
aware datetimes in that zone; weekly slots and blackout dates are local wall-clock values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from app.demo import data

LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
WEEKDAYS, WEEKEND = (0, 1, 2, 3, 4), (5, 6)


@dataclass
class AreaSpec:
    code: str
    name: str
    kind: str
    lat: float
    lon: float
    liaison_name: str
    liaison_phone: str


@dataclass
class MemberSpec:
    external_id: str
    name: str
    sector: str
    group: str
    home_area: str
    work_area: str | None
    phone: str
    weekly_cap: int
    accepts_cross_area: bool
    max_distance_km: float | None
    blackout_dates: list[str]
    weekly_slots: list[dict]  # {"weekday": 0..6, "start": "HH:MM", "end": "HH:MM"}, local time
    skills: dict[str, int]  # skill code -> level (1 basic .. 3 expert), in insertion order


@dataclass
class DemandSpec:
    external_id: str
    area: str
    community: str
    title: str
    description: str
    channel: str
    priority: int
    min_members: int
    max_members: int
    starts_at: datetime  # aware, Beijing time
    ends_at: datetime
    skills: tuple[str, ...]
    excluded: tuple[str, ...] = ()  # member external ids (conflict of interest)
    scenario: str | None = None  # why a hand-made need is here (e.g. "no_skill_holder")


@dataclass
class DutySpec:
    member: str  # external id
    kind: str  # suggestion | information | activity
    date: date
    title: str
    area: str


@dataclass
class DemoPlan:
    seed: int
    week_start: date
    areas: list[AreaSpec]
    communities: list[tuple[str, str]]  # (area code, name)
    groups: list[tuple[str, tuple[str, ...]]]  # (name, paired area codes)
    skills: list[tuple[str, str, str, tuple[str, ...]]]
    members: list[MemberSpec]
    demands: list[DemandSpec]
    duty: list[DutySpec] = field(default_factory=list)

    @property
    def week_end(self) -> date:
        return self.week_start + timedelta(days=6)


# --------------------------------------------------------------------------- helpers
def _weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _weighted_sample(rng: random.Random, weights: Mapping[str, float], k: int) -> list[str]:
    pool = dict(weights)
    out: list[str] = []
    while pool and len(out) < k:
        pick = _weighted(rng, pool)
        out.append(pick)
        del pool[pick]
    return out


def _km(a: data.AreaRow, b: data.AreaRow) -> float:
    """Haversine distance, good enough for choosing neighbours."""
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def _hhmm(t: str) -> time:
    return time.fromisoformat(t)


class _Names:
    """Unique, plausible Chinese names (surname + one or two given characters)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set(data.RESERVED_NAMES)

    def make(self) -> str:
        rng = self.rng
        while True:
            chars = data.GIVEN_MALE if rng.random() < 0.55 else data.GIVEN_FEMALE
            given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
            if len(given) == 2 and given[0] == given[1] and rng.random() < 0.8:
                continue  # reduplicated names exist but are rare
            name = rng.choice(data.SURNAMES) + given
            if name not in self.used:
                self.used.add(name)
                return name


# --------------------------------------------------------------------------- areas, people
def _areas(rng: random.Random, names: _Names) -> list[AreaSpec]:
    phones: set[str] = set()
    out = []
    for row in data.load_areas():
        phone = ""
        while not phone or phone in phones:
            phone = f"010-6{rng.randrange(10**7):07d}"
        phones.add(phone)
        out.append(AreaSpec(row.code, row.name, row.kind, row.lat, row.lon, names.make(), phone))
    return out


def _skill_levels(rng: random.Random, sector: str) -> dict[str, int]:
    _, expertise, resources = data.SECTORS[sector]
    target = rng.choices((2, 3, 4, 5), weights=(25, 35, 28, 12))[0]
    skills: dict[str, int] = {}
    for code in _weighted_sample(rng, expertise, rng.choices((1, 2, 3), weights=(35, 50, 15))[0]):
        skills[code] = rng.choices((2, 3), weights=(55, 45))[0]
    if rng.random() < 0.15:  # a second profession outside the sector's usual fields
        common = [c for c, _, cat, _ in data.SKILLS if cat == "expertise" and c not in data.RARE_SKILLS]
        skills.setdefault(rng.choice(common), 2)
    if resources and rng.random() < 0.45:
        skills.setdefault(_weighted(rng, resources), rng.choice((2, 3)))
    interests = dict(data.INTEREST_WEIGHTS)
    for code, w in data.SECTOR_INTERESTS.get(sector, {}).items():
        interests[code] += w
    for code in _weighted_sample(rng, interests, max(0, target - len(skills))):
        skills[code] = 3 if sector == "文化艺术界" and rng.random() < 0.5 else rng.choice((1, 2))
    while len(skills) > 5:
        skills.popitem()
    return skills


SLOT_PATTERNS: tuple[list[dict], ...] = (
    [{"weekday": d, "start": "08:00", "end": "20:00"} for d in WEEKEND],  # weekends only
    [{"weekday": d, "start": "18:00", "end": "21:30"} for d in WEEKDAYS]
    + [{"weekday": d, "start": "08:00", "end": "20:00"} for d in WEEKEND],  # after work
    [{"weekday": d, "start": "13:00", "end": "18:00"} for d in (1, 3)],  # Tue/Thu afternoons
    [{"weekday": d, "start": "08:30", "end": "12:00"} for d in WEEKDAYS],  # weekday mornings
)


def _members(rng: random.Random, names: _Names, week_start: date) -> list[MemberSpec]:
    rows = {a.code: a for a in data.load_areas()}
    sectors = [s for s, (n, _, _) in data.SECTORS.items() for _ in range(n)]
    rng.shuffle(sectors)
    sizes = [data.MEMBER_COUNT // len(data.GROUP_NAMES)] * len(data.GROUP_NAMES)
    for g in rng.sample(range(len(sizes)), data.MEMBER_COUNT - sum(sizes)):
        sizes[g] += 1
    groups = [g for g, n in enumerate(sizes) for _ in range(n)]
    rng.shuffle(groups)
    work_hubs = ("JW", "CW", "HJL", "SLT", "JXQ", "WJ", "AYC", "SJ", "TJH", "MZD")
    phones: set[str] = set()
    members = []
    for i, (sector, g) in enumerate(zip(sectors, groups, strict=True), start=1):
        paired = data.GROUP_AREAS[g]
        if rng.random() < 0.8:  # 定点包片: most live in their group's areas ...
            home, work = rng.choice(paired), None
        else:  # ... the others live nearby and work there
            anchor = rows[paired[0]]
            near = sorted((c for c in rows if c not in paired), key=lambda c: _km(anchor, rows[c]))[:6]
            home, work = rng.choice(near), rng.choice(paired)
        if work is None and rng.random() < 0.5:
            work = rng.choice(work_hubs + paired)
        phone = ""
        while not phone or phone in phones:
            phone = rng.choice(data.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        phones.add(phone)
        accepts = rng.random() >= 0.10
        max_km = float(rng.randint(5, 15)) if accepts and rng.random() < 0.33 else None
        blackout = []
        if rng.random() < 0.22:
            days = sorted(rng.sample(range(7), rng.choice((1, 1, 2, 3))))
            blackout = [(week_start + timedelta(days=d)).isoformat() for d in days]
        slots = [dict(s) for s in rng.choice(SLOT_PATTERNS)] if rng.random() < 0.15 else []
        members.append(
            MemberSpec(
                external_id=f"WY-{i:04d}",
                name=names.make(),
                sector=sector,
                group=data.GROUP_NAMES[g],
                home_area=home,
                work_area=work if work != home else None,
                phone=phone,
                weekly_cap=rng.choices((2, 1, 3), weights=(75, 12, 13))[0],
                accepts_cross_area=accepts,
                max_distance_km=max_km,
                blackout_dates=blackout,
                weekly_slots=slots,
                skills=_skill_levels(rng, sector),
            )
        )
    _scenario_members(rng, members)
    return members


def _give(member: MemberSpec, code: str, level: int) -> None:
    """Add a skill, dropping the weakest interest if the member already holds five."""
    if len(member.skills) >= 5:
        interests = {c for c, _, cat, _ in data.SKILLS if cat == "interest"}
        weakest = min(
            (c for c in member.skills if c in interests),
            key=lambda c: member.skills[c],
            default=next(reversed(member.skills)),
        )
        del member.skills[weakest]
    member.skills[code] = level


def _free_to_travel(member: MemberSpec) -> None:
    member.accepts_cross_area, member.max_distance_km = True, None
    member.blackout_dates, member.weekly_slots = [], []


def _scenario_members(rng: random.Random, members: list[MemberSpec]) -> None:
    """The few holders of rare skills, shaped so that the hard needs fail for distinct reasons."""
    taken: set[str] = set()

    def pick(k: int, ok) -> list[MemberSpec]:
        chosen = rng.sample([m for m in members if ok(m) and m.external_id not in taken], k)
        taken.update(m.external_id for m in chosen)
        return chosen

    # 饮用水水质: three experts, five places a week between them -> some needs at capacity.
    for m, cap in zip(pick(3, lambda m: m.sector in ("科技界", "九三学社", "农业界")), (2, 2, 1), strict=True):
        _free_to_travel(m)
        m.weekly_cap = cap
        _give(m, "water_quality", 3)
    # 戏曲: four opera people, free on weekends only -> a weekday opera class finds nobody.
    for m in pick(4, lambda m: m.sector == "文化艺术界"):
        _free_to_travel(m)
        m.weekly_slots = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in WEEKEND]
        _give(m, "opera", 3)
    # 木偶剧团: two members from the puppet theatre in 安贞, who will not travel far.
    az_group = data.GROUP_NAMES[[i for i, a in enumerate(data.GROUP_AREAS) if "AZ" in a][0]]
    home_body, short_reach = pick(2, lambda m: m.group == az_group)
    for m in (home_body, short_reach):
        _free_to_travel(m)
        m.sector, m.home_area = "文化艺术界", "AZ"
        m.work_area = None
        _give(m, "artists", 2)
        _give(m, "puppetry", 3)
    home_body.accepts_cross_area = False
    short_reach.max_distance_km = 5.0


# --------------------------------------------------------------------------- needs
def _window(
    rng: random.Random,
    week_start: date,
    pattern: str,
    durations: tuple[int, ...],
    day: int | None = None,
    start: str | None = None,
) -> tuple[datetime, datetime]:
    if day is None:
        day = rng.choice(WEEKEND if pattern == "weekend" else WEEKDAYS)
    if start is None:
        start = rng.choice(
            {"day": data.DAY_STARTS, "evening": data.EVENING_STARTS, "weekend": data.WEEKEND_STARTS}[pattern]
        )
    begin = datetime.combine(week_start + timedelta(days=day), _hhmm(start), LOCAL_TZ)
    minutes = rng.choice(durations)
    if pattern == "evening":
        minutes = min(minutes, 120)
    return begin, begin + timedelta(minutes=minutes)


class _DemandSheet:
    """The scenario's needs as the office writes them down, each placed in the week by ``rng``."""

    def __init__(self, rng: random.Random, week_start: date, communities: dict[str, tuple[str, ...]]) -> None:
        self.rng = rng
        self.week_start = week_start
        self.communities = communities
        self.demands: list[DemandSpec] = []

    def add(
        self,
        area,
        community,
        title,
        skills,
        *,
        pattern="day",
        day=None,
        start=None,
        dur=(120,),
        channel="liaison_station",
        priority=3,
        mn=1,
        mx=1,
        excluded=(),
        scenario=None,
        description=None,
    ) -> None:
        begin, end = _window(self.rng, self.week_start, pattern, dur, day, start)
        self.demands.append(
            DemandSpec(
                "",
                area,
                community or self.rng.choice(self.communities[area]),
                title,
                description or f"{title}：社区居民提出的需求。",
                channel,
                priority,
                mn,
                mx,
                begin,
                end,
                tuple(skills),
                tuple(excluded),
                scenario,
            )
        )


def _scenario_demands(
    rng: random.Random, week_start: date, members: list[MemberSpec], communities: dict[str, tuple[str, ...]]
) -> list[DemandSpec]:
    """Needs taken from the report, and needs that are hard on purpose (each for its own reason)."""
    sheet = _DemandSheet(rng, week_start, communities)
    _demands_from_the_report(sheet)
    _demands_beyond_their_experts(sheet, members)
    _demands_nobody_can_reach(sheet)
    return sheet.demands


def _demands_from_the_report(sheet: _DemandSheet) -> None:
    """The five needs the source report tells as stories."""
    sheet.add(
        "LGY",
        "清友园社区",
        "防范金融诈骗知识讲座",
        ("finance",),
        day=1,
        start="14:30",
        channel="needs_collection",
        priority=4,
        mx=2,
        scenario="story",
        description="来广营地区居民希望请委员讲一堂内容详实的防金融诈骗知识讲座，可跨片参与。",
    )
    sheet.add(
        "AYC",
        "绿色家园社区",
        "大学生社区实践",
        ("students",),
        day=2,
        start="09:30",
        channel="council_meeting",
        scenario="story",
        description="议事会上社区提出希望引入大学生为社区工作添活力，共建教育实践基地。",
    )
    sheet.add(
        "DH",
        "东湖湾社区",
        "业主与物业纠纷法律援助",
        ("law", "property"),
        pattern="evening",
        day=3,
        start="19:00",
        channel="reception_day",
        priority=5,
        mn=2,
        mx=2,
        scenario="story",
        description="业主与物业对立，希望委员作为不涉及利益的中间方给双方做法律援助。",
    )
    sheet.add(
        "AZ",
        "安贞里社区",
        "安贞木偶文化活动日",
        ("puppetry", "artists"),
        pattern="weekend",
        day=5,
        start="09:30",
        channel="civic_assistant",
        mx=2,
        scenario="story",
        description="社区文化队伍多但专业师资急缺，希望驻区剧院的艺术家和场地资源回馈街坊。",
    )
    sheet.add(
        "DT",
        "育慧里社区",
        "社区媒体平台建设",
        ("media", "it"),
        channel="wechat_forum",
        scenario="story",
        description="把社区资源统筹起来：建立微信平台、宣传栏和线下互动交流平台。",
    )


def _demands_beyond_their_experts(sheet: _DemandSheet, members: list[MemberSpec]) -> None:
    """Water-quality needs: more than its three experts can take, and one they must all recuse from."""
    rng, communities = sheet.rng, sheet.communities
    # 饮用水水质: more needs than its three experts can take in a week.
    water = [m.external_id for m in members if "water_quality" in m.skills]
    for area in rng.sample(sorted(communities), 8):
        sheet.add(
            area,
            None,
            "饮用水水质检测与讲解",
            ("water_quality",),
            dur=(120, 150),
            channel=rng.choice(("mailbox", "wechat_forum")),
            priority=4,
            scenario="holders_at_capacity",
            description="小区直饮水监管缺失，居民担心水质，希望委员检测并讲解。",
        )
    # ... and one where every expert is an interested party.
    sheet.add(
        rng.choice(sorted(communities)),
        None,
        "二次供水水质纠纷协调",
        ("water_quality",),
        pattern="evening",
        channel="mailbox",
        priority=5,
        excluded=water,
        scenario="only_conflicted_or_declined",
        description="居民与二次供水维护单位就水质发生纠纷；相关委员与维护单位有利益关联，需回避。",
    )


def _demands_nobody_can_reach(sheet: _DemandSheet) -> None:
    """Needs whose holders are busy, absent or too far away."""
    rng, communities = sheet.rng, sheet.communities
    # 戏曲: the teachers are free on weekends only.
    opera_area = rng.choice(sorted(communities))
    sheet.add(
        opera_area,
        None,
        "戏曲进社区教学（京剧票友社）",
        ("opera",),
        day=2,
        start="14:30",
        channel="needs_collection",
        priority=2,
        scenario="holders_unavailable",
        description="京剧票友社希望工作日下午有老师指导。",
    )
    sheet.add(
        opera_area,
        None,
        "戏曲进社区周末示范演出",
        ("opera",),
        pattern="weekend",
        day=6,
        start="14:00",
        channel="needs_collection",
        priority=2,
        scenario="story",
        description="周末邀请懂戏曲的委员示范演出和讲解。",
    )
    # 手语: nobody holds it.
    for area in rng.sample(sorted(communities), 2):
        sheet.add(
            area,
            None,
            "听障居民手语服务",
            ("sign_language",),
            channel="civic_assistant",
            priority=4,
            scenario="no_skill_holder",
            description="社区听障居民办事沟通困难，希望有懂手语的委员帮助。",
        )
    # 木偶剧: far from 安贞, and its two holders will not travel that far.
    for area in ("SH", "HZH"):
        sheet.add(
            area,
            None,
            "木偶剧进社区演出",
            ("puppetry",),
            pattern="weekend",
            day=5,
            start="14:30",
            channel="liaison_station",
            priority=2,
            scenario="cross_area_blocked",
            description="社区希望引进木偶剧演出丰富儿童文化生活。",
        )


def _generic_demands(
    rng: random.Random, week_start: date, n: int, communities: dict[str, tuple[str, ...]]
) -> list[DemandSpec]:
    area_weights = {c: data.AREA_DEMAND_WEIGHTS.get(c, 1.0) for c in communities}
    kind_weights = {k.key: k.weight for k in data.DEMAND_KINDS}
    kinds = {k.key: k for k in data.DEMAND_KINDS}
    out = []
    for _ in range(n):
        area = _weighted(rng, area_weights)
        kind = kinds[_weighted(rng, kind_weights)]
        title, skills = rng.choice(kind.variants)
        begin, end = _window(rng, week_start, rng.choice(kind.times), kind.durations)
        mn = rng.randint(*kind.min_members)
        mx = max(mn, rng.randint(*kind.max_members))
        channel = rng.choice(kind.channels) if rng.random() < 0.55 else _weighted(rng, data.CHANNEL_WEIGHTS)
        out.append(
            DemandSpec(
                "",
                area,
                rng.choice(communities[area]),
                title,
                kind.description,
                channel,
                rng.randint(*kind.priority),
                mn,
                mx,
                begin,
                end,
                skills,
            )
        )
    return out


def _conflicts(rng: random.Random, demands: list[DemandSpec], members: list[MemberSpec]) -> None:
    """About 5% of needs name members who must stay out (they live there or hold a stake)."""
    generic = [d for d in demands if d.scenario is None]
    for d in rng.sample(generic, round(0.05 * len(demands))):
        local = [m for m in members if m.home_area == d.area]
        stake = [m for m in local if set(d.skills) & set(m.skills)] or local or members
        chosen = rng.sample(stake, min(len(stake), rng.choice((1, 1, 2))))
        d.excluded = tuple(sorted(m.external_id for m in chosen))
        d.description += "（有委员与该事项存在利益关联，需回避。）"


def _number(demands: list[DemandSpec], week_start: date) -> list[DemandSpec]:
    year, week, _ = week_start.isocalendar()
    demands.sort(key=lambda d: (d.starts_at, d.area, d.community, d.title))
    for i, d in enumerate(demands, start=1):
        d.external_id = f"MX-{year}W{week:02d}-{i:04d}"
        d.title = d.community + (d.title[2:] if d.title.startswith("社区") else d.title)
    return demands


# --------------------------------------------------------------------------- annual duty
def _duty(
    rng: random.Random, week_start: date, members: list[MemberSpec], communities: dict[str, tuple[str, ...]]
) -> list[DutySpec]:
    first = date(week_start.year, 1, 1)
    if week_start == first:  # a week starting on New Year's Day: nobody has done anything yet
        return []
    span = (week_start - first).days - 1
    titles = [t for k in data.DEMAND_KINDS for t, _ in k.variants]
    out = []

    def day() -> date:  # not on New Year's Day unless the week leaves no other choice
        return first + timedelta(days=rng.randint(min(1, span), span))

    active = set(rng.sample(range(len(members)), round(data.ACTIVE_SHARE * len(members))))
    for i, m in enumerate(members):
        if i in active:
            for _ in range(rng.choice((1, 1, 2, 3))):
                area = m.home_area if rng.random() < 0.7 else (m.work_area or m.home_area)
                out.append(
                    DutySpec(
                        m.external_id,
                        "activity",
                        day(),
                        f"参加{rng.choice(communities[area])}{rng.choice(titles)}",
                        area,
                    )
                )
        if rng.random() < 0.5:
            out.append(
                DutySpec(
                    m.external_id, "suggestion", day(), f"关于{rng.choice(data.SUGGESTION_TOPICS)}的建议", m.home_area
                )
            )
        if rng.random() < 0.4:
            out.append(
                DutySpec(
                    m.external_id, "information", day(), f"社情民意：{rng.choice(data.INFORMATION_TOPICS)}", m.home_area
                )
            )
    out.sort(key=lambda r: (r.date, r.member, r.kind))
    return out


# --------------------------------------------------------------------------- entry point
def plan_demo(seed: int, week_start: date) -> DemoPlan:
    """The whole demo world for ``seed`` and the week starting on Monday ``week_start``."""
    if week_start.weekday() != 0:
        raise ValueError(f"week_start must be a Monday, got {week_start.isoformat()}")

    def stream(part: str) -> random.Random:
        return random.Random(f"matcher-demo:{seed}:{part}")  # str seeds are stable across runs

    names = _Names(stream("names"))
    areas = _areas(stream("areas"), names)
    communities = dict(data.COMMUNITIES)
    members = _members(stream("members"), names, week_start)
    rng = stream("demands")
    demands = _scenario_demands(rng, week_start, members, communities)
    demands += _generic_demands(rng, week_start, data.DEMAND_COUNT - len(demands), communities)
    _conflicts(rng, demands, members)
    return DemoPlan(
        seed=seed,
        week_start=week_start,
        areas=areas,
        communities=[(a, c) for a, names_ in communities.items() for c in names_],
        groups=list(zip(data.GROUP_NAMES, data.GROUP_AREAS, strict=True)),
        skills=list(data.SKILLS),
        members=members,
        demands=_number(demands, week_start),
        duty=_duty(stream("duty"), week_start, members, communities),
    )
