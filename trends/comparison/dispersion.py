"""The dispersion behind a comparison: each region's own, moderated across regions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..stats.dispersion import moderated_dispersion, source_words

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)


#: Fewest residual degrees of freedom for an estimated dispersion: below this the
#: windows hold too few cells and the region's whole series is used instead.
MIN_DISPERSION_DF = 4
#: Consecutive periods per block in the whole-series dispersion estimate.
SERIES_BLOCK = 3


def region_dispersion(
    agg: pd.DataFrame,
    table: pd.DataFrame,
    phi_fixed: float | None,
    labels_b: list[str],
    labels_a: list[str],
) -> pd.DataFrame:
    """Dispersion per region and where it came from (see :func:`compare`).

    Returns a frame indexed like ``agg``: ``dispersion`` (as used by the test),
    ``dispersion_df`` (``inf``: known), ``dispersion_source`` and
    ``residual_dispersion`` (the region's own estimate, NaN where it has none).
    """
    n = len(agg)
    if phi_fixed is not None:
        return pd.DataFrame(
            {
                "dispersion": np.full(n, phi_fixed),
                "dispersion_df": np.full(n, np.inf),
                "dispersion_source": np.full(n, "fixed", dtype=object),
                "residual_dispersion": np.full(n, np.nan),
            },
            index=agg.index,
        )
    # a window without events has no residuals to estimate anything from
    df_w = sum(
        np.where(agg[f"count_{w}"] > 0, agg[f"cells_{w}"] - 1, 0) for w in ("before", "after")
    ).astype(float)
    chi2_w = (agg["pearson_before"] + agg["pearson_after"]).to_numpy(dtype=float)
    chi2_s, df_s = series_pearson(table, agg.index, labels_b, labels_a)
    use_w = df_w >= MIN_DISPERSION_DF
    chi2 = np.where(use_w, chi2_w, chi2_s)
    df = np.where(use_w, df_w, df_s)
    cells = (agg["cells_before"] + agg["cells_after"]).to_numpy(dtype=float)
    total = (agg["count_before"] + agg["count_after"]).to_numpy(dtype=float)
    mean_rate = np.divide(total, cells, out=np.zeros(n), where=cells > 0)
    mod = moderated_dispersion(chi2, df, mean_rate=mean_rate)
    phi = mod["dispersion"].to_numpy(dtype=float)
    phi_df = mod["dispersion_df"].to_numpy(dtype=float)
    own = np.where(use_w, "windows", np.where(df > 0, "series", "")).astype(object)
    source = source_words(mod["source"].to_numpy(dtype=object), own)
    # as edgeR's poisson.bound: never more confident than a Poisson count
    bound = phi < 1
    source = np.where(bound, source + ", Poisson bound", source)
    phi_df = np.where(bound | np.isnan(phi), np.inf, phi_df)
    phi = np.where(bound | np.isnan(phi), 1.0, phi)
    return pd.DataFrame(
        {
            "dispersion": phi,
            "dispersion_df": phi_df,
            "dispersion_source": source,
            "residual_dispersion": mod["residual_dispersion"].to_numpy(dtype=float),
        },
        index=agg.index,
    )


def series_pearson(
    table: pd.DataFrame, regions: pd.Index, labels_b: list[str], labels_a: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Pearson statistic and df of each region's whole covered series.

    The model is the windows' model extended to the series: one rate per window, and
    one rate per block of ``SERIES_BLOCK`` consecutive covered periods in each stretch
    outside the windows. Giving each window its own rate keeps the estimate free of
    the difference being tested (otherwise a large difference inflates the estimate
    and the test turns conservative).
    """
    ok = table["count"].notna() & (table["exposure"] > 0)
    if "covered" in table.columns:
        ok &= table["covered"].astype("boolean").fillna(True)
    s = table.loc[ok, ["region", "period", "count", "exposure"]].copy()  # by region, period
    window = np.where(s["period"].isin(labels_b), 1, np.where(s["period"].isin(labels_a), 2, 0))
    s["window"] = window
    # stretches: runs of cells with the same window membership within a region
    changed = (s["window"] != s.groupby("region", sort=False)["window"].shift()).to_numpy()
    s["stretch"] = np.cumsum(changed)
    within = s.groupby("stretch", sort=False).cumcount().to_numpy() // SERIES_BLOCK
    s["block"] = s["stretch"].to_numpy() * 1_000_000 + np.where(window > 0, 0, within)
    key = [s["region"], s["block"]]
    block_total = s.groupby(key, sort=False)["count"].transform("sum")
    fitted = s["exposure"] * (block_total / s.groupby(key, sort=False)["exposure"].transform("sum"))
    with np.errstate(divide="ignore", invalid="ignore"):
        s["pearson"] = np.where(fitted > 0, (s["count"] - fitted) ** 2 / fitted, 0.0)
    chi2 = s.groupby("region", sort=False)["pearson"].sum()
    # a block without events has no residuals: it adds no degrees of freedom
    with_events = s[block_total.to_numpy() > 0]
    n_cells = with_events.groupby("region", sort=False).size()
    n_blocks = with_events.groupby("region", sort=False)["block"].nunique()
    df = (n_cells - n_blocks).reindex(regions).fillna(0).to_numpy(dtype=float)
    return chi2.reindex(regions).fillna(0).to_numpy(dtype=float), df


# --------------------------------------------------------------------------- tests
