"""Data sets: the registry of known sources, and the synthetic demo data.

``simulate()`` makes the bundled demo data: a deterministic, *synthetic* incident
set built so that each capability of ``trends`` has something to find, with the
ground truth returned beside it (as ruptures' generators do) so tests can check
against it. Every name in it says ``synthetic``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import registry
from .errors import OptionError
from .fetch import fetch
from .incidents import Incidents, SourceInfo, make_ledger

__all__ = ["simulate", "demo_windows", "DEMO_NAME", "registry", "fetch"]

DEMO_NAME = "trends demo data (synthetic)"
_COUNTRY = "Synthetica (synthetic)"
_REGIONS = (
    "Al Qasr",
    "Bayt Nahr",
    "Dar Salim",
    "Hadiqa",
    "Jabal Tir",
    "Khatt",
    "Marj",
    "Nahr Amin",
    "Qal'at Sahl",
    "Ras Wadi",
    "Sahil",
    "Tall Abyad (synthetic)",
    "Umm Nur",
    "Wadi Rum (synthetic)",
    "Zahra",
)
_OUTLETS = (
    "Daily Courier (synthetic)",
    "Provincial Radio (synthetic)",
    "Wire Service (synthetic)",
    "Monitor Network (synthetic)",
    "Field Office Log (synthetic)",
)
_TYPES = ("attack", "arrest", "security operation")


def simulate(
    seed: int = 2024,
    *,
    start: str = "2019-01",
    months: int = 60,
    return_truth: bool = False,
) -> Incidents | tuple[Incidents, pd.DataFrame]:
    """A deterministic synthetic incident set for demonstrations and tests.

    Fifteen regions over ``months`` months. Each region's monthly count is
    gamma-Poisson (negative binomial, variance about three times the mean) around
    a mean with a yearly season. Three regions are special:

    * ``Al Qasr``: a real change; the mean doubles from the middle month on, and
      its outlets keep filing as before;
    * ``Khatt``: too sparse to say anything (about one incident in three months);
    * ``Marj``: its main outlet (``Monitor Network``), behind about 90% of its
      reports, stops filing from the middle month on; the violence does not change.

    Parameters
    ----------
    seed : int
        Seed of the random generator: the same seed gives the same data.
    start : str
        First month (``YYYY-MM``).
    months : int
        Number of months (at least 4).
    return_truth : bool
        Also return the ground truth.

    Returns
    -------
    Incidents, or (Incidents, DataFrame)
        The incidents (canonical columns; name ``trends demo data (synthetic)``);
        with ``return_truth``, also one row per region: ``region``, ``scenario``
        (``baseline``, ``true change``, ``too sparse``, ``source lost``),
        ``mean_before``, ``mean_after`` (true mean incidents per month, before and
        after the change month), ``change_period``, ``first_period``, ``last_period`` and
        ``reported_share_after``
        (share of incidents still reported after the change).
    """
    if months < 4:
        raise OptionError(f"months={months!r}: the demo needs at least 4 months")
    rng = np.random.default_rng(seed)
    periods = pd.period_range(pd.Period(start, freq="M"), periods=months, freq="M")
    change = months // 2
    base = dict(zip(_REGIONS, rng.uniform(8, 45, len(_REGIONS)).round(1), strict=True))
    base["Khatt"] = 0.35
    base["Al Qasr"] = 14.0
    base["Marj"] = 30.0
    frames = []
    truth = []
    outlets = np.array(_OUTLETS, dtype=object)
    for r_index, region in enumerate(_REGIONS):
        scenario = {"Al Qasr": "true change", "Khatt": "too sparse", "Marj": "source lost"}.get(
            region, "baseline"
        )
        mean_after = base[region] * (2.0 if scenario == "true change" else 1.0)
        weights = rng.dirichlet(np.ones(len(_OUTLETS)) * 2)
        if scenario == "source lost":
            weights = np.array([0.04, 0.04, 0.04, 0.84, 0.04])
        month_no = np.arange(months)
        mean = np.where(month_no < change, base[region], mean_after)
        season = 1 + 0.25 * np.sin(2 * np.pi * (periods.month.to_numpy() - 1) / 12 + r_index)
        mu = mean * season
        # Negative binomial as gamma-Poisson, variance mu + mu^2/k; k = mu/2 gives 3 x mean.
        k = mu / 2.0
        n = rng.poisson(rng.gamma(k, mu / k))
        month_of = np.repeat(month_no, n)
        size = len(month_of)
        # Each incident is filed by 1-3 distinct outlets, drawn by weight without
        # replacement (the Gumbel top-k trick); an outlet that has stopped drops out.
        n_out = rng.choice([1, 1, 1, 2, 3], size=size)
        keys = np.log(weights) + rng.gumbel(size=(size, len(_OUTLETS)))
        order = np.argsort(-keys, axis=1)
        drawn = np.zeros((size, len(_OUTLETS)), dtype=bool)
        for j in range(3):
            rows_j = np.flatnonzero(n_out > j)
            drawn[rows_j, order[rows_j, j]] = True
        if scenario == "source lost":
            drawn[month_of >= change, 3] = False
        reported = drawn.any(axis=1)
        month_of, drawn = month_of[reported], drawn[reported]
        size = len(month_of)
        first = periods[month_of].start_time
        day = np.floor(rng.random(size) * periods[month_of].days_in_month).astype(int)
        date = first + pd.to_timedelta(day, unit="D")
        precision = rng.choice(["day", "day", "day", "day", "week", "month"], size=size)
        month_end = periods[month_of].end_time.normalize()
        week_end = np.minimum(date + pd.Timedelta(days=6), month_end)
        end = np.where(
            precision == "week", week_end, np.where(precision == "month", month_end, date)
        )
        coarse = rng.random(size) < 0.05
        frames.append(
            pd.DataFrame(
                {
                    "date_start": date,
                    "date_end": pd.DatetimeIndex(end),
                    "date_precision": precision,
                    "country": _COUNTRY,
                    "region": np.where(coarse, None, region),
                    "location_precision": np.where(coarse, "country", "exact"),
                    "event_type": rng.choice(_TYPES, size=size),
                    "actor": "Armed group (synthetic)",
                    "fatalities": rng.poisson(1.2, size=size).astype(float),
                    "n_sources": drawn.sum(axis=1),
                    "sources": [";".join(outlets[row]) for row in drawn],
                }
            )
        )
        reported_share_after = 1.0
        if scenario == "source lost":
            reported_share_after = float(1 - _lost_share(weights, 3))
        truth.append(
            {
                "region": region,
                "scenario": scenario,
                "mean_before": base[region],
                "mean_after": mean_after,
                "change_period": str(periods[change]),
                "first_period": str(periods[0]),
                "last_period": str(periods[-1]),
                "reported_share_after": reported_share_after,
            }
        )
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values("date_start", kind="stable").reset_index(drop=True)
    frame.insert(0, "event_id", [f"SYN-{i:06d}" for i in range(1, len(frame) + 1)])
    from .readers import read_incidents

    incidents = read_incidents(frame, name=DEMO_NAME)
    source = SourceInfo(
        name=DEMO_NAME,
        version=f"seed {seed}",
        dataset_id="trends-demo",
        citation="Synthetic data made by trends.datasets.simulate(seed="
        f"{seed}); not real incidents.",
        licence="CC0 1.0 (synthetic)",
        coverage=(periods[0].start_time.normalize(), periods[-1].end_time.normalize()),
        coverage_from="declared",
        caveats=("Synthetic data: every region, outlet and incident is made up.",),
    )
    incidents = Incidents(data=incidents.data, ledger=make_ledger(len(frame), {}), source=source)
    if return_truth:
        return incidents, pd.DataFrame(truth)
    return incidents


def demo_windows(truth: pd.DataFrame) -> tuple[tuple[str, str], tuple[str, str]]:
    """The comparison the demo report makes: the whole years before the planted change
    against as many whole years from it (two and two for the default five years).

    Whole years, so that both windows hold every month of the demo's yearly season as
    often: halves that split a year compare unequal seasons (30 months on each side hold
    different half-years), which shows as a change where there is none.

    Parameters
    ----------
    truth : DataFrame
        What :func:`simulate` returns with ``return_truth=True``.
    """
    change, first, last = (
        pd.Period(truth[f"{k}_period"].iloc[0], freq="M") for k in ("change", "first", "last")
    )
    years = min((change - first).n, (last - change).n + 1) // 12
    if years < 1:
        raise OptionError("the demo leaves less than a year on a side of its change")
    span = 12 * years
    return (str(change - span), str(change - 1)), (str(change), str(change + span - 1))


def _norm(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def _lost_share(weights: np.ndarray, lost: int) -> float:
    """Share of incidents no longer reported when outlet ``lost`` stops (1-3 outlets each)."""
    p = _norm(weights)
    # An incident goes unreported only if it drew a single outlet (probability 3/5)
    # and that outlet was ``lost``.
    return 0.6 * p[lost]
