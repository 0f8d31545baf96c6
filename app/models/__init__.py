"""ORM models; importing this package registers every table on ``Base.metadata``."""

from app.models.audit import AuditEvent
from app.models.auth import ApiKey, IdempotencyRecord
from app.models.base import Base
from app.models.change import ChangeEvent, Webhook, WebhookDelivery
from app.models.console import ConsoleSession, ConsoleSignInLink
from app.models.demand import Demand, demand_exclusions, demand_skills
from app.models.district import Area, Community, District, Group, ScheduledPeriod, group_areas
from app.models.duty import DutyRecord
from app.models.member import Member, MemberSkill
from app.models.notify import MemberLink, Notification, NotificationAttempt, RepairMark
from app.models.run import Assignment, OptimizationRun, UnmetDemand
from app.models.skill import Skill

__all__ = [
    "ApiKey",
    "Area",
    "Assignment",
    "AuditEvent",
    "Base",
    "ChangeEvent",
    "Community",
    "ConsoleSession",
    "ConsoleSignInLink",
    "Demand",
    "District",
    "DutyRecord",
    "Group",
    "IdempotencyRecord",
    "Member",
    "MemberLink",
    "MemberSkill",
    "Notification",
    "NotificationAttempt",
    "OptimizationRun",
    "RepairMark",
    "ScheduledPeriod",
    "Skill",
    "UnmetDemand",
    "Webhook",
    "WebhookDelivery",
    "demand_exclusions",
    "demand_skills",
    "group_areas",
]
