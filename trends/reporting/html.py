"""HTML building blocks of the report: escaping, tables, embedded charts, the page.

Everything that comes from data (region names, source names, reasons) passes
through :func:`esc` (HTML text and attributes) or :func:`script_json` (JSON inside
a ``<script>`` element, where ``<``, ``>`` and ``&`` become ``\\u003c`` etc. so that
no ``</script>`` or ``<!--`` can end or change the element).
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

__all__ = [
    "esc",
    "script_json",
    "Column",
    "table",
    "Page",
    "template",
    "fmt_num",
    "fmt_p",
    "verdict_chip",
    "status_span",
    "slug",
]

logger = logging.getLogger(__name__)

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}  # fmt: skip


def esc(value: Any) -> str:
    """Text made safe for HTML element content and quoted attribute values."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON, deterministic (sorted keys), safe to place inside a ``<script>`` element."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)  # fmt: skip
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def slug(text: str) -> str:
    """``'inconclusive (thin coverage)'`` -> ``'inconclusive-thin-coverage'`` (CSS class)."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def fmt_num(value: Any, digits: int = 3) -> str:
    """A number for a table: thousands separators, ``digits`` significant digits."""
    if _missing(value):
        return "–"
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == int(x) and abs(x) < 1e15:
        return f"{int(x):,}".replace("-", "−")
    text = f"{x:,.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}g}"
    if "e" in text:
        text = f"{x:.{digits}g}"
    return text.replace("-", "−")


def fmt_p(value: Any) -> str:
    """A p- or q-value: 3 significant digits, ``< 0.001`` below that."""
    if _missing(value):
        return "–"
    x = float(value)
    return "< 0.001" if x < 0.001 else f"{x:.3f}".rstrip("0").rstrip(".") if x < 1 else "1"


def verdict_chip(verdict: Any) -> str:
    """A coloured label for a verdict word."""
    return f'<span class="verdict v-{slug(verdict)}">{esc(verdict)}</span>'


def status_span(status: Any) -> str:
    """A coverage status, coloured."""
    return f'<span class="s-{slug(status)}">{esc(status)}</span>'


@dataclass(frozen=True)
class Column:
    """One column of an HTML table.

    ``cell`` turns the value into HTML (escaped by default); ``sort`` gives the raw
    sort key (numbers sort as numbers); ``numeric`` right-aligns it.
    """

    name: str
    title: str
    cell: Callable[[Any], str] = esc
    numeric: bool = False
    sort: bool = False


def table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    row_class: Callable[[dict[str, Any]], str] | None = None,
    sortable: bool = True,
    caption: str | None = None,
) -> str:
    """An HTML table of ``frame``; sortable by clicking a header (see report.js)."""
    head = []
    for col in columns:
        cls = ' class="num"' if col.numeric else ""
        label = f'<button type="button">{esc(col.title)}</button>' if sortable else esc(col.title)
        head.append(f'<th scope="col"{cls}>{label}</th>')
    body = []
    for row in frame.to_dict("records"):
        cells = []
        for col in columns:
            value = row.get(col.name)
            attrs = ' class="num"' if col.numeric else ""
            if col.sort or col.numeric:
                key = "" if _missing(value) else (repr(float(value)) if col.numeric else str(value))
                attrs += f' data-sort="{esc(key)}"'
            cells.append(f"<td{attrs}>{col.cell(value)}</td>")
        cls = f' class="{esc(row_class(row))}"' if row_class else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    klass = ' class="sortable"' if sortable else ""
    cap = f'<caption class="note">{esc(caption)}</caption>' if caption else ""
    return (
        f'<div class="table-wrap"><table{klass}>{cap}<thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>\n{chr(10).join(body)}\n</tbody></table></div>"
    )


@cache
def template(name: str) -> str:
    """A file of ``reports/templates``: from an installed wheel, else the source tree."""
    import trends

    package = Path(trends.__file__).resolve().parent
    for folder in (package / "_data" / "reports", package.parent / "reports"):
        path = folder / "templates" / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(
        f"report template {name!r} is in neither {package / '_data' / 'reports'} nor "
        f"{package.parent / 'reports'}; reinstall trends"
    )


def _cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "trends"


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed as one script (from vl-convert), for inlining.

    vl-convert builds the bundle in about 2 s; the result depends only on the
    vl-convert version, so it is kept in ``$XDG_CACHE_HOME/trends`` (default
    ``~/.cache/trends``) and read from there next time (skipped if not writable).
    """
    import vl_convert

    version = getattr(vl_convert, "__version__", "unknown")
    cached = _cache_dir() / f"vega-bundle-vl-convert-{version}.js"
    try:
        bundle = cached.read_text(encoding="utf-8")
    except OSError:
        bundle = vl_convert.javascript_bundle()
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(bundle, encoding="utf-8")
            tmp.replace(cached)
        except OSError as exc:
            logger.debug("cannot cache the Vega bundle in %s: %s", cached, exc)
    if "</script" in bundle.lower():  # never true today; the page would break if it were
        bundle = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)
    return bundle


@dataclass
class Page:
    """The report page under construction: sections in order, and the charts in them."""

    title: str
    subtitle: str = ""
    sections: list[tuple[str, str, str]] = field(default_factory=list)  # (id, title, html)
    charts: list[tuple[str, alt.TopLevelMixin]] = field(default_factory=list)
    footer: str = ""
    style: str = ""  # CSS added after report.css (a page of another kind, e.g. a reproduction)

    def chart(self, name: str, chart: alt.TopLevelMixin, caption: str = "") -> str:
        """Register ``chart`` and return the HTML that places it (drawn by report.js)."""
        self.charts.append((name, chart))
        spec_id = f"spec-{name}"
        spec = chart.to_dict()
        return (
            f'<div class="figure"><div id="chart-{esc(name)}" data-spec="{esc(spec_id)}"></div>'
            f'<script type="application/json" id="{esc(spec_id)}">{script_json(spec)}</script>'
            f"</div>" + (f'<p class="caption">{caption}</p>' if caption else "")
        )

    def add(self, ident: str, title: str, body: str) -> None:
        self.sections.append((ident, title, body))

    def render(self) -> str:
        """The whole page as one string."""
        toc = "".join(f'<a href="#{esc(i)}">{esc(t)}</a>' for i, t, _ in self.sections if t)
        parts = []
        for ident, title, body in self.sections:
            heading = f"<h2>{esc(title)}</h2>" if title else ""
            parts.append(f'<section id="{esc(ident)}">{heading}\n{body}\n</section>')
        csp = (
            "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
            "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
        )
        return "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                '<meta name="generator" content="trends">',
                f"<title>{esc(self.title)}</title>",
                f"<style>\n{template('report.css')}{self.style}</style>",
                "</head>",
                f'<body data-charts="{len(self.charts)}">',
                '<header class="masthead"><div class="inner">'
                f"<h1>{esc(self.title)}</h1><p>{self.subtitle}</p></div></header>",
                f'<nav class="toc" aria-label="Sections">{toc}</nav>',
                "<main>",
                *parts,
                "</main>",
                f"<footer>{self.footer}</footer>",
                f"<script>\n{vega_bundle()}\n</script>",
                f"<script>\n{template('report.js')}</script>",
                "</body>",
                "</html>",
                "",
            ]
        )
