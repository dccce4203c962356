"""``report()``: incidents in, one self-contained HTML file out."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

from ..output import write_text
from .analysis import Results, analyse
from .html import Page, tag
from .sections import SECTIONS, footer_text

__all__ = ["report", "render", "save_figures"]

logger = logging.getLogger(__name__)

FIGURE_FORMATS = ("svg", "png")


def report(
    incidents: Any,
    *,
    region: str = "region",
    period: str = "month",
    path: str | os.PathLike[str] = "report.html",
    before: Any = None,
    after: Any = None,
    rules: Any = "default",
    figures_dir: str | os.PathLike[str] | None = None,
    title: str | None = None,
    timestamp: bool | str | dt.datetime | None = None,
    level: float = 0.95,
    trend_method: str = "quasipoisson",
    joinpoint_options: dict[str, Any] | None = None,
    figure_formats: tuple[str, ...] = FIGURE_FORMATS,
    start: str | None = None,
    end: str | None = None,
    span: str = "start",
    alarm_method: str | None = None,
) -> Path:
    """Write the HTML trend report of ``incidents`` to ``path`` and return the path.

    The report is one file that opens offline (the Vega libraries are inlined, no
    request leaves the page): data set, citation and sha256; a summary in words;
    small multiples of the rates with coverage and joinpoints; the comparison and
    trend tables; the unusual periods (:func:`trends.alarms`: the latest period's
    alarms, a timeline per region, the false alarms to expect); the coverage heat map
    and top sources; methods, thresholds and
    references; the ledger of rows read and set aside. The same input and options
    give the same bytes.

    It never fails for one region, one chart or one section: a region a statistic
    cannot handle gets a ``not estimable`` row saying why, a step that cannot run
    (one period only, series too short for joinpoints) is said in the page, and what
    a chart leaves out is said beside it. Bad options raise
    :class:`~trends.errors.OptionError`.

    Parameters
    ----------
    incidents : Incidents, path, or DataFrame
        What a reader returns (:func:`trends.read_ucdp_ged` ...), a file path (read
        with :func:`trends.read`), a DataFrame of incidents in canonical columns
        (``event_id``, ``date_start``, ``region``, ...), or a cell table (a DataFrame
        with ``region``, ``period``, ``count``).
    region : str
        Column of the incidents that names the region.
    period : {"week", "month", "quarter", "year"}
        Period of the cells.
    path : path
        Where to write the HTML file (folders are created).
    before, after : str or (first, last), optional
        Comparison windows; default the last covered period against the one before.
    rules : str, CoverageRules or dict
        Coverage rules (see :func:`trends.coverage`), resolved once
        (:func:`trends.coverage_model.resolve_rules`); the methods section prints
        every threshold in words.
    figures_dir : path, optional
        Also save every chart there as ``<name>.svg`` and ``<name>.png`` (vl-convert).
    title : str, optional
        Page title; default names the data set.
    timestamp : bool, str or datetime, optional
        Print when the report was made: ``True`` for now (UTC), or the value given.
        Default: none, unless ``SOURCE_DATE_EPOCH`` is set (reproducible builds).
    level : float
        Confidence level of every interval.
    trend_method : str
        Method of :func:`trends.trend`.
    joinpoint_options : dict, optional
        Keyword arguments of :func:`trends.joinpoints`.
    figure_formats : tuple of {"svg", "png"}
        Formats written to ``figures_dir``.
    start, end, span
        Passed to :func:`trends.count` (restrict the periods; how events spanning
        periods are counted); stated in the report's filters.
    alarm_method : str, optional
        Method of :func:`trends.alarms` (a name or alias of
        :data:`trends.alarm.METHODS`). Default: ``noufaily`` for weeks, months and
        quarters, ``bayes`` for years (which have no season) and for series no longer
        than Farrington's three years of baseline (:func:`trends.alarm.default_method`);
        the section says which, and why.

    Returns
    -------
    pathlib.Path
        The report file.
    """
    bad = [f for f in figure_formats if f not in FIGURE_FORMATS]
    if bad:
        from ..errors import OptionError

        raise OptionError(f"figure format {bad[0]!r} is not one of {list(FIGURE_FORMATS)}")
    res = analyse(
        incidents,
        region=region,
        period=period,
        before=before,
        after=after,
        rules=rules,
        level=level,
        trend_method=trend_method,
        joinpoint_options=joinpoint_options,
        start=start,
        end=end,
        span=span,
        alarm_method=alarm_method,
    )
    page = render(res, title=title, timestamp=_timestamp(timestamp))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, page.render())  # trends.output: atomic, never a truncated file
    logger.info("report written to %s", out)
    if figures_dir is not None:
        save_figures(page, figures_dir, formats=figure_formats)
    return out


def render(res: Results, *, title: str | None = None, timestamp: str | None = None) -> Page:
    """Build the page of a :class:`Results`, section by section (nothing is written).

    The sections are those of :data:`~trends.reporting.sections.SECTIONS`, in their
    order. A section that fails is replaced by a sentence saying why (and its charts
    are dropped); the other sections stand.
    """
    res = res.plain()
    page = Page(title=title or _default_title(res))
    page.subtitle = _subtitle(res)
    for entry in SECTIONS:
        charts = len(page.charts)
        try:
            body = entry.func(page, res)
        except Exception as exc:  # one section must never take the report down
            logger.warning("report: section %s not written: %s", entry.name, exc)
            del page.charts[charts:]
            why = " ".join(str(exc).split())[:300]
            body = tag("p", f"This section could not be written ({type(exc).__name__}: {why}).")
        page.add(entry.name, entry.description, body)
    page.footer = footer_text(res, timestamp)
    return page


def save_figures(
    page: Page, folder: str | os.PathLike[str], *, formats: tuple[str, ...] = FIGURE_FORMATS
) -> list[Path]:
    """Write every chart of ``page`` as ``<name>.<format>`` into ``folder``."""
    import altair as alt
    import vl_convert as vlc

    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, chart in page.charts:
        with alt.data_transformers.disable_max_rows():  # the report bounds what it draws
            spec = chart.to_dict()
        for fmt in formats:
            path = target / f"{name}.{fmt}"
            if fmt == "svg":
                path.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
            else:
                path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
            written.append(path)
    return written


def _default_title(res: Results) -> str:
    name = "Trend report"
    if res.source is not None and res.source.name:
        name = " ".join(str(x) for x in (res.source.name, res.source.version) if x)
    return f"{name}: incidents by region and {res.period}"


def _subtitle(res: Results) -> str:
    periods = res.cells.sort_values("period_start")["period"].astype(str)
    return (
        f"{len(res.regions)} regions, {periods.iloc[0]} to {periods.iloc[-1]}, "
        f"{res.cells['count'].sum():,.0f} events"
    )


def _timestamp(value: bool | str | dt.datetime | None) -> str | None:
    """The time printed in the footer, or None (see ``report(timestamp=...)``)."""
    if value is None or value is False:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if value is None and epoch:
            when = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
            return when.strftime("%Y-%m-%d %H:%M UTC")
        return None
    if value is True:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value)
