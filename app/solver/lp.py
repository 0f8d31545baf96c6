"""LP relaxation of the CP-SAT model, solved with GLOP.

On these instances the LP relaxation is nearly (often exactly) integral, so it gives a much
tighter bound than the min-cost-flow relaxation (it keeps the overlap cliques and the coverage
links), and when its solution is integral it proves optimality on the spot. The model is handed
to GLOP as a free-format MPS string built with numpy, because building it term by term through
the Python wrappers costs more than solving it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh

from app.solver.model import INT_MAX, ProtoBuilder


@dataclass
class LpResult:
    ok: bool
    value: float  # maximised objective, model units, offset included
    x: np.ndarray  # variable values


def _fmt(a: np.ndarray) -> np.ndarray:
    return np.char.mod("%d", a)


def to_mps(
    b: ProtoBuilder,
    obj_vars: list[int],
    obj_coefs: list[int],
    extra_rows: Sequence[tuple[list[int], list[int], int, int]] = (),
) -> str:
    """Free MPS of max obj s.t. rows, as a minimisation of -obj."""
    rows = list(b.rows) + list(extra_rows)
    n_rows = len(rows)
    lens = np.fromiter((len(r[0]) for r in rows), dtype=np.int64, count=n_rows)
    r_idx = np.repeat(np.arange(n_rows), lens)
    v_idx = np.fromiter((v for r in rows for v in r[0]), dtype=np.int64, count=int(lens.sum()))
    coef = np.fromiter((c for r in rows for c in r[1]), dtype=np.int64, count=int(lens.sum()))
    lb = np.array([r[2] for r in rows], dtype=np.int64)
    ub = np.array([r[3] for r in rows], dtype=np.int64)
    # objective as row -1
    ov = np.asarray(obj_vars, dtype=np.int64)
    oc = -np.asarray(obj_coefs, dtype=np.int64)
    r_all = np.concatenate([np.full(len(ov), -1), r_idx])
    v_all = np.concatenate([ov, v_idx])
    c_all = np.concatenate([oc, coef])
    order = np.lexsort((r_all, v_all))
    r_all, v_all, c_all = r_all[order], v_all[order], c_all[order]
    row_names = np.where(r_all < 0, "obj", np.char.add("r", _fmt(r_all)))
    col_lines = np.char.add(
        np.char.add(np.char.add(np.char.add(np.char.add(" x", _fmt(v_all)), " "), row_names), " "), _fmt(c_all)
    )

    has_lo, has_hi = lb > -INT_MAX, ub < INT_MAX
    kind = np.where(has_lo & has_hi & (lb == ub), "E", np.where(has_lo & ~has_hi, "G", "L"))
    row_lines = np.char.add(np.char.add(np.char.add(" ", kind), " r"), _fmt(np.arange(n_rows)))
    rhs_val = np.where(kind == "G", lb, ub)
    free = ~has_lo & ~has_hi
    rhs_rows = np.nonzero(~free & (rhs_val != 0))[0]
    rhs_lines = np.char.add(np.char.add(" rhs r", _fmt(rhs_rows)), np.char.add(" ", _fmt(rhs_val[rhs_rows])))
    rng_rows = np.nonzero(has_lo & has_hi & (lb != ub))[0]  # L rows with a lower end too
    rng_lines = np.char.add(np.char.add(" rng r", _fmt(rng_rows)), np.char.add(" ", _fmt(ub[rng_rows] - lb[rng_rows])))
    bnd, extra_cols = _bounds_and_unused_columns(b, v_all)
    parts = [
        "NAME lp",
        "ROWS",
        " N obj",
        *row_lines.tolist(),
        "COLUMNS",
        *col_lines.tolist(),
        *extra_cols.tolist(),
        "RHS",
        *rhs_lines.tolist(),
    ]
    if len(rng_lines):
        parts += ["RANGES", *rng_lines.tolist()]
    parts += ["BOUNDS", *bnd.tolist(), "ENDATA"]
    return "\n".join(parts)


def _bounds_and_unused_columns(b: ProtoBuilder, used_vars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BOUNDS lines of every variable, and a zero objective entry for each variable no row or
    objective uses (every variable must appear in COLUMNS)."""
    vlb = np.asarray(b.var_lb, dtype=np.int64)
    vub = np.asarray(b.var_ub, dtype=np.int64)
    nv = len(vlb)
    bnd = np.concatenate(
        [
            np.char.add(np.char.add(" UP bnd x", _fmt(np.arange(nv))), np.char.add(" ", _fmt(vub))),
            np.char.add(np.char.add(" LO bnd x", _fmt(np.arange(nv))), np.char.add(" ", _fmt(vlb))),
        ]
    )
    used = np.zeros(nv, dtype=bool)
    used[used_vars] = True
    unused = np.nonzero(~used)[0]
    return bnd, np.char.add(np.char.add(" x", _fmt(unused)), " obj 0")


def solve_lp(
    b: ProtoBuilder,
    obj_vars: list[int],
    obj_coefs: list[int],
    offset: float = 0.0,
    extra_rows: Sequence[tuple[list[int], list[int], int, int]] = (),
    time_limit_s: float = 10.0,
) -> LpResult:
    mps = to_mps(b, obj_vars, obj_coefs, extra_rows)
    model = mbh.ModelBuilderHelper()
    if not model.import_from_mps_string(mps):
        return LpResult(False, float("inf"), np.zeros(0))
    solver = mbh.ModelSolverHelper("glop")
    solver.set_time_limit_in_seconds(max(time_limit_s, 0.05))
    solver.solve(model)
    if solver.status() != mbh.SolveStatus.OPTIMAL:
        return LpResult(False, float("inf"), np.zeros(0))
    return LpResult(True, -float(solver.objective_value()) + offset, np.asarray(solver.variable_values()))
