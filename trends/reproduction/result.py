"""reproduce(): recount a recipe, compare with the published numbers, and say the verdict.

Each published number is ``exact``, ``within tolerance``, ``differs`` or ``not
tested`` (with the reason); the recipe's verdict rests on the tested numbers only.
The words live in :mod:`trends.verdicts`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import registry
from ..incidents import Incidents
from ..verdicts import (
    DIFFERS,
    REPRODUCED_EXACTLY,
    REPRODUCED_WITHIN,
    ROW_DIFFERS,
    ROW_EXACT,
    ROW_NOT_TESTED,
    ROW_WITHIN,
    UNTESTABLE,
)
from .published import published_numbers
from .recipe import Recipe, load_recipe
from .recount import cell_coverage, key_labels, read_data, recount

__all__ = ["Reproduction", "reproduce", "compare_rows", "key_label", "row_label", "tolerance_text"]

logger = logging.getLogger(__name__)

Window = tuple[pd.Timestamp, pd.Timestamp]


@dataclass
class Reproduction:
    """The outcome of :func:`reproduce`.

    Attributes
    ----------
    recipe : Recipe
    table : DataFrame
        One row per published number: the group columns of the recipe, then
        ``measure``, ``published``, ``reproduced``; where the data give an estimate's
        bounds (UCDP's ``low`` and ``high`` beside ``best``), ``reproduced_low``,
        ``reproduced_high`` (their sums) and ``in_range`` (the published number lies
        within them; missing when not tested); then ``abs_diff`` (reproduced -
        published), ``rel_diff`` (abs_diff / published; missing when published is
        0), ``match`` (bool, within the tolerance; missing when the row was not
        tested), ``status`` (``exact``, ``within tolerance``, ``differs``, ``not
        tested``), ``events`` (events behind the reproduced number), ``coverage``
        and ``coverage_reasons`` (the coverage status of the cells behind the row),
        ``note`` (why the row differs or was not tested), and ``context`` (the
        value over the recipe's context period, when it has one).
    coverage : DataFrame
        One row per place (country or region) in the filtered data over the
        recipe's window: ``place``, ``events``, one column per summed measure (e.g.
        ``deaths``), ``coverage``, ``coverage_reasons``.
    verdict : str
        One of :data:`trends.verdicts.REPRODUCTION_VERDICTS`.
    reasons : list of str
    source : dict
        The data set read (``trends.incidents.SourceInfo.as_dict``).
    published_source : dict
        Where the published numbers come from
        (:class:`~trends.reproduction.published.Published`).
    filters : dict
        The filters applied (a claim's region, period and actor included).
    labels : dict
        Words for coded group keys (``{"type_of_violence": {"1": "state-based"}}``).
    """

    recipe: Recipe
    table: pd.DataFrame
    coverage: pd.DataFrame
    verdict: str
    reasons: list[str]
    source: dict[str, Any]
    published_source: dict[str, Any]
    filters: dict[str, Any]
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the recipe reproduces exactly or within its tolerance."""
        return self.verdict in (REPRODUCED_EXACTLY, REPRODUCED_WITHIN)

    @property
    def as_expected(self) -> bool | None:
        """Whether the verdict is the one the recipe expects (None if it states none)."""
        return None if self.recipe.expected is None else self.verdict == self.recipe.expected

    def summary(self) -> str:
        """The verdict and its reasons, as plain text."""
        lines = [f"{self.recipe.id}: {self.verdict}"]
        lines += [f"  - {r}" for r in self.reasons]
        if self.recipe.expected is not None:
            word = "as" if self.as_expected else "NOT as"
            lines.append(f"  ({word} the recipe expects: {self.recipe.expected})")
        return "\n".join(lines)

    def chart(self):
        """An Altair chart overlaying the published and reproduced numbers."""
        from .page import overlay_chart

        return overlay_chart(self)

    def to_html(self, path: str | Path) -> Path:
        """Write a self-contained HTML page (verdict, table, chart, coverage, provenance)."""
        from .page import write_html

        return write_html(self, Path(path))


# ----------------------------------------------------------------------------- words


def tolerance_text(recipe: Recipe) -> str:
    """``exact``, ``±1``, ``±10.0%`` or ``±1 or ±10.0%``."""
    a, r = recipe.tolerance["absolute"], recipe.tolerance["relative"]
    if a == 0 and r == 0:
        return "exact"
    parts = []
    if a:
        parts.append(f"±{a:g}")
    if r:
        parts.append(f"±{r:.1%}")
    return " or ".join(parts)


def key_label(group: str, value: Any, labels: dict[str, dict[str, str]]) -> str:
    """A group key for people: coded keys as words (``3`` -> ``one-sided``)."""
    return labels.get(group, {}).get(str(value), str(value))


def row_label(row: pd.Series, recipe: Recipe, labels: dict[str, dict[str, str]]) -> str:
    """A published number for people: its group keys (and measure, when there are several)."""
    parts = [key_label(g, row[g], labels) for g in recipe.group_by]
    if len(recipe.measures) > 1:
        parts.append(str(row["measure"]))
    return " ".join(parts) or str(row["measure"])


def _listed(values: list[str]) -> str:
    return ", ".join(values[:12]) + (f" and {len(values) - 12} more" if len(values) > 12 else "")


# ----------------------------------------------------------------------------- compare


def compare_rows(table: pd.DataFrame, recipe: Recipe) -> pd.DataFrame:
    """Differences and status of each row against the recipe's tolerance.

    A row matches when ``|reproduced - published| <= max(absolute, relative *
    |published|)``.
    """
    tested = table["_tested"].astype(bool)
    diff = table["reproduced"] - table["published"]
    table["abs_diff"] = diff.where(tested)
    rel = diff / table["published"].where(table["published"] != 0)
    table["rel_diff"] = rel.where(tested)
    allowed = np.maximum(
        recipe.tolerance["absolute"], recipe.tolerance["relative"] * table["published"].abs()
    )
    match = (diff.abs() <= allowed + 1e-9) & tested & table["published"].notna()
    table["match"] = pd.array(
        [bool(m) if t else pd.NA for m, t in zip(match, tested, strict=True)], dtype="boolean"
    )
    table["status"] = np.where(
        ~tested,
        ROW_NOT_TESTED,
        np.where(diff == 0, ROW_EXACT, np.where(match, ROW_WITHIN, ROW_DIFFERS)),
    )
    if recipe.differences:
        differs = table["status"] == ROW_DIFFERS
        table.loc[differs & (table["note"] == ""), "note"] = recipe.differences
    if "reproduced_low" in table.columns:
        low, high, published = table["reproduced_low"], table["reproduced_high"], table["published"]
        known = tested & low.notna() & high.notna()
        inside = (published >= low) & (published <= high)
        table["in_range"] = pd.array(
            [bool(i) if k else pd.NA for i, k in zip(inside, known, strict=True)], dtype="boolean"
        )
    return table


# ----------------------------------------------------------------------------- verdict


def _context_reason(table: pd.DataFrame, recipe: Recipe, labels) -> str:
    if "context" not in table.columns or recipe.context is None:
        return ""
    shown = ", ".join(
        f"{row_label(r, recipe, labels)} {r['context']:,.0f}" for _, r in table.iterrows()
    )
    return f"shown for context, not tested ({recipe.context.get('why', 'context period')}): {shown}"


def _differs_reasons(tested: pd.DataFrame, recipe: Recipe, labels) -> list[str]:
    n = len(tested)
    differs = tested[tested["status"] == ROW_DIFFERS]
    exact = tested[tested["status"] == ROW_EXACT]
    exact_labels = [row_label(r, recipe, labels) for _, r in exact.iterrows()]
    worst = differs.loc[differs["abs_diff"].abs().idxmax()]
    rel = worst["rel_diff"]
    reasons = [
        f"{len(differs)} of {n} tested numbers differ beyond the tolerance "
        f"({tolerance_text(recipe)})"
        + (f"; {len(exact)} reproduced exactly ({_listed(exact_labels)})" if len(exact) else ""),
        f"largest difference: {row_label(worst, recipe, labels)}, reproduced "
        f"{worst['reproduced']:,.0f} against {worst['published']:,.0f} published "
        f"({worst['abs_diff']:+,.0f}" + (f", {rel:+.1%})" if pd.notna(rel) else ")"),
    ]
    if recipe.differences:
        reasons.append(f"expected difference: {recipe.differences}")
    return reasons


def _range_reason(tested: pd.DataFrame, recipe: Recipe, labels) -> str:
    """Where the published numbers lie against the data's own low-high range."""
    if "in_range" not in tested.columns or tested["in_range"].isna().all():
        return ""
    known = tested[tested["in_range"].notna()]
    if len(known) == 1:
        r = known.iloc[0]
        published, low, high = r["published"], r["reproduced_low"], r["reproduced_high"]
        where = "below" if published < low else "above" if published > high else "inside"
        return (
            f"the published {published:,.0f} lies {where} the range of the data's own low and "
            f"high estimates ({low:,.0f} to {high:,.0f}; best {r['reproduced']:,.0f})"
        )
    below = [row_label(r, recipe, labels) for _, r in known.iterrows()
             if r["published"] < r["reproduced_low"]]  # fmt: skip
    above = [row_label(r, recipe, labels) for _, r in known.iterrows()
             if r["published"] > r["reproduced_high"]]  # fmt: skip
    text = (
        f"{int(known['in_range'].sum())} of {len(known)} published numbers lie inside the "
        "range of the data's own low and high estimates"
    )
    if below:
        text += f"; below the low estimate: {_listed(below)}"
    if above:
        text += f"; above the high estimate: {_listed(above)}"
    return text


def _verdict(table: pd.DataFrame, recipe: Recipe, labels) -> tuple[str, list[str]]:
    tested = table[table["_tested"].astype(bool)]
    untested = table[~table["_tested"].astype(bool)]
    context = _context_reason(table, recipe, labels)
    if tested.empty:
        reasons = [f"{n[0].upper()}{n[1:]}" for n in dict.fromkeys(untested["note"])]
        if recipe.differences:
            reasons.append(recipe.differences)
        return UNTESTABLE, reasons + ([context] if context else [])
    n = len(tested)
    n_exact = int((tested["status"] == ROW_EXACT).sum())
    n_within = int((tested["status"] == ROW_WITHIN).sum())
    if (tested["status"] == ROW_DIFFERS).any():
        verdict, reasons = DIFFERS, _differs_reasons(tested, recipe, labels)
    elif n_within == 0:
        verdict, reasons = REPRODUCED_EXACTLY, [f"all {n} tested numbers reproduced exactly"]
    else:
        verdict = REPRODUCED_WITHIN
        reasons = [
            f"{n_exact} of {n} tested numbers reproduced exactly, {n_within} within the "
            f"tolerance ({tolerance_text(recipe)})"
        ]
    reasons += [text for text in [_range_reason(tested, recipe, labels)] if text]
    if not untested.empty:
        names = [row_label(r, recipe, labels) for _, r in untested.iterrows()]
        reasons.append(
            f"{len(untested)} published number{'s' if len(untested) > 1 else ''} not tested "
            f"({_listed(names)}): {untested['note'].iloc[0]}"
        )
    thin = tested[tested["coverage"].isin(["thin", "insufficient", "uncovered"])]
    if not thin.empty:
        reasons.append(
            f"coverage of the cells behind {len(thin)} of {n} tested numbers is "
            f"{'/'.join(sorted(set(thin['coverage'])))}: the reproduction checks arithmetic, "
            "not whether the data are complete"
        )
    if context:
        reasons.append(context)
    return verdict, reasons


def _data_checks(recipe: Recipe, incidents: Incidents, window: Window) -> list[str]:
    """Signs that the data given is not the release the recipe names (said, not fatal)."""
    checks = []
    src = incidents.source
    if src.dataset_id and (src.dataset_id, src.version) != (recipe.dataset, recipe.version):
        release = f"{src.dataset_id} {src.version or '(release not recognised from its dates)'}"
        checks.append(
            f"the data read is {release}, but the recipe names {recipe.dataset} {recipe.version}"
        )
    dates = incidents.data["date_start"].dropna()
    if len(dates):
        inside = float(dates.between(window[0], window[1]).mean())
        if inside < 0.95:
            checks.append(
                f"only {inside:.0%} of the data's events fall inside the coverage window of "
                f"{recipe.dataset} {recipe.version} ({window[0].date()} to "
                f"{window[1].date()}): is this the file the recipe names?"
            )
    return checks


# ----------------------------------------------------------------------------- main


def reproduce(
    recipe: str | Path | Recipe,
    data: str | Path | Incidents | None = None,
    *,
    data_dir: str | Path | None = None,
) -> Reproduction:
    """Recount a published figure (or check a claim) from the data a recipe names.

    Parameters
    ----------
    recipe : str, Path or Recipe
        A shipped recipe's id (see :func:`~trends.reproduction.list_recipes`) or a
        recipe TOML file.
    data : path or Incidents, optional
        The event file of the recipe's data set, in any format :func:`trends.read`
        reads (or incidents already read). By default the recipe's ``[data] file``,
        looked up in ``data_dir``, ``$TRENDS_DATA`` and the recipe's own folder.
    data_dir : path, optional
        Folder against which the recipe's file names are resolved (the data file,
        and a published table or claims file when the recipe names one instead of
        carrying its numbers).

    Returns
    -------
    Reproduction
        ``.table`` (published vs reproduced, one row per published number; columns
        documented in :class:`Reproduction`), ``.coverage``, ``.verdict``
        (``reproduced exactly``, ``reproduced within tolerance``, ``differs``,
        ``cannot be tested with this data``) and ``.reasons``.

    References
    ----------
    Högbladh, S. (2019) UCDP GED Codebook version 19.1, Department of Peace and
    Conflict Research, Uppsala University (type_of_violence, side_a, best, deaths_b,
    the event year as the year of ``date_start``). Peng, R. D. (2011) Reproducible
    research in computational science. Science 334(6060): 1226-1227.

    Notes
    -----
    A row matches when ``|reproduced - published| <= max(absolute, relative *
    |published|)`` (the recipe's ``tolerance``; default 0, exact). Events are
    assigned to a period by their first day (``date_start``), UCDP's own convention
    for yearly totals. Rows whose period lies (even partly) outside the data set's
    coverage window are not tested: outside the window a zero is unknown, not zero.
    The verdict rests on the tested rows only; when none can be tested it is
    ``cannot be tested with this data``.
    """
    recipe = load_recipe(recipe)
    published = published_numbers(recipe, data_dir)
    filters = {**published.filters, **recipe.filters}
    incidents = read_data(recipe, data, data_dir)
    window = registry.coverage(recipe.dataset, recipe.version) or incidents.source.coverage
    if window is None:
        window = (incidents.data["date_start"].min(), incidents.data["date_end"].max())
    table, selected = recount(recipe, incidents, published.rows, filters, window)
    table = compare_rows(table, recipe)
    dates = filters.get("dates")
    span = (pd.Timestamp(dates[0]), pd.Timestamp(dates[1])) if dates else window
    table, coverage = cell_coverage(table, selected, incidents, recipe, span, window)
    labels = key_labels(incidents.data)
    verdict, reasons = _verdict(table, recipe, labels)
    reasons += _data_checks(recipe, incidents, window)
    bounds = ["reproduced_low", "reproduced_high", "in_range"] if "in_range" in table else []
    columns = [*recipe.group_by, "measure", "published", "reproduced", *bounds, "abs_diff",
               "rel_diff", "match", "status", "events", "coverage", "coverage_reasons",
               "note"]  # fmt: skip
    if "context" in table.columns:
        columns.append("context")
    return Reproduction(
        recipe=recipe,
        table=table[columns].reset_index(drop=True),
        coverage=coverage,
        verdict=verdict,
        reasons=reasons,
        source=incidents.source.as_dict(),
        published_source=published.source,
        filters=filters,
        labels=labels,
    )
