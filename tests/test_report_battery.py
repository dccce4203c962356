"""The report completes on every real file (issue 11): every shared UCDP file, by
week, month, quarter and year, by region and by country.

Each combination must give a report that parses, with every section written, every
chart built (its spec is valid JSON) and no raw (non-``trends``) warning escaping.
A region the joinpoint search, a fit or a chart cannot handle gets a reason in its
row; a step that cannot run (one period only) is said in the page.

To keep the battery to minutes, the joinpoint search is reduced: 19 permutations,
20 bootstrap draws and at most 1 joinpoint (the default of 3 joinpoints takes more
than 13 minutes on Iraq by week alone). It tests that the report completes, not the
p-values. Run the timings with ``pytest --durations=0``.
"""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

import trends
from trends.reporting.sections import SECTIONS

pytestmark = [pytest.mark.shared, pytest.mark.slow]

FILES = (
    "ged191_iraq.csv",
    "ged_candidate_21_01_21_12.csv",
    "ged_candidate_22_0_2.csv",
    "ged_syria_652_1601_1911.csv",
)
#: The reduced joinpoint search (see the module docstring).
FAST = {"n_permutations": 19, "n_bootstrap": 20, "max_joinpoints": 1}
COMBINATIONS = [
    (name, region, period)
    for name in FILES
    for region in ("region", "country")
    for period in ("week", "month", "quarter", "year")
]


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.specs: list[str] = []
        self.body: dict[str, str | None] = {}
        self._spec = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "body":
            self.body = a
        self._spec = tag == "script" and a.get("type") == "application/json"
        if self._spec:
            self.specs.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._spec = False

    def handle_data(self, data):
        if self._spec:
            self.specs[-1] += data


@pytest.fixture(scope="module")
def incidents(ucdp_dir: Path):
    """Each file read once."""
    read: dict[str, trends.Incidents] = {}

    def get(name: str):
        if name not in read:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", trends.errors.TrendsWarning)
                read[name] = trends.read(ucdp_dir / name)
        return read[name]

    return get


@pytest.mark.parametrize("name, region, period", COMBINATIONS)
def test_report_completes(incidents, tmp_path: Path, name: str, region: str, period: str):
    data = incidents(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = trends.report(
            data, region=region, period=period, path=tmp_path / "r.html", joinpoint_options=FAST
        )
    raw = [f"{w.category.__name__}: {w.message}" for w in caught
           if not issubclass(w.category, trends.errors.TrendsWarning)]  # fmt: skip
    assert raw == []
    html = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    assert page.sections == list(SECTIONS.names())
    assert int(page.body["data-charts"]) == len(page.specs)
    for spec in page.specs:
        assert "vega-lite" in json.loads(spec)["$schema"]
    shown = re.sub(r"<[^>]+>", " ", html.split("<script")[0])
    assert "could not be written" not in shown
    assert "could not be drawn" not in shown
    assert not re.search(r"\d\.?\d*e[+-]\d", shown)  # no number in scientific notation
