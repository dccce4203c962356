"""The public API: every exported name resolves, and import stays light."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings

import trends
from trends.testing import assert_cells_equal, cells_strategy, simulate_cells


def test_every_public_name_resolves():
    for name in trends.__all__:
        assert getattr(trends, name) is not None, name


def test_import_does_not_load_statsmodels_or_altair():
    code = "import sys, trends; print('statsmodels' in sys.modules, 'altair' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_simulated_cells_carry_their_truth():
    cells, truth = simulate_cells(2000, 24, mean=20.0, apc=10.0, seed=3)
    assert len(truth) == 2000 and (truth["apc"] == 10.0).all()
    by_period = cells.groupby("period")["count"].mean() / cells.groupby("period")["exposure"].mean()
    growth = by_period.iloc[12:].mean() / by_period.iloc[:12].mean()
    assert abs(growth - 1.10) < 0.01  # a year later, 10% more per day
    ratio = cells.groupby("region")["count"].var().mean() / cells["count"].mean()
    assert ratio < 1.6  # Poisson (the trend adds a little between-month variance)
    _, over = simulate_cells(1, 12, variance_ratio=3.0)
    assert over["variance_ratio"].item() == 3.0


@settings(max_examples=20, deadline=None)
@given(cells=cells_strategy())
def test_rates_of_any_valid_cell_table(cells):
    out = trends.rates(cells)
    assert (out["rate_low"] <= out["rate"]).all() and (out["rate"] <= out["rate_high"]).all()
    shuffled = cells.sample(frac=1.0, random_state=0)
    assert_cells_equal(trends.rates(shuffled), out)
