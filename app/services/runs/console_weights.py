"""The objective weights the console offers as sliders, with bounds that keep a run sensible.

The API accepts any weight in 0..1e6 (integrators know what they do); office staff get the main
terms only, within a factor of the defaults (``app.solver.types.Weights``), so a slip of the
mouse cannot make e.g. distance outweigh coverage.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from app.errors import invalid, msg
from app.solver.types import Weights


@dataclass(frozen=True)
class WeightSlider:
    name: str
    low: float
    high: float
    step: float

    @property
    def default(self) -> float:
        return float(getattr(Weights(), self.name))


SLIDERS = (
    WeightSlider("quality", 0, 50, 1),
    WeightSlider("home", 0, 20, 0.5),
    WeightSlider("distance", 0, 3, 0.1),
    WeightSlider("balance_peak", 0, 10, 0.5),
    WeightSlider("duty", 0, 100, 5),
    WeightSlider("stability", 0, 10, 0.5),
)
assert {s.name for s in SLIDERS} <= {f.name for f in fields(Weights)}


def weights_from_form(values: dict[str, str]) -> dict[str, float] | None:
    """Slider values -> weight overrides (only those changed from the default); 422 out of bounds."""
    out: dict[str, float] = {}
    for s in SLIDERS:
        raw = (values.get(s.name) or "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise invalid(f"weights.{s.name}", msg("a_number"), "float_parsing") from None
        if not s.low <= value <= s.high:
            raise invalid(f"weights.{s.name}", msg("between", low=s.low, high=s.high), "out_of_bounds")
        if abs(value - s.default) > 1e-9:
            out[s.name] = value
    return out or None
