"""One self-contained HTML report: tables, interactive plots (hover for numbers) and the JSON
export embedded, with plotly.js inlined from the installed plotly package (no CDN, no network
access when the file is opened).

The embedded JSON (``<script id="loopnest-data" type="application/json">``) holds the analysis
result under ``"result"`` and every chart's numbers under ``"charts"`` (``Chart.to_dict``), so a
reader, or the browser test, can check that the page shows exactly the exported numbers.

Layout: sections in the order given (the reports put headline figures first, charts next, per-layer
tables last); a sortable table sorts on a click on its header (numbers by value, a few lines of
inline script); ``Section.details`` are collapsed blocks of preformatted text (each layer's loop
nest), opened on demand.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from loopnest.report.plots import PLOT_HINT, Chart, OutputError, check_writable, plotly_figure

HTML_SUFFIXES = (".html", ".htm")


class ReportError(OutputError):
    """A report that cannot be written (plotly missing, unwritable path)."""


@dataclass
class Table:
    """A table; ``columns`` name their units. Numbers are printed with 4 significant digits."""

    caption: str
    columns: list[str]
    rows: list[list]
    sortable: bool = False  # click a header to sort by that column (per-layer tables)


@dataclass
class Section:
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    details: list[tuple[str, list[str]]] = field(default_factory=list)  # (summary, lines of text), collapsed


def fmt(v) -> str:
    """A cell: ints with thousands separators, floats with 4 significant digits."""
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        return f"{v:,.0f}" if abs(v) >= 1e3 else f"{v:.4g}"
    return str(v)


def _plotly_js_file():
    """plotly.min.js of the installed plotly package (a core dependency), found without importing plotly's figures."""
    from importlib.resources import files

    try:
        found = files("plotly") / "package_data" / "plotly.min.js"
        if found.is_file():
            return found
    except ImportError:
        pass
    raise ReportError(f"HTML reports need plotly, which is missing from this environment (reinstall loopnest, or {PLOT_HINT}): "
                      "plotly.js is inlined from it")


def plotly_js() -> str:
    """plotly.min.js, inlined into every report so that it opens offline."""
    return _plotly_js_file().read_text(encoding="utf-8")


def check_report(path: str | Path) -> Path:
    """Check a ``--report`` path before any work: .html suffix, writable place, plotly installed."""
    try:
        path = check_writable(path, HTML_SUFFIXES, "an HTML report")
    except OutputError as e:
        raise ReportError(str(e)) from None
    _plotly_js_file()
    return path


def _json_script(obj) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:1em 0;font-size:.85em}caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid #ddd;padding:.25em .6em}td{text-align:right;font-variant-numeric:tabular-nums}
td:first-child,th{text-align:left}tr:nth-child(even){background:#f7f7f7}
.chart{width:100%}th.sort{cursor:pointer;white-space:nowrap}th.sort:after{content:" \\2195";color:#aaa}
th[aria-sort=ascending]:after{content:" \\2191";color:#222}th[aria-sort=descending]:after{content:" \\2193";color:#222}
details{margin:.2em 0}summary{cursor:pointer}pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:.85em}.note{color:#555;font-size:.85em}footer{margin-top:3em;color:#777;font-size:.8em}
"""

_BOOT = """
(function(){
  var payload = JSON.parse(document.getElementById('loopnest-data').textContent);
  var figs = JSON.parse(document.getElementById('loopnest-figures').textContent);
  window.loopnestData = payload;
  Object.keys(figs).forEach(function(id){
    Plotly.newPlot(id, figs[id].data, figs[id].layout, {responsive: true, displaylogo: false});
  });
  document.querySelectorAll('table.sortable th').forEach(function(th){
    th.addEventListener('click', function(){
      var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
      var up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function(h){ h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var key = function(tr){ var td = tr.cells[col], v = td.getAttribute('data-v');
                              return v === null ? td.textContent : parseFloat(v); };
      var rows = Array.prototype.slice.call(body.rows).sort(function(a, b){
        var x = key(a), y = key(b), c = (typeof x === 'number' && typeof y === 'number') ? x - y
                                         : String(x).localeCompare(String(y));
        return up ? c : -c; });
      rows.forEach(function(tr){ body.appendChild(tr); });
    });
  });
})();
"""


def _cell(v) -> str:
    """A cell; a number also carries its exact value (``data-v``) for sorting."""
    number = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return f'<td data-v="{v!r}">{html.escape(fmt(v))}</td>' if number else f"<td>{html.escape(fmt(v))}</td>"


def _table_html(t: Table) -> str:
    th = '<th class="sort" title="click to sort">' if t.sortable else "<th>"
    head = "".join(f"{th}{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in t.rows)
    cls = ' class="sortable"' if t.sortable else ""
    return f"<table{cls}><caption>{html.escape(t.caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _details_html(summary: str, lines: list[str]) -> str:
    return f"<details><summary>{html.escape(summary)}</summary><pre>{html.escape(chr(10).join(lines))}</pre></details>"


def render_html(title: str, sections: list[Section], result: dict) -> str:
    """The report as one HTML string."""
    charts = [c for s in sections for c in s.charts]
    ids = [c.id for c in charts]
    if len(set(ids)) != len(ids):
        raise RuntimeError(f"chart ids must be unique, got {ids}")  # a bug in the caller, not an output problem
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for s in sections:
        parts.append(f"<section><h2>{html.escape(s.title)}</h2>")
        parts += [f"<p>{html.escape(p)}</p>" for p in s.text]
        parts += [_table_html(t) for t in s.tables]
        for c in s.charts:
            parts.append(f'<div class="chart" id="{html.escape(c.id)}" style="height:{int(c.height)}px"></div>')
            parts += [f'<p class="note">{html.escape(n)}</p>' for n in c.notes]
        parts += [_details_html(summary, lines) for summary, lines in s.details]
        parts.append("</section>")
    data = {"result": result, "charts": {c.id: c.to_dict() for c in charts}}
    figures = {c.id: plotly_figure(c) for c in charts}
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f"<script>{plotly_js()}</script></head><body>",
        *parts,
        ("<footer>Written by loopnest. Loop orders are printed outer &rarr; inner. "
         "The numbers of every table and plot are embedded below as JSON (element #loopnest-data).</footer>"),
        f'<script id="loopnest-data" type="application/json">{_json_script(data)}</script>',
        f'<script id="loopnest-figures" type="application/json">{_json_script(figures)}</script>',
        f"<script>{_BOOT}</script>",
        "</body></html>",
    ])


def write_report(path: str | Path, title: str, sections: list[Section], result: dict) -> Path:
    """Write the self-contained report to ``path``."""
    path = Path(path)
    text = render_html(title, sections, result)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise ReportError(f"{path}: cannot write the report ({e.strerror})") from None
    return path


def write_evaluate_report(evaluate_json: dict, path: str | Path) -> Path:
    """The report of one ``loopnest evaluate`` run, from its ``--json`` export."""
    from loopnest.report.figures import evaluate_sections

    d = evaluate_json
    return write_report(path, f"loopnest evaluate: {d['model']} on {d['arch']}", evaluate_sections(d), d)
