"""HTML building blocks of the report: markup, tags, tables, embedded charts, the page.

Text is escaped unless it is explicitly marked as markup, as in great_tables and
Jinja: :class:`Markup` (MarkupSafe's) is a ``str`` that is already HTML, every other
value is text. ``Markup("<p>{}</p>").format(name)`` escapes ``name``; ``markup +
text`` escapes ``text``; :func:`tag` escapes its children and attribute values;
:class:`Page` escapes any section body, caption or title that is not :class:`Markup`.
So no caller has to remember to escape a region name: forgetting gives visible
``&lt;`` text, never a live element. JSON inside a ``<script>`` element goes through
:func:`script_json` (``<``, ``>`` and ``&`` become ``\\u003c`` etc., so no
``</script>`` or ``<!--`` in the data can end or change the element).

References: MarkupSafe (https://markupsafe.palletsprojects.com/); OWASP Cross Site
Scripting Prevention Cheat Sheet, rules 1-3 (HTML body, attribute and JavaScript
data contexts).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
from markupsafe import Markup, escape

from .formats import fmt_num, missing

__all__ = [
    "Markup",
    "esc",
    "tag",
    "join",
    "script_json",
    "Column",
    "table",
    "Footnotes",
    "Page",
    "template",
    "number_cell",
    "verdict_chip",
    "status_span",
    "slug",
]

logger = logging.getLogger(__name__)

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}  # fmt: skip
#: Elements written without an end tag.
_VOID = frozenset({"br", "hr", "img", "meta", "wbr", "col"})


def esc(value: Any) -> Markup:
    """``value`` as HTML: text escaped (``None`` is empty), :class:`Markup` unchanged."""
    return Markup("") if value is None else escape(value)


def join(parts: Iterable[Any], sep: str | Markup = "") -> Markup:
    """The ``parts`` joined by ``sep`` (markup): text parts escaped, markup kept."""
    return Markup(sep).join(esc(p) for p in parts)


def _attr_name(name: str) -> str:
    """``class_`` -> ``class``; ``data_sort`` -> ``data-sort``; ``aria_label`` -> ``aria-label``."""
    name = name.rstrip("_").replace("_", "-")
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name) or name.startswith("on"):
        raise ValueError(f"attribute name {name!r} is not allowed in the report")
    return name


def tag(name: str, *children: Any, **attrs: Any) -> Markup:
    """One element: ``tag("td", value, class_="num", data_sort=key)``.

    Children are escaped unless they are :class:`Markup` (``None`` children are
    skipped); attribute values are always escaped, ``None``/``False`` attributes left
    out, ``True`` written bare. Event-handler attributes (``on...``) are refused.
    """
    if not re.fullmatch(r"[a-z][a-z0-9]*", name):
        raise ValueError(f"tag name {name!r} is not allowed in the report")
    parts = [f"<{name}"]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = _attr_name(key)
        parts.append(f" {attr}" if value is True else f' {attr}="{esc(value)}"')
    parts.append(">")
    if name in _VOID:
        return Markup("".join(parts))
    inner = join(c for c in children if c is not None)
    return Markup("".join(parts)) + inner + Markup(f"</{name}>")


def script_json(value: Any) -> Markup:
    """JSON, deterministic (sorted keys), safe to place inside a ``<script>`` element."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)  # fmt: skip
    return Markup(re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text))


def slug(text: Any) -> str:
    """``'inconclusive (thin coverage)'`` -> ``'inconclusive-thin-coverage'`` (CSS class)."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def verdict_chip(verdict: Any) -> Markup:
    """A coloured label for a verdict word."""
    return tag("span", verdict, class_=f"verdict v-{slug(verdict)}")


def status_span(status: Any) -> Markup:
    """A coverage status, coloured."""
    return tag("span", status, class_=f"s-{slug(status)}")


def _text(value: Any) -> str:
    return "" if missing(value) else str(value)


@dataclass(frozen=True)
class Column:
    """One column of an HTML table.

    ``cell`` turns the value into the cell's content: text (escaped) or
    :class:`Markup`. ``sort`` gives the raw value as sort key (numbers sort as
    numbers), taken from the column ``sort_by`` when given (a formatted column
    sorting by the number behind it); ``numeric`` right-aligns it (and keeps it on
    one line); ``wrap`` lets long text wrap in a column of bounded width (CSS class
    ``wrap``); ``nowrap`` keeps short text such as a date on one line.
    """

    name: str
    title: str
    cell: Callable[[Any], Any] = _text
    numeric: bool = False
    sort: bool = False
    wrap: bool = False
    sort_by: str | None = None
    nowrap: bool = False


def _sort_key(col: Column, row: dict[str, Any]) -> str | None:
    value = row.get(col.sort_by or col.name)
    if not (col.sort or col.numeric):
        return None
    if missing(value):
        return ""
    if col.numeric or col.sort_by:
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def table(
    frame: pd.DataFrame,
    columns: Sequence[Column],
    *,
    row_class: Callable[[dict[str, Any]], str] | None = None,
    sortable: bool = True,
    caption: Any = None,
) -> Markup:
    """An HTML table of ``frame``; sortable by clicking a header (see report.js)."""
    head = []
    for col in columns:
        label = tag("button", col.title, type="button") if sortable else col.title
        head.append(tag("th", label, scope="col", class_=_classes(col)))
    body = []
    for row in frame.to_dict("records"):
        cells = [
            tag("td", col.cell(row.get(col.name)), class_=_classes(col),
                data_sort=_sort_key(col, row))
            for col in columns
        ]  # fmt: skip
        body.append(tag("tr", *cells, class_=row_class(row) if row_class else None))
    cap = tag("caption", caption, class_="note") if caption else None
    return tag(
        "div",
        tag(
            "table",
            cap,
            tag("thead", tag("tr", *head)),
            tag("tbody", Markup("\n"), join(body, "\n"), Markup("\n")),
            class_="sortable" if sortable else None,
        ),
        class_="table-wrap",
    )


def _classes(col: Column) -> str | None:
    names = [n for n, on in (("num", col.numeric), ("wrap", col.wrap), ("nw", col.nowrap)) if on]
    return " ".join(names) or None


class Footnotes:
    """Long texts of a table (coverage reasons, notes) written once, below the table.

    :meth:`refs` turns a row's texts into numbered links (``[1] [3]``, the text in the
    link's title); :meth:`html` writes the numbered list. A text shared by many rows
    gets one number, so the table keeps a narrow column whatever the texts' length.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.texts: dict[str, int] = {}

    def refs(self, texts: Iterable[str]) -> Markup:
        links = []
        for text in dict.fromkeys(t.strip() for t in texts if t and t.strip()):
            number = self.texts.setdefault(text, len(self.texts) + 1)
            links.append(
                tag("a", str(number), href=f"#{self.prefix}-{number}", class_="fn", title=text)
            )
        return join(links, " ")

    def html(self, title: Any = "Notes") -> Markup:
        if not self.texts:
            return Markup("")
        items = [
            tag("li", text, id=f"{self.prefix}-{number}")
            for text, number in sorted(self.texts.items(), key=lambda kv: kv[1])
        ]
        return tag("div", tag("p", title, class_="note"), tag("ol", *items), class_="notes")


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
    """The report page under construction: sections in order, and the charts in them.

    Section bodies, captions and the subtitle are text unless given as
    :class:`Markup`; titles are always text.
    """

    title: str
    subtitle: Any = ""
    sections: list[tuple[str, str, Markup]] = field(default_factory=list)  # (id, title, html)
    charts: list[tuple[str, alt.TopLevelMixin]] = field(default_factory=list)
    footer: Any = ""
    style: str = ""  # CSS added after report.css (a page of another kind, e.g. a reproduction)

    def chart(self, name: str, chart: alt.TopLevelMixin, caption: Any = "") -> Markup:
        """Register ``chart`` and return the markup that places it (drawn by report.js)."""
        self.charts.append((name, chart))
        spec_id = f"spec-{name}"
        with alt.data_transformers.disable_max_rows():  # the report bounds what it draws
            data = chart.to_dict()
        spec = Markup('<script type="application/json" id="{}">{}</script>').format(
            spec_id, script_json(data)
        )
        figure = tag(
            "div", tag("div", id=f"chart-{name}", data_spec=spec_id), spec, class_="figure"
        )
        return figure + (tag("p", caption, class_="caption") if caption else Markup(""))

    def add(self, ident: str, title: str, body: Any) -> None:
        """Add a section; ``body`` is text unless it is :class:`Markup`."""
        self.sections.append((ident, title, esc(body)))

    def render(self) -> str:
        """The whole page as one string."""
        toc = join(tag("a", t, href=f"#{i}") for i, t, _ in self.sections if t)
        parts = [
            Markup('<section id="{}">{}\n{}\n</section>').format(
                ident, tag("h2", title) if title else "", body
            )
            for ident, title, body in self.sections
        ]
        csp = (
            "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
            "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
        )
        masthead = tag("div", tag("h1", self.title), tag("p", esc(self.subtitle)), class_="inner")
        return "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                f'<meta http-equiv="Content-Security-Policy" content="{csp}">',  # a constant
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                '<meta name="generator" content="trends">',
                tag("title", self.title),
                f"<style>\n{template('report.css')}{self.style}</style>",
                "</head>",
                f'<body data-charts="{len(self.charts)}">',
                tag("header", masthead, class_="masthead"),
                tag("nav", toc, class_="toc", aria_label="Sections"),
                "<main>",
                *parts,
                "</main>",
                tag("footer", esc(self.footer)),
                f"<script>\n{vega_bundle()}\n</script>",
                f"<script>\n{template('report.js')}</script>",
                "</body>",
                "</html>",
                "",
            ]
        )


def number_cell(digits: int = 3) -> Callable[[Any], str]:
    """A cell function: :func:`fmt_num` with ``digits`` significant digits."""

    def cell(value: Any) -> str:
        return fmt_num(value, digits)

    return cell
