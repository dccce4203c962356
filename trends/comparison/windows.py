"""The two windows of a comparison: their periods, their cells and their totals."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..periods import period_bounds, period_range, to_period_end_label, to_period_label

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


def windows(table: pd.DataFrame, before: Any, after: Any, kind: str) -> tuple[list[str], list[str]]:
    """Period labels of each window, checked against each other and the data."""
    data_first, data_last = (
        str(table["period"].iloc[table["period_start"].argmin()]),
        str(table["period"].iloc[table["period_start"].argmax()]),
    )
    all_labels = set(period_range(data_first, data_last, kind))
    out = []
    for name, window in (("before", before), ("after", after)):
        if isinstance(window, (str, bytes)) or not isinstance(window, Sequence) or len(window) != 2:
            raise OptionError(
                f"{name}={window!r} must be a (first, last) pair of periods or dates, "
                "e.g. ('2016-01', '2016-06')"
            )
        first = to_period_label(window[0], kind)
        last = to_period_end_label(window[1], kind)
        labels = period_range(first, last, kind)
        if not labels:
            raise OptionError(f"{name}={tuple(window)!r} ends ({last}) before it starts ({first})")
        outside = [lab for lab in labels if lab not in all_labels]
        if outside:
            raise OptionError(
                f"{name}={tuple(window)!r} reaches outside the data: {outside[0]} is not "
                f"within the table's periods, {data_first} to {data_last}"
            )
        out.append(labels)
    overlap = sorted(set(out[0]) & set(out[1]))
    if overlap:
        raise OptionError(
            f"before={tuple(before)!r} and after={tuple(after)!r} overlap in "
            f"{overlap[0]}..{overlap[-1]} ({len(overlap)} periods); windows must be disjoint"
        )
    return out[0], out[1]


# --------------------------------------------------------------------------- aggregation


def window_grid(
    table: pd.DataFrame, labels_b: list[str], labels_a: list[str], kind: str
) -> pd.DataFrame:
    """Every region x window period, with the table's cells where they exist.

    Adds ``window`` ("before"/"after") and ``usable`` (covered, count known,
    exposure positive). Periods without a row keep a missing count (outside coverage).
    """
    regions = pd.unique(table["region"])
    labels = labels_b + labels_a
    start, end = period_bounds(labels, kind)
    frame = pd.DataFrame(
        {
            "region": np.repeat(regions, len(labels)),
            "period": np.tile(np.array(labels, dtype=object), len(regions)),
            "window": np.tile(
                np.array(["before"] * len(labels_b) + ["after"] * len(labels_a)), len(regions)
            ),
        }
    )
    frame["region"] = frame["region"].astype("string")
    frame["period"] = frame["period"].astype("string")
    cols = [c for c in table.columns if c not in ("period_start", "period_end")]
    grid = frame.merge(table[cols], on=["region", "period"], how="left", sort=False)
    grid["period_start"] = np.tile(start.to_numpy(), len(regions))
    grid["period_end"] = np.tile(end.to_numpy(), len(regions))
    covered = grid["count"].notna().to_numpy()
    if "covered" in grid.columns:
        covered = covered & grid["covered"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    grid["in_coverage"] = covered
    grid["usable"] = covered & (grid["exposure"].fillna(0).to_numpy() > 0)
    return grid


def window_totals(grid: pd.DataFrame) -> pd.DataFrame:
    """Per region: counts, exposures, cells and the within-window Pearson statistic."""
    use = grid[grid["usable"]].copy()
    key = [use["region"], use["window"]]
    tot_x = use.groupby(key, sort=False)["count"].transform("sum")
    tot_e = use.groupby(key, sort=False)["exposure"].transform("sum")
    fitted = use["exposure"] * tot_x / tot_e
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.where(fitted > 0, (use["count"] - fitted) ** 2 / fitted, 0.0)
    use["pearson"] = pearson
    sums = use.groupby(["region", "window"], sort=False)[["count", "exposure", "pearson"]].sum()
    cells = use.groupby(["region", "window"], sort=False).size()
    regions = pd.Index(pd.unique(grid["region"]), name="region")
    agg = pd.DataFrame(index=regions)
    for w in ("before", "after"):
        idx = pd.MultiIndex.from_arrays([regions, [w] * len(regions)])
        agg[f"count_{w}"] = sums["count"].reindex(idx).fillna(0.0).to_numpy()
        agg[f"exposure_{w}"] = sums["exposure"].reindex(idx).fillna(0.0).to_numpy()
        agg[f"cells_{w}"] = cells.reindex(idx).fillna(0).to_numpy().astype(int)
        agg[f"pearson_{w}"] = sums["pearson"].reindex(idx).fillna(0.0).to_numpy()
        n_total = grid[grid["window"] == w].groupby("region", sort=False).size()
        n_cov = grid[(grid["window"] == w) & grid["in_coverage"]].groupby("region").size()
        agg[f"periods_{w}"] = n_total.reindex(regions).fillna(0).to_numpy().astype(int)
        agg[f"covered_{w}"] = n_cov.reindex(regions).fillna(0).to_numpy().astype(int)
    return agg


# --------------------------------------------------------------------------- dispersion
