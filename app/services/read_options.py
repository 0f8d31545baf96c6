"""Loader options for read responses: load exactly what the API representation shows.

The models eager-load generously (a Demand joins its community and area and select-loads its
skills and excluded members; a Member joins group and areas and select-loads its skills), which
suits the write paths that need the whole object. A list of 100 assignments would then load
every demand's excluded members with their own skills: hundreds of ORM objects per request.
Reads use these options instead. Everything left out is loaded lazily when touched (``lazyload``
and deferred columns, never ``noload``), so an unexpected access is slower, never wrong.
"""

from __future__ import annotations

from sqlalchemy.orm import joinedload, lazyload, load_only, selectinload

from app.models import Area, Assignment, Community, Demand, Group, Member, MemberSkill, Skill

#: What AssignmentOut shows of the demand (title, community name, area code) and of the member.
ASSIGNMENT_READ = (
    joinedload(Assignment.demand).options(
        load_only(Demand.id, Demand.title, Demand.community_id, Demand.area_id),
        joinedload(Demand.community).options(load_only(Community.id, Community.name), lazyload("*")),
        joinedload(Demand.area).options(load_only(Area.id, Area.code), lazyload("*")),
        lazyload("*"),
    ),
    joinedload(Assignment.member).options(load_only(Member.id, Member.name, Member.phone), lazyload("*")),
    lazyload("*"),
)

#: What DemandOut shows: community and area names, skills by code and name, excluded member ids.
DEMAND_READ = (
    joinedload(Demand.community).options(load_only(Community.id, Community.name), lazyload("*")),
    joinedload(Demand.area).options(load_only(Area.id, Area.code, Area.name), lazyload("*")),
    selectinload(Demand.required_skills).options(load_only(Skill.id, Skill.code, Skill.name), lazyload("*")),
    selectinload(Demand.excluded_members).options(load_only(Member.id), lazyload("*")),
    lazyload("*"),
)

#: What MemberOut shows: group and area names, skills by code, name, category and level. Without
#: it a list of 100 members loaded each group's paired areas and every area's relations: about
#: 1,200 ORM objects and nine select-in queries per page (about 100 ms).
MEMBER_READ = (
    joinedload(Member.group).options(load_only(Group.id, Group.name), lazyload("*")),
    joinedload(Member.home_area).options(load_only(Area.id, Area.code, Area.name), lazyload("*")),
    joinedload(Member.work_area).options(load_only(Area.id, Area.code, Area.name), lazyload("*")),
    selectinload(Member.skills).options(
        joinedload(MemberSkill.skill).options(
            load_only(Skill.id, Skill.code, Skill.name, Skill.category), lazyload("*")
        ),
        lazyload("*"),
    ),
    lazyload("*"),
)
