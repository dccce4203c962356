"""Could a change be reporting? Activity of the outlets behind two windows."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import TrendsError
from .arrays import covered_mask
from .measures import distinct_sources, pooled_sources
from .windows import as_window, check_dispersion

logger = logging.getLogger(__name__)


def source_activity(
    cells_before: pd.DataFrame,
    cells_after: pd.DataFrame,
    *,
    dispersion: float = 1.0,
    level: float = 0.95,
) -> dict[str, Any]:
    """Could a change between two windows be reporting? Activity of the sources behind it.

    For compare(): call once per region with the region's cells in each window (cells
    outside the coverage window are ignored) and copy the keys below into the result
    row. Pair it with ``assess_window(cells_after, baseline=cells_before, ...)``,
    whose source-mix rule catches a main outlet that went silent.

    Two tests of "did the sources report less, or did fewer sources report?":

    * **events per active source** (the issue's test): events / (active sources x
      exposure days) after against before. Conditional on the two windows' total,
      the after-window's events are binomial with ``p0 = w_after / (w_before +
      w_after)``, ``w = n_sources x exposure``; exact (two-sided, as R's
      ``binom.test``) for whole counts and ``dispersion`` 1, else the score test
      with variance scaled by ``dispersion`` (Przyborowski & Wilenski 1940; the
      conditional test of two Poisson rates, as in R's ``poisson.test``).
    * **continuing sources**: the same test on the events naming the outlets active
      in *both* windows (needs ``source_counts``), with ``w`` = exposure. If the
      outlets that kept filing file as much as before, a fall in the total comes
      from the outlets that stopped.

    ``reporting_change_suspected`` is True when the number of active sources moved
    in the same direction as the rate of events, and the events of the sources
    that kept filing (when source names are known; else the events per active
    source) did not change significantly at ``1 - level``. It is None when the
    numbers of sources are unknown.

    Returns
    -------
    dict with keys
        ``n_sources_before``, ``n_sources_after`` : distinct active sources (NaN unknown)
        ``events_before``, ``events_after`` : total count of the covered cells
        ``exposure_before``, ``exposure_after`` : days
        ``events_per_source_before``, ``events_per_source_after`` : events / sources
        ``per_source_ratio``, ``per_source_pvalue`` : ratio of events per source-day
        (after / before) and the test's p-value (NaN when unknown)
        ``n_continuing_sources`` : outlets active in both windows (NaN unknown)
        ``continuing_ratio``, ``continuing_pvalue`` : the same for the events of the
        continuing outlets (per day)
        ``reporting_change_suspected`` : bool, or None when unknown
    """
    phi = check_dispersion(dispersion)
    if not 0 < level < 1:
        raise TrendsError(f"level={level!r} must lie strictly between 0 and 1")
    sides = {}
    for name, cells in (("before", cells_before), ("after", cells_after)):
        cells = as_window(cells, f"cells_{name}")
        inside = cells[covered_mask(cells)] if len(cells) else cells
        mix = pooled_sources(inside) if len(inside) else {}
        n, _ = distinct_sources(inside, mix) if len(inside) else (math.nan, "")
        sides[name] = {
            "events": float(pd.to_numeric(inside["count"]).sum()) if len(inside) else 0.0,
            "exposure": float(inside["exposure"].sum()) if len(inside) else 0.0,
            "n": n,
            "mix": mix,
        }
    b, a = sides["before"], sides["after"]
    out: dict[str, Any] = {
        "n_sources_before": b["n"],
        "n_sources_after": a["n"],
        "events_before": b["events"],
        "events_after": a["events"],
        "exposure_before": b["exposure"],
        "exposure_after": a["exposure"],
        "events_per_source_before": b["events"] / b["n"] if b["n"] > 0 else math.nan,
        "events_per_source_after": a["events"] / a["n"] if a["n"] > 0 else math.nan,
        "per_source_ratio": math.nan,
        "per_source_pvalue": math.nan,
        "n_continuing_sources": math.nan,
        "continuing_ratio": math.nan,
        "continuing_pvalue": math.nan,
        "reporting_change_suspected": None,
    }
    if b["n"] > 0 and a["n"] > 0 and b["exposure"] > 0 and a["exposure"] > 0:
        out["per_source_ratio"], out["per_source_pvalue"] = two_rate_test(
            b["events"], a["events"], b["n"] * b["exposure"], a["n"] * a["exposure"], phi
        )
    if b["mix"] is not None and a["mix"] is not None and b["exposure"] > 0 and a["exposure"] > 0:
        both = sorted(set(b["mix"]) & set(a["mix"]))
        out["n_continuing_sources"] = float(len(both))
        if both:
            eb = sum(b["mix"][k] for k in both)
            ea = sum(a["mix"][k] for k in both)
            out["continuing_ratio"], out["continuing_pvalue"] = two_rate_test(
                eb, ea, b["exposure"], a["exposure"], phi
            )
    if math.isnan(b["n"]) or math.isnan(a["n"]) or b["exposure"] <= 0 or a["exposure"] <= 0:
        return out
    source_move = np.sign(a["n"] - b["n"])
    rate_move = np.sign(a["events"] / a["exposure"] - b["events"] / b["exposure"])
    if not math.isnan(out["continuing_pvalue"]):
        p = out["continuing_pvalue"]
    elif out["n_continuing_sources"] == 0:
        p = 1.0  # every outlet was replaced: the change cannot be told from reporting
    else:
        p = out["per_source_pvalue"]
    alpha = 1 - level
    out["reporting_change_suspected"] = bool(
        source_move != 0 and source_move == rate_move and not (p < alpha)
    )
    return out


def two_rate_test(y0: float, y1: float, w0: float, w1: float, phi: float) -> tuple[float, float]:
    """Ratio of rates ``(y1 / w1) / (y0 / w0)`` and the two-sided p-value of the
    conditional test that it is 1 (exact binomial for whole counts and ``phi`` 1,
    else the score test with variance scaled by ``phi``)."""
    total = y0 + y1
    ratio = (y1 / w1) / (y0 / w0) if y0 > 0 else (math.inf if y1 > 0 else math.nan)
    if total <= 0:
        return ratio, 1.0
    p0 = w1 / (w0 + w1)
    if phi == 1 and float(y1).is_integer() and float(total).is_integer():
        return ratio, float(stats.binomtest(int(y1), int(total), p0).pvalue)
    z = (y1 - total * p0) / math.sqrt(phi * total * p0 * (1 - p0))
    return ratio, float(2 * stats.norm.sf(abs(z)))
