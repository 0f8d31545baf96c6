"""Optimization-run input shapes shared by the API and the CLI."""

from __future__ import annotations

from pydantic import Field

from app.schemas.common import RequestModel


class WeightsIn(RequestModel):
    """Any subset of the objective weights; the rest keep their defaults."""

    coverage: float | None = Field(None, ge=0, le=1e6, description="Per priority point of a covered demand.")
    quality: float | None = Field(None, ge=0, le=1e6, description="Per pair, times the skill score.")
    home: float | None = Field(None, ge=0, le=1e6, description="Bonus for a pair in the member's home area.")
    paired: float | None = Field(None, ge=0, le=1e6, description="Bonus for an area the member's group is paired with.")
    distance: float | None = Field(None, ge=0, le=1e6, description="Cost per km of a cross-area pair.")
    balance_peak: float | None = Field(None, ge=0, le=1e6, description="Cost per unit of the peak load.")
    balance_convex: float | None = Field(None, ge=0, le=1e6, description="Cost of the k-th assignment: (k-1) x this.")
    duty: float | None = Field(None, ge=0, le=1e6, description="Bonus for a member's first activity this year.")
    stability: float | None = Field(None, ge=0, le=1e6, description="Bonus for keeping an earlier proposal.")
    continuity: float | None = Field(None, ge=0, le=1e6, description="Bonus for a member who served the community.")
    lexicographic: bool | None = Field(None, description="Coverage first, then the rest (default true).")
