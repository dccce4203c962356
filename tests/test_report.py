"""The HTML report: structure, escaping of hostile names, determinism, figures.

Most tests render a :class:`Results` built here from a seeded synthetic cell table:
coverage, rates and trends come from the real functions; the comparison and
joinpoint tables are written out by hand (their values are inputs to the renderer,
not results under test; see report_data.py). Browser tests are in test_report_browser.py.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_data import HOSTILE_REGION, HOSTILE_SOURCE, make_results, synthetic_cells

import trends
from trends.reporting.analysis import Results
from trends.reporting.build import render, save_figures
from trends.reporting.html import Page, esc, script_json

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture(scope="module")
def results() -> Results:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        return make_results()


@pytest.fixture(scope="module")
def page_html(results: Results) -> str:
    return render(results).render()


class Outline(HTMLParser):
    """The skeleton of a page: sections, headings, table headers, charts, scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []
        self._in: str | None = None
        self._buf = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "section":
            self.lines.append(f"section#{a.get('id')}")
        elif tag in ("h1", "h2", "h3", "th"):
            self._in, self._buf = tag, ""
        elif tag == "div" and "data-spec" in a:
            self.lines.append(f"  chart {a['id']}")
        elif tag == "table":
            self.lines.append(f"  table.{a.get('class', '')}")

    def handle_endtag(self, tag):
        if tag == self._in:
            text = re.sub(r"\s+", " ", self._buf).strip()
            indent = {"h1": "", "h2": "  ", "h3": "  ", "th": "    "}[tag]
            self.lines.append(f"{indent}{tag}: {re.sub(r'[0-9,]+', 'N', text)}")
            self._in = None

    def handle_data(self, data):
        self.text.append(data)
        if self._in:
            self._buf += data


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_structure_matches_snapshot(page_html: str) -> None:
    """Sections, headings, tables and charts, in order (update: TRENDS_UPDATE_SNAPSHOTS=1)."""
    got = "\n".join(outline(page_html).lines) + "\n"
    path = SNAPSHOTS / "report_outline.txt"
    if not path.exists() and os.environ.get("CI"):
        pytest.fail(f"{path} is missing; make it with TRENDS_UPDATE_SNAPSHOTS=1 and commit it")
    if os.environ.get("TRENDS_UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_sections_in_order_and_charts_counted(page_html: str) -> None:
    parsed = outline(page_html)
    sections = [line.split("#")[1] for line in parsed.lines if line.startswith("section#")]
    assert sections == [
        "summary", "data", "rates", "comparison", "trend", "alarms", "coverage", "methods",
        "ledger",
    ]  # fmt: skip
    charts = [line for line in parsed.lines if line.strip().startswith("chart ")]
    assert len(charts) == 6
    assert f'data-charts="{len(charts)}"' in page_html
    # every chart's spec is valid JSON of a Vega-Lite v6 spec with its data inline
    specs = re.findall(
        r'<script type="application/json" id="spec-[a-z]+">(.*?)</script>', page_html
    )
    assert len(specs) == len(charts)
    for spec in specs:
        parsed_spec = json.loads(spec)
        assert "vega-lite/v6" in parsed_spec["$schema"]
        assert "url" not in json.dumps(parsed_spec.get("data", {}))


def test_hostile_names_are_text_not_markup(page_html: str) -> None:
    parsed = outline(page_html)
    # the only <script> elements: one per chart spec, the Vega bundle, report.js
    assert parsed.tags["script"] == 6 + 2
    assert "img" not in parsed.tags and "b" not in parsed.tags
    text = "".join(parsed.text)
    assert HOSTILE_REGION in text  # shown, as text
    assert "Tartus & <b>Co</b>" in text
    # raw markup appears nowhere in the page outside the escaped forms
    assert HOSTILE_REGION not in page_html
    assert "<b>Co</b>" not in page_html
    assert HOSTILE_SOURCE not in page_html
    # inside JSON specs no <, > or & survives
    for spec in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page_html):
        assert not set("<>&") & set(spec)
    specs = "".join(re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page_html))
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in specs
    assert "\\u003cscript\\u003ealert('src')\\u003c/script\\u003e" in specs


def test_escape_helpers() -> None:
    assert esc('<a href="x">&</a>') == "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;"
    assert esc(None) == ""
    text = script_json({"b": "</script><!--", "a": "\u2028&"})
    assert text == '{"a":"\\u2028\\u0026","b":"\\u003c/script\\u003e\\u003c!--"}'
    assert json.loads(text) == {"b": "</script><!--", "a": "\u2028&"}


def test_offline_page(page_html: str) -> None:
    """Nothing loads from elsewhere: no src/href to a host, a CSP that forbids it."""
    head = page_html.split("<script>", 1)[0]
    assert "default-src 'none'" in head
    assert not re.search(r"<(link|img|iframe)\b", head)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page_html.split("<script>")[0])


def test_same_bytes_twice(results: Results) -> None:
    first = render(results).render()
    second = render(make_results()).render()
    assert first == second


def test_timestamp_only_when_asked(results: Results, monkeypatch) -> None:
    from trends.reporting.build import _timestamp

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert _timestamp(None) is None
    assert "Made by trends" in render(results).render()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert _timestamp(None) == "2023-11-14 22:13 UTC"
    assert "on 2023-11-14 22:13 UTC" in render(results, timestamp=_timestamp(None)).render()
    assert _timestamp(False) is None
    assert _timestamp("2024-01-02") == "2024-01-02"


def test_summary_words(page_html: str) -> None:
    summary = page_html.split('<section id="summary">')[1].split("</section>")[0]
    text = re.sub(r"<[^>]+>", "", summary)
    assert "events rose significantly in 1 of 5 regions: Idlib (rate ratio 1.55, 95% CI" in text
    assert "fell significantly in 1 of 5 regions: Aleppo (rate ratio 0.62" in text
    assert "No significant change in 1 region; withheld for thin coverage in 1 region;" in text
    assert "The comparison is withheld for thin coverage in 1 region (&lt;img src=x" in text
    assert "Commonest reasons: fewer than 20 events (1 region)." in text
    assert "No comparison is possible in Tartus &amp; &lt;b&gt;Co&lt;/b&gt;:" in text
    assert "Coverage:" in text and "region-months" in text
    assert "SOHR" in text


def test_tables_sortable_and_coloured(page_html: str) -> None:
    comparison = page_html.split('<section id="comparison">')[1].split("</section>")[0]
    assert 'class="sortable"' in comparison
    assert 'class="row-v-increase"' in comparison
    assert '<span class="verdict v-inconclusive-thin-coverage">' in comparison
    # numbers sort by value, not text
    assert 'data-sort="1.55"' in comparison


def test_header_states_parameters(page_html: str) -> None:
    data = page_html.split('<section id="data">')[1].split("</section>")[0]
    for needle in ("period=month", "before=2018-01..2018-12", "after=2019-01..2019-12",
                   "rules=default", "level=0.95", "n_permutations=99",
                   trends.__version__):  # fmt: skip
        assert needle in data


def test_methods_state_rule_and_thresholds_in_words(page_html: str) -> None:
    methods = page_html.split('<section id="methods">')[1].split("</section>")[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", methods))
    assert "min_events=10.0" not in methods  # thresholds in words, not parameter names
    assert "fewer than 10 events behind what is tested" in text
    assert "fewer than 2 distinct outlets" in text
    assert "relative standard error is 30% or more is flagged unreliable" in text
    from trends import verdicts
    from trends.reporting.html import esc as escape

    assert str(escape(verdicts.RULE)) in methods  # the one decision rule, as written
    assert "Garwood" in methods and "Benjamini" in methods and "Kim" in methods
    assert "Hurlbert SH (1971)" in methods  # the rarefaction rule's reference


def test_figures_saved(results: Results, tmp_path: Path) -> None:
    page = render(results)
    written = save_figures(page, tmp_path, formats=("svg",))
    assert sorted(p.name for p in written) == [
        "alarms.svg", "comparison.svg", "coverage.svg", "rates.svg", "sources.svg", "trend.svg"
    ]  # fmt: skip
    svg = (tmp_path / "rates.svg").read_text()
    assert svg.startswith("<svg") and "&lt;img src=x onerror=alert(1)&gt;" in svg
    small = Page(title="one chart")
    small.chart("sources", page.charts[-1][1])
    (png,) = save_figures(small, tmp_path / "png", formats=("png",))
    assert png.name == "sources.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reason_kinds() -> None:
    from trends.reporting.words import reason_kind

    assert reason_kind("before: 5.1 effective events (dispersion 4.67), fewer than 10") == (
        "fewer than 10 effective events"
    )
    assert reason_kind("after: relative width of the exact interval 528%, above 160%") == (
        "relative width of the exact interval above 160%"
    )
    assert reason_kind("after: 1 distinct source (SOHR)") == "a single source"
    assert reason_kind("6 of 36 periods outside the data set's coverage") == (
        "periods outside the data set's coverage"
    )
    assert reason_kind("1 event, fewer than 10") == "fewer than 10 events"
    assert reason_kind("before: unreliable: 3 events, fewer than 20") == (
        "unreliable: fewer than 20 events"
    )
    assert (
        reason_kind(
            "second half against the first: source mix changed: 57% of the baseline's reports "
            "came from outlets silent now (Monitor), which chance does not explain"
        )
        == "source mix changed (second half against the first)"
    )
    assert (
        reason_kind(
            "within the segment, from 2021-07: source mix changed: 57% of the baseline's "
            "reports came from outlets silent now (Monitor), which chance does not explain"
        )
        == "source mix changed (within the segment)"
    )


def test_template_found_from_source_tree() -> None:
    from trends.reporting.html import template

    assert "data-rendered" in template("report.js")
    with pytest.raises(FileNotFoundError, match="nope.css"):
        template("nope.css")


def test_bad_figure_format(tmp_path: Path) -> None:
    with pytest.raises(trends.errors.TrendsError, match="'gif'"):
        trends.report(synthetic_cells(), path=tmp_path / "r.html", figure_formats=("gif",))


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> Path:
    """The whole pipeline on the synthetic demo data, as `trends demo` runs it."""
    from trends.datasets import simulate

    folder = tmp_path_factory.mktemp("demo")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        incidents = simulate(seed=5, months=24)
        path = trends.report(
            incidents,
            path=folder / "report.html",
            joinpoint_options={"n_permutations": 49, "max_joinpoints": 1},
            figures_dir=folder / "figures",
            figure_formats=("svg",),
        )
    return path


def test_report_end_to_end(demo_report: Path) -> None:
    html = demo_report.read_text(encoding="utf-8")
    assert demo_report.stat().st_size < 2_000_000
    parsed = outline(html)
    assert parsed.tags["script"] == 6 + 2
    text = "".join(parsed.text)
    assert "trends demo data (synthetic)" in text  # the data set, from the Incidents
    assert "rows read" in text and "kept" in text  # the ledger
    assert "n_permutations=49" in html
    # withheld verdicts are said in the summary's words, pointing at notes the page shows
    # (not at "coverage_reasons columns", which it does not)
    assert "coverage_reasons" not in html.split("<script")[0]
    assert "The comparison is withheld for thin coverage" in text or "withheld" in text
    shown = re.sub(r"<[^>]+>", " ", html.split("<script")[0])  # what a reader sees
    assert not re.search(r"\d\.?\d*e[+-]\d", shown)  # numbers as 1,140, never 1.14e+03
    assert sorted(p.name for p in (demo_report.parent / "figures").iterdir()) == [
        "alarms.svg", "comparison.svg", "coverage.svg", "rates.svg", "sources.svg", "trend.svg"
    ]  # fmt: skip


def test_report_same_bytes_twice(demo_report: Path, tmp_path: Path) -> None:
    from trends.datasets import simulate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        again = trends.report(
            simulate(seed=5, months=24),
            path=tmp_path / "again.html",
            joinpoint_options={"n_permutations": 49, "max_joinpoints": 1},
        )
    assert again.read_bytes() == demo_report.read_bytes()


def test_template_found_in_an_installed_layout(tmp_path: Path, monkeypatch) -> None:
    """A wheel puts reports/ at trends/_data/reports (pyproject force-include)."""
    from trends.reporting import html as html_module

    package = tmp_path / "site-packages" / "trends"
    (package / "_data" / "reports" / "templates").mkdir(parents=True)
    (package / "_data" / "reports" / "templates" / "report.js").write_text("/* installed */")
    monkeypatch.setattr(trends, "__file__", str(package / "__init__.py"))
    html_module.template.cache_clear()
    try:
        assert html_module.template("report.js") == "/* installed */"
    finally:
        html_module.template.cache_clear()


def test_incident_frame_is_read_not_taken_for_cells(tmp_path: Path) -> None:
    """A DataFrame without ``count`` is incidents: read_incidents names what is missing."""
    with pytest.raises(trends.errors.SchemaError, match="event_id"):
        trends.report(pd.DataFrame({"region": ["a"], "when": ["2020-01-01"]}), path=tmp_path / "r")


def test_series_too_short_for_joinpoints(tmp_path: Path) -> None:
    """Four yearly periods allow no joinpoint: the report says so and stands, whether
    the number of joinpoints is the default or the caller's."""
    rng = np.random.default_rng(2)
    cells = pd.DataFrame(
        [
            {"region": r, "period": str(y), "count": float(rng.poisson(300))}
            for r in ("North", "South")
            for y in range(2016, 2020)
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        html = trends.report(cells, path=tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Joinpoints were not fitted: max_joinpoints=3 needs at least" in html
    assert "Joinpoint segments" not in html
    html = trends.report(
        cells, path=tmp_path / "r.html", joinpoint_options={"max_joinpoints": 2}
    ).read_text(encoding="utf-8")
    assert "Joinpoints were not fitted: max_joinpoints=2 needs at least" in html
    with pytest.raises(trends.errors.OptionError, match="method='nope'"):  # a bad option raises
        trends.report(cells, path=tmp_path / "r.html", trend_method="nope")


def test_report_gates_joinpoints_by_the_chosen_rules() -> None:
    """The coverage rules the caller chose reach every section, joinpoints included:
    the report's joinpoint rows equal trends.joinpoints(..., rules=...) on the same
    cells, and rules asking for more outlets than the demo has withhold every segment."""
    from trends.reporting.analysis import analyse

    incidents = trends.datasets.simulate()
    options = {"n_permutations": 99, "interval": "parametric"}
    withheld = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        for name, rules in (("more outlets", {"min_sources": 6}), ("lenient", "lenient")):
            res = analyse(incidents, rules=rules, joinpoint_options=options)
            direct = trends.joinpoints(res.cells, rules=rules, **options)
            pd.testing.assert_series_equal(res.joinpoints["coverage"], direct["coverage"])
            withheld[name] = int(
                (res.joinpoints["verdict"] == "inconclusive (thin coverage)").sum()
            )
    assert withheld["more outlets"] > withheld["lenient"]


def test_the_report_holds_its_tables_to_one_family():
    """Demo seed 54: Bayt Nahr, a stable region, is called a decrease by compare
    (q = 0.049) and falling by trend (q = 0.036), each in its own table; across the
    report's 49 tests its q-values are 0.075 and 0.066, so the report says neither,
    and the notes and the methods section say why (verdicts.one_family)."""
    from trends.reporting.analysis import analyse

    incidents, truth = trends.datasets.simulate(seed=54, return_truth=True)
    before, after = trends.datasets.demo_windows(truth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        res = analyse(
            incidents,
            before=before,
            after=after,
            joinpoint_options={"n_permutations": 999, "n_bootstrap": 100, "seed": 54},
        )
        own = trends.compare(res.cells, before=before, after=after)
    assert own.loc[own["region"] == "Bayt Nahr", "verdict"].item() == "decrease"
    for table, neutral in ((res.comparison, "no significant change"), (res.trend, "stable")):
        row = table[table["region"] == "Bayt Nahr"].iloc[0]
        assert row["qvalue"] < 0.05 <= row["qvalue_report"]
        assert row["verdict"] == neutral
        assert f"not called in the report: q = {row['qvalue_report']:.2g} across its 49 tests" in (
            row["notes"]
        )
    page = render(res).render()
    assert "holds their 49 tests to one family" in page and "this withdrew 2 words" in page
