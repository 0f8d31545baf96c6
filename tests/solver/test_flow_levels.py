"""Peak levels cut short keep a valid bound: the levels not solved are covered by the lowest
one solved (the flow value can only grow with the level), whether the deadline or the
"cannot beat the plan" test ends the loop; left-out pairs are priced only through overlap
cliques they extend."""

from __future__ import annotations

from app.solver.eligibility import candidates, prepare
from app.solver.flow import FlowNetwork
from app.solver.model import build
from app.solver.relax import lexicographic_weight
from bench.generate import generate


def _network():
    p = prepare(generate(120, 90, seed=4, time_limit_s=5.0))
    cand = candidates(p)
    model = build(p, cand)
    tiers = {m: v for m, (_, v) in model.tiers.items()}
    net = FlowNetwork(p, cand, model.pair_coef, tiers, lexicographic_weight(model), model.peak_weight)
    return net, model


def test_levels_cut_by_the_deadline_still_bound_every_level():
    net, model = _network()
    assert model.peak_ub > model.peak_lb + 1 and model.peak_weight > 0  # several levels to cut
    full = net.bound(model.peak_lb, model.peak_ub)
    assert [r.peak for _, r in full] == list(range(model.peak_ub, model.peak_lb - 1, -1))
    cut = net.bound(model.peak_lb, model.peak_ub, stop=lambda: True)
    assert len(cut) == 1 and cut[0][1].peak is None  # only the highest solved, covering all
    assert max(b for b, _ in cut) >= max(b for b, _ in full) - 1e-6


def test_levels_judged_hopeless_are_covered_not_dropped():
    net, model = _network()
    full = net.bound(model.peak_lb, model.peak_ub)
    seen = []

    def hopeless(floor, flow):
        seen.append(flow.peak)
        return True  # as if the plan beat every level below the first

    judged = net.bound(model.peak_lb, model.peak_ub, hopeless=hopeless)
    assert seen == [model.peak_ub]
    assert [r.peak for _, r in judged] == [model.peak_ub, None]
    assert judged[0][0] == full[0][0]  # the highest level keeps its own bound
    # the cover is above every level it stands for
    assert judged[1][0] >= max(b for b, _ in full[1:]) - 1e-6


def test_left_out_pairs_are_priced_only_through_cliques_they_extend():
    """CliquePoints: a pair pruning left out pays the multiplier of a clique of its member only
    when its demand overlaps every proposal in that clique (so the clique extended by it is
    still at most one), and pays every such clique whose time point it contains."""
    import numpy as np

    from app.solver.relax import CliquePoints

    p = prepare(generate(120, 90, seed=4, time_limit_s=5.0))
    cand = candidates(p)
    model = build(p, cand)
    assert model.cliques
    points = CliquePoints(p, cand, model.cliques)
    rng = np.random.default_rng(1)
    lam = rng.integers(0, 4, len(model.cliques)).astype(np.float64)
    pm = rng.integers(0, p.M, 400)
    pd = rng.integers(0, p.D, 400)
    got = points.penalty(lam, pm, pd)
    assert (got > 0).sum() >= 5  # the case under test: left-out pairs inside priced cliques
    for k in range(len(pm)):
        s, e = p.d_start[pd[k]], p.d_end[pd[k]]
        want = 0
        for c, clique in enumerate(model.cliques):
            if int(cand.pm[clique[0]]) != int(pm[k]) or lam[c] == 0:
                continue
            t = min(p.d_end[cand.pd[i]] for i in clique)
            if s < t <= e:
                assert all(s < p.d_end[cand.pd[i]] and p.d_start[cand.pd[i]] < e for i in clique)
                want += int(lam[c])
        assert got[k] == want
