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


def test_one_family_only_withdraws_words():
    """Two tables of 10 tests each (one p-value missing); the pooled q-values are R's
    ``p.adjust(c(p1, p2), "BH")``. A called row whose pooled q reaches alpha (the
    second table's "falling", q = 0.095 across the 19 tests) loses its word and says
    why; the others called keep theirs; rows the calls did not call, and withheld
    rows, are left as they are; the inputs are not changed."""
    import pandas as pd

    p1 = np.array([0.001, 0.004, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    p2 = np.array([0.003, 0.02, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, np.nan])
    t1 = pd.DataFrame({
        "pvalue": p1,
        "verdict": ["increase", "decrease"] + ["no significant change"] * 8,
        "notes": [""] * 10,
    })  # fmt: skip
    t2 = pd.DataFrame({
        "pvalue": p2,
        "verdict": ["rising", "falling", "stable"] + ["stable"] * 6 + ["not estimable"],
        "notes": ["", "a note"] + [""] * 8,
    })  # fmt: skip
    a, none, b = verdicts.one_family(
        [(t1, "change", 0.05), (None, "trend", 0.05), (t2, "trend", 0.05)]
    )
    assert none is None
    pooled = verdicts.adjust(np.concatenate([p1, p2]))
    np.testing.assert_allclose(a["qvalue_report"], pooled[:10])
    np.testing.assert_allclose(b["qvalue_report"], pooled[10:])
    # R: p.adjust(c(.001,.004,.2,.3,.4,.5,.6,.7,.8,.9,.003,.02,.2,.3,.4,.5,.6,.7,.8), "BH")
    np.testing.assert_allclose(pooled[[0, 1, 10, 11]], [0.019, 0.076 / 3, 0.076 / 3, 0.095])
    assert list(a["verdict"][:3]) == ["increase", "decrease", "no significant change"]
    assert list(b["verdict"][:3]) == ["rising", "stable", "stable"]
    assert b["notes"][1] == "a note; not called in the report: q = 0.095 across its 19 tests"
    assert b["verdict"][9] == "not estimable" and np.isnan(b["qvalue_report"][9])
    assert (a["notes"] == "").all() and list(t2["verdict"][:2]) == ["rising", "falling"]
