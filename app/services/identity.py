"""Who is calling, and what that role may see.

Roles: ``admin`` (everything in its district), ``liaison`` (bound to one area:
writes demands of that area only, reads its area's demands and the member
directory without phones), ``reader`` (read-only, for integrators), ``platform``
(bound to no district: creates and manages districts and keys, reads no district's data
unless it acts as one district explicitly, which the audit trail records).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import Role

ROLES = tuple(Role)

NO_DISTRICT = 0
"""The ``district_id`` of a platform caller not acting as a district: no row has it, so every
district-scoped query of such a caller finds nothing (404 / empty lists), fail-closed."""


@dataclass(frozen=True)
class Caller:
    api_key_id: int
    name: str
    role: Role
    district_id: int
    area_id: int | None = None
    acting_as: str | None = None  # district code a platform key acts as (X-Act-As-District)

    @property
    def is_platform(self) -> bool:
        return self.role == Role.PLATFORM

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_read_phones(self) -> bool:
        return self.role == Role.ADMIN

    def sees_area(self, area_id: int | None) -> bool:
        """Area-scoped objects outside a liaison's area are invisible (404, never 403)."""
        return self.role != Role.LIAISON or area_id == self.area_id
