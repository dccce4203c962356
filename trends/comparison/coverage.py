"""The reporting behind a comparison: coverage of the windows, the outlets, reliability."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import verdicts

if TYPE_CHECKING:
    from ..coverage_model import CoverageRules

logger = logging.getLogger(__name__)


#: Optional cell columns that the coverage rules read; without any of them there are
#: no sources whose activity could be checked.
_SOURCE_COLUMNS = (
    "events",
    "n_sources",
    "top_source",
    "top_source_events",
    "source_counts",
    "events_single_source",
    "events_unknown_sources",
    "events_coarse_location",
    "events_coarse_date",
)


def _assess(grid: pd.DataFrame, agg: pd.DataFrame, rules: CoverageRules) -> dict[str, pd.DataFrame]:
    """Coverage of each window on its own (precision of place and date), of the after
    window against the before window (source mix), and of both together (events,
    outlets): :func:`trends.coverage_model.assess_windows` of every region at once."""
    from ..coverage_model import assess_windows
    from ..coverage_model.rules import without_mix

    own = dataclasses.replace(without_mix(rules), min_events=None, min_sources=None)
    pooled = dataclasses.replace(
        without_mix(rules), max_coarse_share=None, max_single_source_share=None
    )
    cells = {w: grid[(grid["window"] == w).to_numpy()] for w in ("before", "after")}
    runs = {
        "before": assess_windows(cells["before"], rules=own),
        "after": assess_windows(
            cells["after"],
            baseline=cells["before"],
            rules=dataclasses.replace(own, max_mix_change=rules.max_mix_change),
        ),
    }
    # Both windows together need a look of their own only where the total is small or
    # neither window alone shows enough outlets (two outlets in one window are two in both).
    total = pd.Series((agg["count_before"] + agg["count_after"]).to_numpy(), index=agg.index)
    outlets = np.fmax(
        *(runs[w].set_index("region")["n_sources"].reindex(agg.index).to_numpy() for w in runs)
    )
    few = (total.to_numpy() < (rules.min_events or 0)) | ~(outlets >= (rules.min_sources or 0))
    todo = agg.index[few]
    both = grid[
        grid["region"].isin(todo).to_numpy() & grid["window"].isin(["before", "after"]).to_numpy()
    ]
    runs["both"] = assess_windows(both, tested_count=total.loc[todo], rules=pooled)
    runs["both"] = runs["both"].set_index("region").reindex(agg.index)
    runs["both"]["status"] = runs["both"]["status"].fillna("adequate")
    runs["both"]["reasons"] = [r if isinstance(r, list) else [] for r in runs["both"]["reasons"]]
    runs["both"] = runs["both"].reset_index()
    return {k: v.set_index("region").reindex(agg.index) for k, v in runs.items()}


def sources_and_coverage(
    out: pd.DataFrame,
    grid: pd.DataFrame,
    agg: pd.DataFrame,
    rules: Any,
    notes: list[list[str]],
) -> None:
    """Coverage, the outlets behind each window, the reporting check, reliability and
    the verdict, for every region.

    The status is the worst of: each window on its own (precision of place and
    date), the after window against the before one (outlets silent or new beyond
    chance, above ``max_mix_change``: not comparable), both windows together (too
    few events, a single outlet), a window partly outside coverage, and the
    re-test among the outlets filing in both windows where the mix changed
    materially (:func:`trends.coverage_model.activity.reporting_check`).
    """
    from ..coverage_model import resolve_rules, source_activity, worse
    from ..coverage_model.activity import ACTIVITY_KEYS, reporting_check

    r = resolve_rules(rules)
    n = len(out)
    assessed = _assess(grid, agg, r)
    col = {c: agg[c].to_numpy() for c in agg.columns}
    parts = {w: (a["status"].tolist(), a["reasons"].tolist()) for w, a in assessed.items()}
    has_sources = any(c in grid.columns for c in _SOURCE_COLUMNS)
    positions = grid.groupby("region", sort=False).indices
    alpha = float(out["alpha"].iloc[0])
    with np.errstate(divide="ignore", invalid="ignore"):  # a ratio of 0 or inf: a direction
        direction = np.log(out["rate_ratio"].to_numpy(dtype=float))
    called = out["qvalue"].to_numpy(dtype=float) < alpha
    pvalue = out["pvalue"].to_numpy(dtype=float)
    phi = out["dispersion"].to_numpy(dtype=float)
    phi_df = out["dispersion_df"].to_numpy(dtype=float)
    coverage = np.empty(n, dtype=object)
    reasons_col = np.empty(n, dtype=object)
    activity: list[dict[str, Any]] = []
    suspected = np.full(n, None, dtype=object)
    for i, region in enumerate(agg.index):
        status, reasons = _window_coverage(i, parts, col)
        act = dict.fromkeys(ACTIVITY_KEYS, np.nan)
        if has_sources and status != "uncovered":
            sub = grid.iloc[positions[region]]
            usable = sub["usable"].to_numpy()
            window = sub["window"].to_numpy()
            act = source_activity(
                sub[(window == "before") & usable],
                sub[(window == "after") & usable],
                dispersion=float(phi[i]),
                dispersion_df=float(phi_df[i]),
                level=1.0 - alpha,
                mix_alpha=r.mix_alpha,
            )
            st, rs, suspected[i] = reporting_check(
                act,
                direction=direction[i],
                called=bool(called[i]),
                pvalue=float(pvalue[i]),
                alpha=alpha,
                rules=r,
            )
            status = worse(status, st)
            reasons += rs
        if called[i] and np.isnan(act["n_sources_expected"]):
            notes[i].append("source names unknown: a reporting change could not be checked")
        activity.append(act)
        coverage[i], reasons_col[i] = status, reasons

    for key in (
        "n_sources_before",
        "n_sources_after",
        "n_sources_expected",
        "silent_sources",
        "new_sources",
        "n_continuing_sources",
        "continuing_ratio",
        "continuing_pvalue",
    ):
        out[key] = [a[key] for a in activity]
    for key in ("silent_sources", "new_sources"):
        out[key] = out[key].astype("string").replace("", pd.NA)
    out["reporting_change_suspected"] = pd.array(suspected, dtype="boolean")
    out["coverage"] = coverage
    out["coverage_reasons"] = ["; ".join(x) for x in reasons_col]
    _reliability(out, r, notes)
    out["verdict"] = verdicts.decide(
        "change",
        direction=direction,
        qvalue=out["qvalue"].to_numpy(dtype=float),
        alpha=alpha,
        status=coverage.tolist(),
        estimable=out["pvalue"].notna().to_numpy(),
    )


def _window_coverage(
    i: int, parts: dict[str, tuple[list, list]], col: dict[str, np.ndarray]
) -> tuple[str, list[str]]:
    """Region ``i``'s status and reasons from the windows' assessments (see :func:`_assess`):
    a window without exposure is uncovered, one partly outside coverage at least thin."""
    from ..coverage_model import worse

    status, reasons = "adequate", []
    for w, (statuses, why) in parts.items():
        st, rs = statuses[i], list(why[i])
        if w == "both":
            if st == "uncovered":
                continue  # said by the windows
        else:
            n_out = int(col[f"periods_{w}"][i]) - int(col[f"covered_{w}"][i])
            if st != "uncovered" and col[f"exposure_{w}"][i] <= 0:
                st, rs = "uncovered", [*rs, "no exposure in the window"]
            if st == "adequate" and n_out:
                st = "thin"  # the reasons already name the uncovered periods
                rs = [*rs, "rates describe only the covered part of the window"]
            rs = [f"{w}: {x}" for x in rs]
        status = worse(status, st)
        reasons += rs
    return status, reasons


def _reliability(
    out: pd.DataFrame,
    rules: CoverageRules,
    notes: list[list[str]],
) -> None:
    """``reliable``: both windows' rates rest on enough events (NCHS-style flag)."""
    from ..coverage_model.judge import reliability

    phi = np.maximum(out["dispersion"].to_numpy(dtype=float), 1.0)
    flags = np.ones(len(out), dtype=bool)
    for w in ("before", "after"):
        count = out[f"count_{w}"].to_numpy(dtype=float)
        with np.errstate(divide="ignore"):
            rse = np.where(count > 0, np.sqrt(phi / np.where(count > 0, count, 1.0)), np.inf)
        low = (count < (rules.reliable_events or 0)) | (rse >= (rules.reliable_rse or np.inf))
        for i in np.flatnonzero(low):
            good, text = reliability({"count": count[i], "rse": rse[i]}, rules)
            if not good:
                flags[i] = False
                notes[i].append(f"{w}: {text}")
    out["reliable"] = pd.array(flags, dtype="boolean")
