"""matplotlib figures for the report pages (inline SVG) and `matcher report --png`.

Pages must work on offline district intranets, so every chart is inlined as SVG whose
text is drawn as paths (no web fonts, nothing fetched) and whose ids are prefixed so
several charts can share one page. Chinese labels use Noto Sans CJK SC when installed;
otherwise matplotlib falls back silently (missing-glyph warnings are muted, not spammed).
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

CJK_FAMILIES = [
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
]
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
COLORS = {
    "optimized": "#2b6cb0",
    "fixed_pairing": "#a0aec0",
    "greedy": "#ed8936",
    "ok": "#38a169",
    "partial": "#ecc94b",
    "none": "#e53e3e",
    "bar": "#2b6cb0",
}
_ids = itertools.count(1)


@lru_cache(maxsize=1)
def setup_fonts() -> str | None:
    """Configure matplotlib once; returns the CJK family in use (None if none is installed).

    A font installed after matplotlib built its cache is found by scanning the usual
    font directories for Noto CJK files and registering them.
    """
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"Glyph .* missing from")
    warnings.filterwarnings("ignore", message=r"findfont: .*")
    names = {f.name for f in font_manager.fontManager.ttflist}
    if not any(f in names for f in CJK_FAMILIES):
        for d in _FONT_DIRS:
            for path in Path(d).glob("**/NotoSans*CJK*"):
                try:
                    font_manager.fontManager.addfont(str(path))
                except Exception:  # an unreadable font file is not worth failing a report over
                    continue
        names = {f.name for f in font_manager.fontManager.ttflist}
    family = next((f for f in CJK_FAMILIES if f in names), None)
    matplotlib.rcParams.update(
        {
            "font.family": "sans-serif",
            "font.sans-serif": ([family] if family else []) + ["DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
            "svg.hashsalt": "matcher",
            "figure.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
        }
    )
    return family


def _figure(width: float, height: float) -> Figure:
    setup_fonts()
    return Figure(figsize=(width, height), layout="constrained")


def to_png(fig: Figure, dpi: int = 120) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def to_svg(fig: Figure) -> str:
    """Inline-ready SVG: no XML prolog, DOCTYPE, metadata or namespace URLs, unique ids."""
    buf = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(buf, format="svg", facecolor="white", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = svg.replace("xlink:href=", "href=")
    prefix = f"c{next(_ids)}-"
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"<svg ", '<svg role="img" ', svg, count=1)
    return svg


def _empty(ax, text: str = "暂无数据") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=14, color="#718096", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def axis_label(name: str, limit: int = 4) -> str:
    """An area name short enough to stay readable on a 43 x 43 matrix: the administrative suffix
    (街道, 地区, 乡) goes, long names are cut with an ellipsis ('酒仙桥' stays, '东湖' too)."""
    for suffix in ("街道", "地区", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    return name if len(name) <= limit else name[: limit - 1] + "…"


def flow_heatmap(codes: Sequence[str], names: dict[str, str], matrix: Sequence[Sequence[int]]) -> Figure:
    """Member home area (rows) -> demand area (columns), counts in the cells."""
    n = max(len(codes), 1)
    size = min(4 + 0.3 * n, 16)
    fig = _figure(size + 2, size + 1)
    ax = fig.add_subplot()
    if not codes:
        _empty(ax)
        return fig
    im = ax.imshow(matrix, cmap="Blues", aspect="equal")
    labels = [axis_label(names.get(c, c)) for c in codes]
    fontsize = 10 if n <= 20 else 8
    ax.set_xticks(range(len(codes)), labels, rotation=90, ha="center", fontsize=fontsize)
    ax.set_yticks(range(len(codes)), labels, fontsize=fontsize)
    ax.tick_params(axis="x", pad=2)
    ax.set_xlabel("需求所在片区")
    ax.set_ylabel("委员所在片区")
    peak = max((v for row in matrix for v in row), default=0)
    if n <= 25:
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if v:
                    ax.text(
                        j,
                        i,
                        str(v),
                        ha="center",
                        va="center",
                        fontsize=11,
                        color="white" if v > peak / 2 else "#1a202c",
                    )
    fig.colorbar(im, ax=ax, shrink=0.7, label="人次")
    return fig


def load_histogram(loads: Sequence[int]) -> Figure:
    fig = _figure(7, 3.6)
    ax = fig.add_subplot()
    if not loads:
        _empty(ax)
        return fig
    top = max(loads)
    bins = [x - 0.5 for x in range(top + 2)]
    ax.hist(loads, bins=bins, color=COLORS["bar"], edgecolor="white")
    ax.set_xticks(range(top + 1))
    ax.set_xlabel("本期安排数")
    ax.set_ylabel("委员人数")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def coverage_bars(names: Sequence[str], covered: Sequence[int], unmet: Sequence[int]) -> Figure:
    fig = _figure(max(6, 0.45 * len(names) + 2), 4)
    ax = fig.add_subplot()
    if not names:
        _empty(ax)
        return fig
    x = range(len(names))
    ax.bar(x, covered, color=COLORS["ok"], label="已满足")
    ax.bar(x, unmet, bottom=covered, color=COLORS["none"], label="未满足")
    ax.set_xticks(
        list(x),
        list(names),
        rotation=60 if len(names) > 6 else 0,
        ha="right" if len(names) > 6 else "center",
        fontsize=9,
    )
    ax.set_ylabel("需求数")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(loc="outside upper center", frameon=False, ncols=2)
    return fig


def baseline_bars(
    labels: Sequence[str], series: Mapping[str, Sequence[float | None]], series_labels: dict[str, str]
) -> Figure:
    """Grouped bars: each metric (as a share or count) for the plan and its baselines."""
    fig = _figure(8, 3.8)
    ax = fig.add_subplot()
    if not labels or not series:
        _empty(ax)
        return fig
    width = 0.8 / len(series)
    for i, (key, values) in enumerate(series.items()):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(xs, [v or 0 for v in values], width=width, label=series_labels.get(key, key), color=COLORS.get(key))
    ax.set_xticks(range(len(labels)), list(labels))
    fig.legend(loc="outside upper center", frameon=False, ncols=len(series))
    return fig


def duty_stacked(groups: Sequence[str], met: Sequence[int], partial: Sequence[int], none: Sequence[int]) -> Figure:
    """Per group: members who met the duty, met part of it, or have nothing yet."""
    fig = _figure(max(6, 0.5 * len(groups) + 2), 4)
    ax = fig.add_subplot()
    if not groups:
        _empty(ax)
        return fig
    x = list(range(len(groups)))
    ax.bar(x, met, color=COLORS["ok"], label="已全部完成")
    ax.bar(x, partial, bottom=met, color=COLORS["partial"], label="部分完成")
    ax.bar(x, none, bottom=[a + b for a, b in zip(met, partial, strict=True)], color=COLORS["none"], label="尚无记录")
    ax.set_xticks(
        x, list(groups), rotation=45 if len(groups) > 6 else 0, ha="right" if len(groups) > 6 else "center", fontsize=9
    )
    ax.set_ylabel("委员人数")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.legend(loc="outside upper center", frameon=False, ncols=3)
    return fig


# --- report -> figures (shared by the pages and the PNG export) -----------------------------

_SHARE_METRICS = ("weighted_coverage", "mean_skill_score", "cross_area_share")


def run_figures(report) -> dict[str, Figure]:
    """Figures of one run (a ``RunReport``), keyed by a file-name-safe name."""
    from app.services.reports.runs import PLAN_LABELS, PLANS

    shares = [m for m in report.metrics if m.metric in _SHARE_METRICS]
    series = {p: [getattr(m, p) for m in shares] for p in PLANS if any(getattr(m, p) is not None for m in shares)}
    return {
        "baselines": baseline_bars([m.label for m in shares], series, PLAN_LABELS),
        "flows": flow_heatmap(report.area_codes, report.area_names, report.flow_matrix()),
        "loads": load_histogram([m.load for m in report.loads]),
        "coverage": coverage_bars(
            [c.name for c in report.coverage], [c.covered for c in report.coverage], [c.unmet for c in report.coverage]
        ),
    }


def duty_figures(report) -> dict[str, Figure]:
    """Figures of a duty report aggregated by group (a ``DutyReport`` with by='group')."""
    groups = report.groups
    met = [g.met for g in groups]
    by_group: dict = {}
    for m in report.members:
        by_group.setdefault(m.group_id, []).append(m)
    none = [sum(1 for m in by_group.get(g.key_id, []) if len(m.missing) == len(report.kinds)) for g in groups]
    partial = [g.members - a - b for g, a, b in zip(groups, met, none, strict=True)]
    return {"groups": duty_stacked([g.name for g in groups], met, partial, none)}
