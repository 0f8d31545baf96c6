"""One place per domain concept for its lifecycle values.

Each enum is a ``StrEnum``: the stored value, the JSON value and the value in the OpenAPI are the
same lowercase English word as before, so nothing in the contract changes. The Chinese display name
of every value lives in the message catalogue (``app.i18n``, key ``enum.<EnumName>.<value>``), never
beside the code.
"""

from __future__ import annotations

from enum import StrEnum


class DemandStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AssignmentStatus(StrEnum):
    PROPOSED = "proposed"
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    SUPERSEDED = "superseded"


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PUBLISHED = "published"


class RunMode(StrEnum):
    FULL = "full"
    REPAIR = "repair"


class Channel(StrEnum):
    """How a need arrived (the report's seven channels, plus other)."""

    LIAISON_STATION = "liaison_station"
    NEEDS_COLLECTION = "needs_collection"
    RECEPTION_DAY = "reception_day"
    MAILBOX = "mailbox"
    WECHAT_FORUM = "wechat_forum"
    CIVIC_ASSISTANT = "civic_assistant"
    COUNCIL_MEETING = "council_meeting"
    OTHER = "other"


class ResponseMethod(StrEnum):
    """How a member answered a need."""

    HOME_VISIT = "home_visit"
    ON_SITE = "on_site"
    ARRANGED_TALK = "arranged_talk"
    VIA_UNIT = "via_unit"


class DutyKind(StrEnum):
    SUGGESTION = "suggestion"
    INFORMATION = "information"
    ACTIVITY = "activity"


class Role(StrEnum):
    ADMIN = "admin"
    LIAISON = "liaison"
    READER = "reader"
    PLATFORM = "platform"  # manages districts (tenants); bound to none, reads no district's data


class ChangeKind(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    PUBLISHED = "published"


class EntityType(StrEnum):
    DEMAND = "demand"
    ASSIGNMENT = "assignment"
    OPTIMIZATION_RUN = "optimization_run"
    DUTY_RECORD = "duty_record"


class SkillCategory(StrEnum):
    EXPERTISE = "expertise"
    INTEREST = "interest"
    RESOURCE = "resource"


class AreaKind(StrEnum):
    STREET = "street"
    TOWNSHIP = "township"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
# Assignments that make up the current plan of a demand (a member is or was going).
LIVE_ASSIGNMENT_STATUSES = (AssignmentStatus.PUBLISHED, AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED)


class NotificationEvent(StrEnum):
    """What a message to a member is about (one template each)."""

    PROPOSAL = "proposal"  # a published plan proposes the member for a need
    REPAIR_PROPOSAL = "repair_proposal"  # an automatic repair proposes them after someone declined
    CHANGED = "changed"  # the need's time or place changed
    CANCELLED = "cancelled"  # the need was cancelled or the proposal withdrawn
    REMINDER = "reminder"  # an accepted task starts soon
    NUDGE = "nudge"  # a proposal still unanswered


class NotificationChannel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    LOG = "log"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt (the office may retry)
    OBSOLETE = "obsolete"  # not sent: its cause no longer holds (e.g. the proposal was withdrawn)


class LinkKind(StrEnum):
    """A personal link: one task (``/t/``) or all of a member's tasks (``/m/``)."""

    TASK = "task"
    MEMBER = "member"


class ActorKind(StrEnum):
    """Who made a change recorded in the audit trail."""

    API_KEY = "api_key"
    CONSOLE = "console"  # the office console, signed in with an API key
    MEMBER_LINK = "member_link"
    CLI = "cli"
    SYSTEM = "system"


class AuditAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    ACTED_AS = "acted_as"  # a platform key acted as a district (recorded even for reads)
