"""Farrington et al. (1996) and its improved version (Noufaily et al. 2013), as R's
``surveillance::farringtonFlexible`` computes them, for every region and period at once.

For each monitored period ``k`` a quasi-Poisson GLM is fitted to a baseline taken from
the ``b`` previous years: windows of ``2w + 1`` periods centred on ``k - f, k - 2f, ...,
k - bf`` (``f`` periods a year), plus, with ``no_periods > 1``, the rest of each year cut
into ``no_periods - 1`` seasonal groups (Noufaily et al.), less the ``past_periods_excluded``
most recent periods. The model has one level per group and, with ``trend``, a linear
time term, kept when its p-value is below ``p_threshold_trend``, the baseline spans at
least three years, and the fitted mean at ``k`` does not exceed the largest baseline
count. With ``reweight``, the model is refitted with weights that shrink baseline
periods whose Anscombe residual exceeds ``weights_threshold`` (past outbreaks). The
upper bound is then:

``delta`` (Farrington et al. 1996)
    ``(mu^e + z_{1-alpha} * sqrt(V))^(1/e)`` on the power scale ``e`` = ``powertrans``
    (2/3 removes most skewness), ``V`` the delta-method variance of ``mu^e`` from the
    dispersion and the prediction's standard error. ``pvalue`` is the matching normal
    tail probability.
``nbPlugin`` (Noufaily et al. 2013)
    The ``1 - alpha`` quantile of a negative binomial with mean ``mu`` and variance
    ``phi * mu`` (Poisson when ``phi = 1``); ``pvalue = P(Y >= y)`` under it.
``muan``
    The same quantile at the ``1 - alpha`` upper confidence limit of ``mu``.

An alarm needs the observed count above the bound, a count above zero, and (R's
``limit54``) at least 5 cases in the last 4 periods, the monitored one included.

The numbers are R's: same baseline layout (including R's handling of seasonal groups
that do not divide the year evenly, where a short group takes the first period of the
next reference window), the same IRLS iterations and convergence rule, the dispersion
``max(1, Pearson)`` for the bound but the raw Pearson dispersion for the prediction's
standard error and the trend's t-test, as ``predict.glm`` and ``summary.glm`` give them.
Where a fit does not converge with the trend, it is refitted without; where it does not
converge without, the cell is "not estimable" (R returns NA there). One deliberate
difference: with ``p_threshold_trend >= 1`` (Noufaily) the trend is always kept, where
R's test ``p < 1`` drops it when the slope estimate is exactly 0.0, a rounding accident
of baselines symmetric in time.

References
----------
Farrington CP, Andrews NJ, Beale AD, Catchpole MA (1996). A statistical algorithm for
the early detection of outbreaks of infectious disease. JRSS A 159(3):547-563.

Noufaily A, Enki DG, Farrington P, Garthwaite P, Andrews N, Charlett A (2013). An
improved algorithm for outbreak detection in multiple surveillance systems. Statistics
in Medicine 32(7):1206-1222.

Salmon M, Schumacher D, Höhle M (2016). Monitoring count time series in R: aberration
detection in public health surveillance. Journal of Statistical Software 70(10)
(``surveillance::farringtonFlexible``, version 1.20.3).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..checks import check_bool, check_choice, check_count, check_number
from ._common import FREQUENCY, NOT_ESTIMABLE, TOO_SHORT, Detection
from ._farrington_model import bounds, final_model

__all__ = ["PRESETS", "defaults", "validate", "detect", "layout"]

logger = logging.getLogger(__name__)

CHUNK = 20_000  # fits per batch (memory: about 20 arrays of CHUNK x baseline length)

#: Settings of the two methods that do not depend on the kind of period.
PRESETS: dict[str, dict[str, Any]] = {
    "farrington": {
        "b": 3,
        "reweight": True,
        "weights_threshold": 1.0,
        "trend": True,
        "p_threshold_trend": 0.05,
        "alpha": 0.05,
        "powertrans": "2/3",
        "threshold_method": "delta",
        "limit54": (5, 4),
    },
    "noufaily": {
        "b": 3,
        "reweight": True,
        "weights_threshold": 2.58,
        "trend": True,
        "p_threshold_trend": 1.0,
        "alpha": 0.05,
        "powertrans": "2/3",
        "threshold_method": "nbPlugin",
        "limit54": (5, 4),
    },
}

# Per kind of period: half-width w of the seasonal window, and for noufaily the periods
# left out before k (half a year) and the number of seasonal groups. Weeks and months
# are the settings of the shared R references (r_reference.R); quarters and years are
# ours: the window is the same quarter +- 1; with four quarters there is room for two
# groups (the windows and the quarter between them); years have no season.
_BY_PERIOD = {
    "week": {"w": 3, "noufaily_excluded": 26, "noufaily_groups": 10},
    "month": {"w": 2, "noufaily_excluded": 6, "noufaily_groups": 10},
    "quarter": {"w": 1, "noufaily_excluded": 2, "noufaily_groups": 2},
    "year": {"w": 0, "noufaily_excluded": 0, "noufaily_groups": 1},
}

OPTIONS = (
    "b",
    "w",
    "reweight",
    "weights_threshold",
    "trend",
    "p_threshold_trend",
    "alpha",
    "no_periods",
    "powertrans",
    "past_periods_excluded",
    "threshold_method",
    "limit54",
)


def defaults(period: str, *, preset: str) -> dict[str, Any]:
    """The options of ``preset`` (``farrington`` or ``noufaily``) for cells of ``period``."""
    by = _BY_PERIOD[period]
    out = dict(PRESETS[preset])
    out["w"] = by["w"]
    if preset == "farrington":
        out["no_periods"] = 1
        out["past_periods_excluded"] = by["w"]
    else:
        out["no_periods"] = by["noufaily_groups"]
        out["past_periods_excluded"] = by["noufaily_excluded"]
    return out


def validate(options: dict[str, Any], *, period: str = "month") -> dict[str, Any]:
    """Check the options (see :data:`OPTIONS`); return them normalised."""
    o = dict(options)
    o["b"] = check_count("b", o["b"], minimum=1)
    o["w"] = check_count("w", o["w"], minimum=0)
    o["no_periods"] = check_count("no_periods", o["no_periods"], minimum=1)
    o["past_periods_excluded"] = check_count(
        "past_periods_excluded", o["past_periods_excluded"], minimum=0
    )
    for name in ("reweight", "trend"):
        check_bool(name, o[name])
    o["weights_threshold"] = check_number("weights_threshold", o["weights_threshold"])
    o["p_threshold_trend"] = check_number("p_threshold_trend", o["p_threshold_trend"], low=0)
    o["alpha"] = check_number("alpha", o["alpha"], low=0, high=1, low_open=True, high_open=True)
    check_choice("powertrans", o["powertrans"], ("2/3", "1/2", "none"))
    check_choice("threshold_method", o["threshold_method"], ("delta", "nbPlugin", "muan"))
    if o["limit54"] is not None:
        lim = tuple(o["limit54"]) if isinstance(o["limit54"], (tuple, list)) else ()
        if len(lim) != 2:
            from ..errors import OptionError

            raise OptionError(
                f"limit54={o['limit54']!r} must be None or (cases, periods), e.g. (5, 4)"
            )
        o["limit54"] = (
            check_count("limit54 cases", lim[0], minimum=0),
            check_count("limit54 periods", lim[1], minimum=1),
        )
    layout(o["b"], o["w"], FREQUENCY[period], o["no_periods"], o["past_periods_excluded"])
    return o


def layout(
    b: int, w: int, freq: int, no_periods: int, past_excluded: int
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline positions relative to the monitored period and their seasonal group.

    Returns ``offsets`` (negative ints, oldest first) and ``groups`` (``1 ..
    no_periods``; ``no_periods`` is the group of the reference windows, the one the
    prediction is made for), as ``surveillance``'s internal ``blocks()`` assigns them.
    R fills the stretch between two reference windows with ``no_periods - 1`` blocks
    whose lengths differ by at most one; when the stretch is shorter than the number of
    blocks, R's descending ``a:b`` sequences give the empty blocks two positions each,
    the last of which is the first period of the next (more recent) reference window.
    That is reproduced here, since it changes the fits (monthly data with 10 groups).
    """
    span = b * freq + w
    factor = np.full(span + 1, np.nan)  # position i <-> offset i - span

    def put(first: int, last: int, value: int) -> None:
        seq = range(first, last + 1) if first <= last else range(first, last - 1, -1)
        for off in seq:  # R's `first:last`, which counts down when first > last
            if -span <= off <= 0:
                factor[off + span] = value

    p = no_periods
    put(-w, 0, p)
    gap = freq - 2 * w - 1
    if p != 1 and gap < p - (2 * w + 1):
        from ..errors import OptionError

        raise OptionError(
            f"no_periods={p} is too many seasonal groups for w={w} and {freq} periods a "
            f"year: at most {gap + 2 * w + 1}"
        )
    for i in range(1, b + 1):
        ref = -i * freq
        put(ref - w, ref + w, p)
        if p != 1:
            lengths = np.full(p - 1, gap // (p - 1))
            lengths[: gap % (p - 1)] += 1
            cum = np.concatenate([[0], np.cumsum(lengths)])
            for j in range(1, p):
                put(ref + w + 1 + int(cum[j - 1]), ref + w + 1 + int(cum[j]) - 1, j)
    offsets = np.arange(-span, 1)
    keep = np.isfinite(factor) & (offsets < -past_excluded)
    return offsets[keep], factor[keep].astype(int)


# ------------------------------------------------------------------------------ detect


def detect(
    y: np.ndarray,
    *,
    period: str,
    options: dict[str, Any],
    exposure: np.ndarray | None = None,
    lower: bool = True,
) -> Detection:
    """Run the method on every series (rows of ``y``) and period (columns).

    A cell is judged when its count is known and the ``b`` reference periods ``k - f,
    ..., k - bf`` lie inside its series (R's requirement; windows reaching before the
    series start are cut there). Baseline cells with unknown counts are left out of
    the fit, as R leaves out NA rows. ``lower=False`` skips the lower bound (and the
    low alarms), which only ``direction="low"`` or ``"both"`` need.
    """
    o = options
    freq = FREQUENCY[period]
    out = Detection(y.shape)
    offsets, groups = layout(o["b"], o["w"], freq, o["no_periods"], o["past_periods_excluded"])
    n_groups = o["no_periods"]
    S, T = y.shape
    known = np.isfinite(y)
    need = o["b"] * freq
    too_early = known & (np.arange(T)[None, :] < need)
    out.mark(
        too_early,
        TOO_SHORT,
        f"needs {need} earlier periods ({o['b']} years) in the series for the baseline",
    )
    s_idx, k_idx = np.nonzero(known & ~too_early)
    for lo in range(0, s_idx.size, CHUNK):
        _detect_chunk(
            y,
            s_idx[lo : lo + CHUNK],
            k_idx[lo : lo + CHUNK],
            offsets,
            groups,
            n_groups,
            o,
            out,
            lower,
        )
    if o["limit54"] is not None:
        cases, periods = o["limit54"]
        csum = np.concatenate([np.zeros((S, 1)), np.cumsum(np.nan_to_num(y), axis=1)], axis=1)
        first = np.maximum(np.arange(T) - periods + 1, 0)
        recent = csum[:, 1:] - csum[:, first]
        few = out.computed & (recent < cases)
        out.eligible &= ~few
        out.add_note(
            few, f"fewer than {cases} events in the last {periods} periods: no alarm (limit54)"
        )
    out.alarm_high = out.computed & out.eligible & (out.score > 1) & (y != 0)
    out.alarm_low = out.computed & (y < out.lowerbound)
    return out


def _detect_chunk(y, s_idx, k_idx, offsets, groups, n_groups, o, out: Detection, lower) -> None:
    pos = k_idx[:, None] + offsets[None, :]
    inside = pos >= 0
    yb = np.where(inside, y[s_idx[:, None], np.maximum(pos, 0)], np.nan)
    time = offsets.astype(float)
    gidx = groups - 1
    empty_ref = ~np.any(np.isfinite(yb) & (gidx == n_groups - 1)[None, :], axis=1)
    n_known = np.sum(np.isfinite(yb), axis=1)
    fin = final_model(yb, gidx, time, n_groups, o)
    yk = y[s_idx, k_idx]
    b = bounds(fin, yk, o, lower)
    good = fin.ok & ~empty_ref & np.isfinite(b["upperbound"])
    cells = (s_idx, k_idx)
    for name in ("expected", "upperbound", "lowerbound", "pvalue", "pvalue_low", "score"):
        getattr(out, name)[cells] = np.where(good, b[name], np.nan)
    out.computed[cells] = good
    out.base_first[cells] = np.maximum(k_idx + offsets[0], 0)
    out.base_last[cells] = k_idx + offsets[-1]
    out.extra.setdefault("dispersion", np.full(out.shape, np.nan))[cells] = np.where(
        good, b["phi"], np.nan
    )
    out.extra.setdefault("trend", np.zeros(out.shape, dtype=bool))[cells] = good & fin.slope
    for flag, text in (
        (
            fin.trend_failed,
            "the GLM with the time trend did not converge in 25 iterations: "
            "fitted without it (as R does)",
        ),
        (
            fin.refit_failed & fin.ok,
            "the reweighted GLM stopped at 25 iterations without "
            "converging (R uses it as it stands)",
        ),
    ):
        if flag.any():
            mask = np.zeros(out.shape, dtype=bool)
            mask[s_idx[flag], k_idx[flag]] = True
            out.add_note(mask, text)
    bad = np.zeros(out.shape, dtype=bool)
    bad[cells] = ~good
    why = np.where(
        empty_ref,
        "no known count in the reference windows",
        np.where(fin.ok, "no finite bound", "the GLM did not converge with or without the trend"),
    )
    text = np.full(out.shape, "", dtype=object)
    text[cells] = why
    out.mark(bad, NOT_ESTIMABLE, text)
    silent = good & (np.nansum(yb, axis=1) == 0)
    if silent.any():
        mask = np.zeros(out.shape, dtype=bool)
        mask[s_idx[silent], k_idx[silent]] = True
        out.add_note(mask, "no events in the baseline: any event exceeds the bound")
    short = n_known < offsets.size
    if short.any():
        partial = np.zeros(out.shape, dtype=bool)
        partial[s_idx[short], k_idx[short]] = True
        msg = np.full(out.shape, "", dtype=object)
        msg[s_idx[short], k_idx[short]] = [
            f"baseline has {n} of {offsets.size} periods (the rest unknown or before the series)"
            for n in n_known[short]
        ]
        out.add_note(partial & out.computed, msg)
