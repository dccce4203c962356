"""Reporting artefacts: alarms that the source mix, not the events, may have produced.

Where the cells carry ``source_counts`` (a JSON object ``{"outlet": events, ...}`` per
cell, see :mod:`trends.cells`), an alarm is set against the outlets of its baseline:
the covered cells of the stretch of periods the method's baseline spans, pooled (for
the Farrington methods, from the oldest reference window to the most recent baseline
period, the months between the windows included; for the GLR, its training periods):

* a **high** alarm whose excess comes from outlets absent from the baseline: without
  the events naming those outlets the count would not pass the upper bound (or, where
  the method gives no count bound, the expected count). A new outlet filing for the
  first time looks exactly like a surge of events.
* a **low** alarm in a period where the baseline's main outlet (the one behind most of
  its source mentions) is silent: a fall in reports when the main reporter stops
  filing is not a fall in events.

Such a row's coverage becomes at least ``thin`` (so its verdict is "inconclusive (thin
coverage)") and the reason is added to ``coverage_reasons`` and ``note``. An event can
name several outlets, so mentions can outnumber events: the events attributed to new
outlets are their mentions, capped at the count. Cells whose source mix is unknown are
not judged (nothing is assumed about them).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

from ._common import Detection

__all__ = ["reporting_artefacts"]

logger = logging.getLogger(__name__)


def _mix(value: Any) -> dict[str, float] | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return {str(k): float(v) for k, v in json.loads(value).items() if float(v) > 0}


def reporting_artefacts(out: pd.DataFrame, series: Any, det: Detection, report: np.ndarray):
    """Rows of ``out`` (positions) whose alarm may be a reporting artefact, with the reason.

    ``out`` needs ``_side`` (+1 high alarm, -1 low alarm), ``observed``, ``expected``,
    ``upperbound``; ``series`` is the ``_Series`` the method ran on; ``report`` the cell
    table positions of ``out``'s rows.
    """
    table = series.table
    if "source_counts" not in table.columns:
        return {}
    side = out["_side"].to_numpy()
    rows = np.flatnonzero(side != 0)
    if rows.size == 0:
        return {}
    mixes = table["source_counts"].to_numpy(dtype=object)
    # table row of each (region, global position)
    R, G = len(series.regions), len(series.timeline)
    at = np.full((R, G), -1)
    at[series.rcode, series.gpos] = np.arange(len(table))
    found: dict[int, str] = {}
    for i in rows:
        cell = report[i]
        s, c = series.seg[cell], series.col[cell]
        first, last = det.base_first[s, c], det.base_last[s, c]
        current = _mix(mixes[cell])
        if first < 0 or current is None:
            continue
        lo = series.seg_lo[s]
        base_rows = at[series.rcode[cell], lo + first : lo + last + 1]
        base_rows = base_rows[(base_rows >= 0) & series.covered[np.maximum(base_rows, 0)]]
        pooled: Counter[str] = Counter()
        for value in mixes[base_rows]:
            m = _mix(value)
            if m:
                pooled.update(m)
        if not pooled:
            continue
        if side[i] > 0:
            why = _new_outlets(out.iloc[i], current, pooled, det)
        else:
            why = _silent_main(current, pooled)
        if why:
            found[int(i)] = why
    if found:
        logger.info("alarms: %d alarms may be reporting artefacts", len(found))
    return found


def _new_outlets(row: pd.Series, current: dict[str, float], pooled: Counter, det: Detection):
    new = {k: v for k, v in current.items() if k not in pooled}
    if not new:
        return None
    y = float(row["observed"])
    bound = float(row["upperbound"]) if det.bound_is_count else float("nan")
    if not np.isfinite(bound):
        bound = float(row["expected"])
    rest = y - min(sum(new.values()), y)
    below = rest < bound if det.inclusive_bound else rest <= bound
    if not below:
        return None
    names = ", ".join(sorted(new)[:3]) + (", ..." if len(new) > 3 else "")
    return (
        f"the excess comes from outlets absent from the baseline ({names}): without their "
        f"{min(sum(new.values()), y):g} of {y:g} events the count ({rest:g}) would not pass "
        f"the bound ({bound:.3g})"
    )


def _silent_main(current: dict[str, float], pooled: Counter):
    main, events = pooled.most_common(1)[0]
    if current.get(main, 0.0) > 0:
        return None
    share = events / sum(pooled.values())
    return (
        f"the baseline's main outlet {main!r} ({share:.0%} of its source mentions) is "
        "silent in this period"
    )
