"""Who is calling, and what that role may see.

Roles: ``admin`` (everything in its district), ``liaison`` (bound to one area:
writes demands of that area only, reads its area's demands and the member
directory without phones), ``reader`` (read-only, for integrators).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import Role

ROLES = tuple(Role)


@dataclass(frozen=True)
class Caller:
    api_key_id: int
    name: str
    role: Role
    district_id: int
    area_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def can_read_phones(self) -> bool:
        return self.role == Role.ADMIN

    def sees_area(self, area_id: int | None) -> bool:
        """Area-scoped objects outside a liaison's area are invisible (404, never 403)."""
        return self.role != Role.LIAISON or area_id == self.area_id
