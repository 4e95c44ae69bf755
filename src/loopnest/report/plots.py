"""Charts as plain data, drawn two ways from the same numbers: plotly trace dicts for the HTML
report (interactive, hover shows the values) and matplotlib for static PNG/SVG files (papers).

A :class:`Chart` is either a bar chart over categories (stacked or side by side; a category
may be a ``(group, label)`` pair, which draws grouped bars, e.g. dataflows within CONV and FC),
an x-y chart over numbers (lines, steps, markers; log axes), or one or more pies.
``Chart.to_dict()`` is the chart's JSON export: what the browser test compares the page against.
Axis labels carry their units (a number without a unit is a bug).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

Mode = Literal["bar", "line", "step", "markers", "pie"]
STATIC_SUFFIXES = (".png", ".svg", ".pdf")
PLOT_HINT = "pip install 'loopnest[plot]'"


class OutputError(ValueError):
    """An output file that cannot be written: wrong extension, unwritable place, drawing package missing."""


def check_writable(path: str | Path, suffixes: Sequence[str], what: str) -> Path:
    """``path`` as a Path if a ``what`` can be written there (its suffix is one of ``suffixes``; it
    is not a folder; the nearest existing folder above it is writable), else :class:`OutputError`.
    Missing folders are fine: writers create them."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name ending in {suffixes[0]}")
    if path.suffix.lower() not in suffixes:
        raise OutputError(f"{path}: {what} is written as {', '.join(suffixes)}, not {path.suffix or 'a name without extension'!r}")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"{path}: exists and is not writable")
    check_can_create(path.parent, path)
    return path


def check_can_create(folder: str | Path, named: str | Path | None = None) -> None:
    """:class:`OutputError` unless ``folder`` exists or can be created: its nearest existing
    ancestor must be a writable folder. ``named``: the path the user gave, for the message."""
    shown, folder = named or folder, Path(folder).absolute()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{shown}: {folder} is a file, not a folder")
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{shown}: cannot create files in {folder}")


def check_static(path: str | Path) -> Path:
    """Check a ``--plot`` path before any work: suffix, writable place, and matplotlib importable."""
    path = check_writable(path, STATIC_SUFFIXES, "a static plot")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise OutputError(f"{path}: static plots need matplotlib, which is missing from this environment "
                          f"(reinstall loopnest, or {PLOT_HINT})") from None
    return path


DASHES = ("dash", "dot", "dashdot", "longdash")  # line patterns (plotly names), one per coinciding roof
MPL_DASH = {"dash": "--", "dot": ":", "dashdot": "-.", "longdash": (0, (8, 3))}  # the same in matplotlib


@dataclass
class Series:
    """One trace. ``x`` is None for bar and pie series (they use the chart's categories).
    ``labels``: optional text per point, shown on hover (e.g. the layer name of a roofline dot)."""

    name: str
    y: list[float]
    x: list[float] | None = None
    mode: Mode = "bar"
    labels: list[str] | None = None
    dash: bool | str = False  # True: "dash"; or a pattern of DASHES (roofs that coincide stay distinguishable)
    color: str | None = None  # CSS/matplotlib colour; None: the palette's next
    hollow: bool = False  # open markers (a second kind of dot in the same colour)

    def __post_init__(self) -> None:
        self.y = [float(v) for v in self.y]
        if self.x is not None:
            self.x = [float(v) for v in self.x]
            if len(self.x) != len(self.y):
                raise ValueError(f"series {self.name!r}: {len(self.x)} x values but {len(self.y)} y values")


@dataclass
class Chart:
    """A chart: ``id`` names its HTML element and its static file; labels state units."""

    id: str
    title: str
    series: list[Series]
    y_label: str = ""
    x_label: str = ""
    categories: list[str] | list[tuple[str, str]] | None = None
    stacked: bool = True
    log_x: bool = False
    log_y: bool = False
    hover_unit: str = ""
    notes: list[str] = field(default_factory=list)
    colors: list[str] | None = None  # pies: one colour per category (slice), the same in every pie
    height: int = 480  # px in the HTML report

    def __post_init__(self) -> None:
        if self.categories is not None:
            self.categories = [tuple(c) if isinstance(c, (list, tuple)) else c for c in self.categories]
            for s in self.series:
                if s.mode in ("bar", "pie") and len(s.y) != len(self.categories):
                    raise ValueError(f"chart {self.id!r}, series {s.name!r}: {len(s.y)} values for {len(self.categories)} categories")

    @property
    def is_pie(self) -> bool:
        return bool(self.series) and all(s.mode == "pie" for s in self.series)

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.categories is not None:
            d["categories"] = [list(c) if isinstance(c, tuple) else c for c in self.categories]
        return d


# ----- plotly (the HTML report) ---------------------------------------------------------------

def _category_axis(cats: Sequence) -> list:
    """Plotly x values: a flat list, or [groups, labels] for a two-level (multicategory) axis."""
    if cats and isinstance(cats[0], tuple):
        return [[c[0] for c in cats], [c[1] for c in cats]]
    return list(cats)


def plotly_figure(chart: Chart) -> dict:
    """``{"data": [...], "layout": {...}}`` for ``Plotly.newPlot`` (plain JSON, no plotly import)."""
    unit = f" {chart.hover_unit}" if chart.hover_unit else ""
    traces = []
    if chart.is_pie:
        n = len(chart.series)
        for i, s in enumerate(chart.series):
            traces.append({"type": "pie", "name": s.name, "labels": list(chart.categories), "values": s.y,
                           "domain": {"row": 0, "column": i}, "title": {"text": s.name}, "sort": False,
                           "textinfo": "label+percent", **({"marker": {"colors": chart.colors}} if chart.colors else {}),
                           "hovertemplate": f"%{{label}}: %{{value:.4g}}{unit} (%{{percent}})<extra>{s.name}</extra>"})
        layout = {"title": {"text": chart.title}, "grid": {"rows": 1, "columns": n}, "showlegend": False}
        return {"data": traces, "layout": layout}
    for s in chart.series:
        if s.mode == "bar":
            t = {"type": "bar", "name": s.name, "x": _category_axis(chart.categories), "y": s.y,
                 "hovertemplate": f"%{{x}}<br>{s.name}: %{{y:.4g}}{unit}<extra></extra>"}
            if s.color:
                t["marker"] = {"color": s.color}
        else:
            t = {"type": "scatter", "name": s.name, "x": s.x if s.x is not None else _category_axis(chart.categories),
                 "y": s.y, "mode": {"markers": "markers", "line": "lines"}.get(s.mode, "lines+markers"),
                 "hovertemplate": f"{s.name}<br>x: %{{x:.4g}}<br>y: %{{y:.4g}}{unit}<extra></extra>"}
            if s.x is None:
                t["hovertemplate"] = f"%{{x}}<br>{s.name}: %{{y:.4g}}{unit}<extra></extra>"
            if s.mode == "step":
                t["line"] = {"shape": "hv"}
            if s.dash:
                t["line"] = {**t.get("line", {}), "dash": "dash" if s.dash is True else s.dash}
            if s.color:
                t["line"] = {**t.get("line", {}), "color": s.color}
                t["marker"] = {"color": s.color}
            if s.hollow:
                t["marker"] = {**t.get("marker", {}), "symbol": "circle-open"}
        if s.labels is not None:
            t["text"] = s.labels
            t["hovertemplate"] = "%{text}<br>" + t["hovertemplate"]
        traces.append(t)
    layout = {
        "title": {"text": chart.title},
        "barmode": "stack" if chart.stacked else "group",
        "xaxis": _axis(chart.x_label, chart.log_x),
        "yaxis": _axis(chart.y_label, chart.log_y),
        # the legend beside the plot, never over the x-axis labels; margins grow to fit the labels
        "legend": {"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
        "margin": {"t": 60, "r": 20},
    }
    if chart.categories is not None and not chart.log_x:
        longest = max((len(str(c[1] if isinstance(c, tuple) else c)) for c in chart.categories), default=0)
        if len(chart.categories) * max(longest, 3) > 60:  # labels that would overlap side by side
            layout["xaxis"]["tickangle"] = -45
    return {"data": traces, "layout": layout}


def _axis(title: str, log: bool) -> dict:
    """An axis whose labels are never clipped (automargin); a log axis labels decades only (no
    minor 2 and 5 labels), as powers of ten."""
    axis = {"title": {"text": title}, "type": "log" if log else "-", "automargin": True}
    if log:
        axis |= {"dtick": 1, "exponentformat": "power"}
    return axis


# ----- matplotlib (static files) --------------------------------------------------------------

def _positions(cats: Sequence) -> tuple[list[float], list[str], list[tuple[float, str]]]:
    """Bar positions with a gap between groups; tick labels; (centre, name) of each group."""
    pos, ticks, groups, x, prev = [], [], [], 0.0, None
    starts: dict[str, list[float]] = {}
    for c in cats:
        g, label = c if isinstance(c, tuple) else (None, c)
        if prev is not None and g != prev:
            x += 0.6
        pos.append(x)
        ticks.append(label)
        if g is not None:
            starts.setdefault(g, []).append(x)
        prev, x = g, x + 1.0
    groups = [(sum(v) / len(v), g) for g, v in starts.items()]
    return pos, ticks, groups


def save_static(chart: Chart, path: str | Path) -> Path:
    """Draw ``chart`` with matplotlib into ``path`` (.png, .svg or .pdf)."""
    path = check_static(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if chart.is_pie:
        fig, axes = plt.subplots(1, len(chart.series), figsize=(4.2 * len(chart.series), 4.2), squeeze=False)
        for ax, s in zip(axes[0], chart.series):
            ax.pie(s.y, labels=[str(c) for c in chart.categories], autopct="%1.0f%%", startangle=90, counterclock=False,
                   colors=chart.colors)
            ax.set_title(s.name, fontsize=10)
        fig.suptitle(chart.title, fontsize=11)
    else:
        fig, ax = plt.subplots(figsize=(8.5, 4.8))
        _draw_axes(ax, chart)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _draw_axes(ax, chart: Chart) -> None:
    bars = [s for s in chart.series if s.mode == "bar"]
    if bars:
        pos, ticks, groups = _positions(chart.categories)
        n = len(bars)
        width = 0.8 if chart.stacked else 0.8 / n
        bottom = [0.0] * len(pos)
        for i, s in enumerate(bars):
            x = pos if chart.stacked else [p - 0.4 + width * (i + 0.5) for p in pos]
            ax.bar(x, s.y, width, bottom=bottom if chart.stacked else None, label=s.name, color=s.color)
            if chart.stacked:
                bottom = [b + v for b, v in zip(bottom, s.y)]
        ax.set_xticks(pos, ticks, rotation=45 if len(pos) > 8 else 0, ha="right" if len(pos) > 8 else "center", fontsize=8)
        for centre, g in groups:
            ax.annotate(g, (centre, 0), xycoords=("data", "axes fraction"), xytext=(0, -30),
                        textcoords="offset points", ha="center", va="top", fontweight="bold")
    for s in chart.series:
        if s.mode == "bar":
            continue
        xs = s.x if s.x is not None else _positions(chart.categories)[0]
        style = MPL_DASH.get(s.dash, "--") if s.dash else "-"
        if s.mode == "markers":
            face = "none" if s.hollow else s.color
            ax.scatter(xs, s.y, label=s.name, s=18, zorder=3, facecolors=face, edgecolors=s.color or face)
        elif s.mode == "step":
            ax.plot(xs, s.y, linestyle=style, drawstyle="steps-post", marker="o", label=s.name, color=s.color)
            for x, y in zip(xs, s.y):
                ax.annotate(f"{y:.4g}", (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
        else:
            ax.plot(xs, s.y, linestyle=style, label=s.name, color=s.color)
    if not bars and chart.categories is not None:
        pos, ticks, _ = _positions(chart.categories)
        ax.set_xticks(pos, ticks, rotation=20, ha="right", fontsize=8)
    if chart.log_x:
        ax.set_xscale("log")
    if chart.log_y:
        ax.set_yscale("log")
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    ax.set_title(chart.title, fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="best")


def save_all(charts: list[Chart], path: str | Path) -> list[Path]:
    """Write every chart: the first to ``path``, the others beside it as ``<stem>-<chart id><suffix>``."""
    path = Path(path)
    return [save_static(c, path if i == 0 else path.with_name(f"{path.stem}-{c.id}{path.suffix}")) for i, c in enumerate(charts)]
