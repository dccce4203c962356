"""The report in a real browser: headless Chromium, no network at all.

Every chart draws (``data-rendered`` on <body> equals the number of charts), no
JavaScript error, no request leaves the page, and hostile names stay text. Skips
when Chromium is absent, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

import trends
from trends.reporting.build import render

pytestmark = pytest.mark.browser


class Body(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str | None] = {}
        self.tags: dict[str, int] = {}
        self.handlers: list[str] = []  # event-handler attributes (onload=, onerror=, ...)

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.lower().startswith("on")]
        if tag == "body":
            self.body = dict(attrs)


@pytest.fixture(scope="module")
def drawn(tmp_path_factory, dump_dom) -> tuple[str, Body]:
    from test_report import make_results

    folder = tmp_path_factory.mktemp("browser")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        html = render(make_results()).render()
    page = folder / "report.html"
    page.write_text(html, encoding="utf-8")
    dom = dump_dom(page, folder / "profile")
    parsed = Body()
    parsed.feed(dom)
    return dom, parsed


def test_every_chart_draws_without_error(drawn) -> None:
    dom, parsed = drawn
    body = parsed.body
    assert body.get("data-error") is None, body.get("data-error")
    assert body.get("data-rendered") is not None, "the page never finished drawing"
    assert int(body["data-rendered"]) == int(body["data-charts"]) == 5
    assert parsed.tags.get("svg", 0) >= 5  # drawn as SVG
    assert body.get("data-requests") == "0"  # nothing fetched, not even from file://


def test_hostile_names_render_as_text(drawn) -> None:
    dom, parsed = drawn
    assert "img" not in parsed.tags  # the region named <img ...> made no element
    assert parsed.handlers == []
    assert parsed.tags["script"] == 5 + 2  # no script element was injected
    # the names are in the drawn charts' SVG text and in the tables, escaped
    assert len(re.findall(r"&lt;img src=x onerror=alert\(1\)&gt;", dom)) >= 4
    assert "&lt;script&gt;alert('src')&lt;/script&gt;" in dom


def hostile_csv(path: Path) -> Path:
    """An incident file whose region, source and data set names are markup."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    regions = ["<img src=x onerror=alert(1)>", "Plain", '"><svg onload=alert(2)>']
    rows = []
    for r, region in enumerate(regions):
        days = pd.date_range("2020-01-01", "2021-12-31", freq="D")
        picked = np.sort(rng.choice(len(days), size=150 + 100 * r, replace=True))
        for i, day in enumerate(days[picked]):
            rows.append(
                {
                    "event_id": f"{r}-{i}",
                    "date_start": day.date().isoformat(),
                    "country": "Testland",
                    "region": region,
                    "n_sources": 2,
                    "sources": "<script>alert('src')</script>;Daily & Co",
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_hostile_file_through_the_whole_pipeline(tmp_path: Path, dump_dom) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        incidents = trends.read_incidents(
            hostile_csv(tmp_path / "hostile.csv"), name="</title><script>alert(3)</script>"
        )
        page = trends.report(
            incidents,
            path=tmp_path / "report.html",
            joinpoint_options={"n_permutations": 19, "max_joinpoints": 1},
        )
    dom = dump_dom(page, tmp_path / "profile")
    parsed = Body()
    parsed.feed(dom)
    assert parsed.body.get("data-error") is None, parsed.body.get("data-error")
    assert int(parsed.body["data-rendered"]) == int(parsed.body["data-charts"])
    assert parsed.body.get("data-requests") == "0"
    assert "img" not in parsed.tags
    assert parsed.tags["script"] == int(parsed.body["data-charts"]) + 2
    assert parsed.handlers == []  # no element with an event handler: nothing injected
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom
    assert '"&gt;&lt;svg onload=alert(2)&gt;' in dom
    assert "&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in dom
    assert "&lt;script&gt;alert('src')&lt;/script&gt;" in dom
