"""Did the mix of outlets change, beyond what the number of reports explains?

Fewer events come from fewer outlets even when no outlet stopped filing: a small
outlet behind 1 in 50 of the baseline's reports is absent from a window of 10 reports
most of the time by chance. So an outlet counts as *silent* only when its silence is
unlikely under the baseline's mix for the number of reports now, and as *new* only
when its absence from the baseline is unlikely for the baseline's number of reports
(rarefaction: Sanders 1968, Am. Nat. 102:243; Hurlbert 1971, Ecology 52:577;
:mod:`trends.stats.rarefaction`).

The unit is the report (an event naming an outlet; ``source_counts`` counts them), and
the model draws the ``n`` reports now with replacement from the baseline's shares
(Colwell et al. 2012, J. Plant Ecol. 5:3): ``P(outlet i silent) = (1 - p_i) ** n``,
and the expected number of the baseline's outlets among them is ``sum_i 1 - (1 -
p_i) ** n``. Unlike Hurlbert's hypergeometric form it holds for ``n`` larger than the
baseline and for fractional ``n`` (counts split over periods).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..stats.rarefaction import absent_probability, expected_distinct

__all__ = ["MixChange", "mix_change"]


@dataclass(frozen=True)
class MixChange:
    """Outlets that went silent or appeared beyond chance, between a baseline and now.

    Attributes
    ----------
    silent, new : tuple of str
        Outlets silent now (named in the baseline) and new now (absent in the
        baseline), each beyond chance, largest share first.
    silent_share : float
        Share of the baseline's reports that came from the silent outlets.
    new_share : float
        Share of the reports now that come from the new outlets.
    continuing : tuple of str
        Outlets named both in the baseline and now.
    expected_sources : float
        Distinct baseline outlets expected among the reports now (rarefaction).
    observed_sources : int
        Distinct baseline outlets named now.
    """

    silent: tuple[str, ...]
    silent_share: float
    new: tuple[str, ...]
    new_share: float
    continuing: tuple[str, ...]
    expected_sources: float
    observed_sources: int


def _beyond_chance(
    named: Mapping[str, float], absent_in: Mapping[str, float], alpha: float
) -> tuple[tuple[str, ...], float]:
    """Outlets of ``named`` absent from ``absent_in`` whose absence from as many reports
    as ``absent_in`` holds has probability below ``alpha``, and their share of
    ``named``'s reports."""
    keys = [k for k, v in named.items() if v > 0]
    counts = np.array([named[k] for k in keys], dtype=float)
    total = counts.sum()
    if total <= 0:
        return (), 0.0
    chance = absent_probability(counts, sum(absent_in.values()))
    picked = [
        k for k, p in zip(keys, chance, strict=True) if absent_in.get(k, 0.0) <= 0 and p < alpha
    ]
    picked.sort(key=lambda k: -named[k])
    return tuple(picked), float(sum(named[k] for k in picked) / total)


def mix_change(
    baseline: Mapping[str, float], now: Mapping[str, float], *, alpha: float = 0.01
) -> MixChange:
    """Compare the mix of outlets now with the baseline's.

    Parameters
    ----------
    baseline, now : mapping outlet -> reports
        The source mixes (``source_counts``, pooled over a window).
    alpha : float
        An outlet is silent (new) when the chance of its silence over the reports
        now (of its absence over the baseline's reports) is below this.
    """
    silent, silent_share = _beyond_chance(baseline, now, alpha)
    new, new_share = _beyond_chance(now, baseline, alpha)
    named = [k for k, v in baseline.items() if v > 0]
    n_now = sum(now.values())
    expected = float(expected_distinct([baseline[k] for k in named], n_now, replace=True))
    observed = sum(now.get(k, 0.0) > 0 for k in named)
    continuing = tuple(sorted(k for k in named if now.get(k, 0.0) > 0))
    return MixChange(silent, silent_share, new, new_share, continuing, expected, observed)
