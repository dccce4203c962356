"""The one decision rule: vocabulary, gate, adjustment and the order of the rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from trends import verdicts
from trends.errors import OptionError, ThinCoverageWarning


def test_gate():
    assert verdicts.gate("decrease", "adequate") == "decrease"
    assert verdicts.gate("decrease", "thin") == "inconclusive (thin coverage)"
    assert verdicts.gate("increase", "insufficient") == "inconclusive (thin coverage)"
    assert verdicts.gate("rising", "uncovered") == "not covered"
    with pytest.raises(OptionError, match="'poor'.*'adequate'"):
        verdicts.gate("decrease", "poor")


def test_warn_withheld():
    words = ["increase", "inconclusive (thin coverage)", "not covered", "decrease"]
    with pytest.warns(ThinCoverageWarning, match="2 of 4 compare verdicts withheld"):
        verdicts.warn_withheld(words, "compare")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        verdicts.warn_withheld(["increase", "stable"], "compare")


def test_decide_follows_the_rule_in_order():
    out = verdicts.decide(
        "change",
        direction=[1.0, -2.0, 1.0, 1.0, 1.0, -1.0, 0.5, np.nan],
        qvalue=[0.01, 0.01, 0.2, 0.01, 0.01, 0.01, np.nan, 0.01],
        alpha=0.05,
        status=[
            "adequate",
            "adequate",
            "adequate",
            "thin",
            "uncovered",
            "adequate",
            "adequate",
            "adequate",
        ],
        estimable=[True, True, True, True, True, False, True, True],
    )
    assert out.tolist() == [
        "increase",
        "decrease",
        "no significant change",
        "inconclusive (thin coverage)",
        "not covered",
        "not estimable",
        "no significant change",
        "no significant change",
    ]


def test_decide_too_short_and_kinds():
    out = verdicts.decide(
        "trend",
        direction=[1, -1, 1],
        qvalue=[0.001] * 3,
        alpha=0.05,
        status=["adequate"] * 3,
        too_short=[False, False, True],
    )
    assert out.tolist() == ["rising", "falling", "too short to call"]
    alarm = verdicts.decide(
        "alarm", direction=[1, -1], qvalue=[0.01, 0.5], alpha=0.05, status=["adequate", "adequate"]
    )
    assert alarm.tolist() == ["unusually high", "not unusual"]
    with pytest.raises(OptionError, match="kind='slope' is not one of 'change', 'trend'"):
        verdicts.words("slope")
    with pytest.raises(OptionError, match="alpha=1.5 must lie strictly between 0 and 1"):
        verdicts.decide("trend", direction=[1], qvalue=[0.1], alpha=1.5, status=["adequate"])


def test_adjust_is_benjamini_hochberg():
    # R: p.adjust(c(0.01, 0.04, 0.03, NA, 0.5), "BH") -> 0.04 0.0533 0.0533 NA 0.5
    q = verdicts.adjust([0.01, 0.04, 0.03, np.nan, 0.5])
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, np.nan, 0.5], rtol=1e-12)
