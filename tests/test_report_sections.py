"""The report's sections: found by name, worded from the registries and the rules,
and never taken down by one region, one chart or one section."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import trends
from trends import verdicts
from trends.coverage_model import CoverageRules
from trends.methods import Registry
from trends.reporting import methods, sections
from trends.reporting.analysis import analyse, by_region
from trends.reporting.build import render
from trends.reporting.html import esc as escape


@pytest.fixture(scope="module")
def results():
    from report_data import make_results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        return make_results()


def text_of(html: str, section: str) -> str:
    body = html.split(f'<section id="{section}">')[1].split("</section>")[0]
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_sections_are_the_registry_in_order(results) -> None:
    page = render(results)
    assert [s[0] for s in page.sections] == list(sections.SECTIONS.names())
    assert [s[1] for s in page.sections] == [e.description for e in sections.SECTIONS]


def test_adding_a_section_is_one_function_and_one_line(results, monkeypatch) -> None:
    extra = Registry("report section", option="section")
    for entry in sections.SECTIONS:
        extra.add(entry.name, entry.func, description=entry.description)

    @extra.register("regions", description="Regions, counted")
    def regions(page, res):
        return f"{len(res.regions)} regions <not markup>"

    monkeypatch.setattr(sections, "SECTIONS", extra)
    monkeypatch.setattr("trends.reporting.build.SECTIONS", extra)
    html = render(results).render()
    assert '<section id="regions"><h2>Regions, counted</h2>' in html
    assert "5 regions &lt;not markup&gt;" in html  # a plain-text body stays text


def test_a_failing_section_or_chart_says_why_and_the_rest_stands(results, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(sections.plot, "trends", broken)
    monkeypatch.setattr(sections.tables, "coverage_by_region", broken)
    page = render(results)
    html = page.render()
    assert "The trend chart could not be drawn (LinAlgError: SVD did not converge)" in html
    assert "This section could not be written (LinAlgError: SVD did not converge)" in html
    names = [name for name, _ in page.charts]
    assert "trend" not in names and "coverage" not in names  # the failed section's charts go
    assert f'data-charts="{len(page.charts)}"' in html
    assert html.count('<div class="figure">') == len(page.charts)
    assert [s[0] for s in page.sections] == list(sections.SECTIONS.names())


def test_by_region_keeps_going_and_says_why() -> None:
    """A region the statistic cannot handle gets a row with the reason; the others are
    computed together (one family for the q-values)."""
    from report_data import synthetic_cells

    cells = synthetic_cells()
    calls = []

    def run(part: pd.DataFrame) -> pd.DataFrame:
        calls.append(sorted(part["region"].astype(str).unique()))
        if "Idlib" in set(part["region"].astype(str)):
            raise ZeroDivisionError("float division by zero")
        return pd.DataFrame({"region": calls[-1], "verdict": "stable", "notes": ""})

    out = by_region(run, cells, "joinpoints")
    assert calls[-1] == sorted(set(cells["region"].astype(str)) - {"Idlib"})  # one call
    idlib = out[out["region"] == "Idlib"].iloc[0]
    assert idlib["verdict"] == verdicts.NOT_ESTIMABLE
    assert idlib["notes"] == (
        "joinpoints could not be computed: ZeroDivisionError: float division by zero"
    )
    assert len(out) == cells["region"].nunique()

    def bad_input(part: pd.DataFrame) -> pd.DataFrame:
        raise trends.errors.TrendsError("too short")

    with pytest.raises(trends.errors.TrendsError, match="too short"):
        by_region(bad_input, cells, "trend")  # the whole call's reason: the caller says it


def test_one_period_file_is_reported(tmp_path: Path) -> None:
    """A file with one month (as the Candidate 22.0.2 release) gives a report that
    says why there is no comparison, trend or joinpoints."""
    cells = pd.DataFrame(
        {"region": ["North", "South", "constructor"], "period": "2022-02", "count": [12.0, 3, 40]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        html = trends.report(cells, path=tmp_path / "r.html").read_text(encoding="utf-8")
    summary = text_of(html, "summary")
    assert "No comparison: no default windows: only one complete month (2022-02) inside" in summary
    assert "This section could not be written" not in html
    trend = text_of(html, "trend")  # joinpoints give every region a row saying why
    assert trend.count("1 covered period: a trend needs at least 3") >= 1
    assert "too short to call" in trend


def test_dict_rules_are_resolved_and_printed_in_words(tmp_path: Path) -> None:
    """A dict of rules is resolved (not stored as its repr): the thresholds reach every
    step, the parameters name the change, the methods print each threshold in words."""
    from report_data import synthetic_cells

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        res = analyse(synthetic_cells(), rules={"min_events": 5000, "reliable_events": None},
                      joinpoint_options={"n_permutations": 19, "n_bootstrap": 20})  # fmt: skip
    rules = res.options["rules"]
    assert isinstance(rules, CoverageRules) and rules.min_events == 5000
    assert res.options["rules_label"] == "custom (min_events=5000, reliable_events=None)"
    html = render(res).render()
    assert "rules=custom (min_events=5000, reliable_events=None)" in text_of(html, "data")
    words = text_of(html, "methods")
    assert "fewer than 5,000 events behind what is tested" in words
    assert "no reliability flag for few events" in words
    assert "{'min_events'" not in html
    # the threshold reached the steps: every comparison window has fewer than 5,000 events
    assert set(res.comparison["coverage"]) <= {"insufficient", "uncovered"}


def test_every_threshold_has_words() -> None:
    """A new field of CoverageRules cannot be left out of the methods section."""
    fields = [f.name for f in dataclasses.fields(CoverageRules)]
    assert sorted(methods.RULE_WORDS) == sorted(fields)
    for rules in trends.coverage_model.PRESETS.values():
        worded = methods.rules_in_words(rules)
        assert [name for name, _, _ in worded] == fields
        assert all(text and "=" not in text for _, text, _ in worded)


def test_every_method_reference_has_a_full_citation() -> None:
    from trends.alarm import METHODS
    from trends.stats.poisson import INTERVALS
    from trends.stats.two_rates import TESTS
    from trends.trend_tests import METHODS_REGISTRY

    for registry in (INTERVALS, TESTS, METHODS_REGISTRY, METHODS.values()):
        for entry in registry:
            keys = methods.cite_keys(getattr(entry, "reference", None) or entry.citation)
            assert keys, entry
            missing = [k for k in keys if k not in methods.BIBLIOGRAPHY]
            assert missing == [], (entry.name, missing)
    for key in methods.RULE_REFERENCES.values():
        assert all(k in methods.BIBLIOGRAPHY for k in methods.cite_keys(key))


def test_methods_text_comes_from_the_registries(results) -> None:
    from trends.stats.two_rates import TESTS
    from trends.trend_tests import METHODS_REGISTRY

    words = text_of(render(results).render(), "methods")
    assert TESTS.get("score").description in words
    assert METHODS_REGISTRY.get("quasipoisson").description in words
    assert "Gu K, Ng HKT, Tang ML, Schucany WR (2008)" in words
    from trends.alarm import METHODS

    method = results.options["alarms"]["method"]
    assert METHODS[method].description in words
    for key in methods.cite_keys(METHODS[method].citation):
        assert methods.BIBLIOGRAPHY[key] in words


def test_unsupported_apc_is_not_estimable_in_words(results) -> None:
    """An APC of 1e125 (a series rising from zero) is printed as "not estimable" with
    its reason, never as a number; its verdict gets a †-free chip and a note."""
    tr = results.trend.copy()
    i = tr.index[0]
    tr.loc[i, ["apc", "apc_low", "apc_high"]] = [1e125, 3e50, np.inf]
    res = dataclasses.replace(results, trend=tr)
    page = render(res)
    html = page.render()
    words = text_of(html, "trend")
    assert "e+125" not in words and "e+50" not in words and "∞" not in words
    trend = html.split('<section id="trend">')[1].split("</section>")[0]
    region = str(tr.loc[i, "region"])
    row = [r for r in trend.split("<tr") if f">{escape(region)}</td>" in r][0]
    assert ">not estimable</td>" in row
    assert "the annual percent change has an infinite bound" in words
    # not drawn in the forest plot, and said so beside it
    chart = dict(page.charts)["trend"].to_dict()
    drawn = [r["region"] for v in chart["datasets"].values() for r in v if "region" in r]
    assert region not in drawn
    assert f"Not drawn: {escape(region)} (not estimable: the annual percent change has" in words


def test_reliability_flag_beside_the_verdict(results) -> None:
    cmp = results.comparison.copy()
    cmp["reliable"] = [True, False, True, False, True]
    html = render(dataclasses.replace(results, comparison=cmp)).render()
    comparison = html.split('<section id="comparison">')[1].split("</section>")[0]
    assert comparison.count('<span class="flag"') == 2
    assert "† Unreliable: the estimate rests on fewer than 20 events or has a relative " in (
        comparison
    )


def test_forest_plot_words_for_what_it_cannot_draw(results) -> None:
    cmp = results.comparison.copy()
    cmp.loc[0, ["count_before", "count_after", "rate_ratio", "rr_low", "rr_high"]] = [
        5.0, 0.0, 0.0, 0.0, 0.6,
    ]  # fmt: skip
    cmp.loc[1, ["count_before", "count_after", "rate_ratio", "rr_low", "rr_high"]] = [
        0.0, 4.0, np.inf, 1.5, np.inf,
    ]  # fmt: skip
    html = render(dataclasses.replace(results, comparison=cmp)).render()
    words = text_of(html, "comparison")
    assert "Not drawn: " in words
    assert "Aleppo (no events after: the ratio is 0)" in words
    assert "Idlib (no events before: the ratio is infinite)" in words
    assert "Tartus &amp; &lt;b&gt;Co&lt;/b&gt; (not covered)" in words


def test_print_stylesheet(results) -> None:
    css = render(results).render().split("<style>")[1].split("</style>")[0]
    printed = css.split("@media print")[1]
    assert ".table-wrap, .notes { max-height: none; overflow: visible; }" in printed
    assert "nav.toc" in printed and "@page" in printed


def test_segments_that_cannot_be_drawn_are_named(results, monkeypatch) -> None:
    """Joinpoint segments whose line cannot be fitted are left out and said so."""
    monkeypatch.setattr(
        "trends.plot.smallmultiples.segment_fit",
        lambda series, *a, **k: np.full(len(series), np.nan),
    )
    words = text_of(render(results).render(), "rates")
    assert "The segments of Aleppo could not be drawn" in words


# ----------------------------------------------------------------------------- alarms


def _yearly_cells() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    years = [str(y) for y in range(2005, 2020)]
    return pd.DataFrame(
        [
            {"region": r, "period": y, "count": float(rng.poisson(m))}
            for r, m in (("North", 40.0), ("<b>South</b>", 12.0))
            for y in years
        ]
    )


def test_alarms_default_to_bayes_for_years_and_say_why(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        res = analyse(_yearly_cells(), joinpoint_options={"max_joinpoints": 0})
    assert res.options["alarms"]["method"] == "bayes"
    assert res.options["alarms"]["chosen"] == "default"
    html = render(res).render()
    words = text_of(html, "alarms")
    assert "the Bayes method, since years have no season" in words
    assert "Latest year: 2019" in words
    assert "the 2 regions monitored give about 0.1 false alarms a year" in words
    assert "<b>South</b>" not in html and "&lt;b&gt;South&lt;/b&gt;" in html
    summary = text_of(html, "summary")
    assert "Unusual periods, 2019 (bayes)" in summary
    assert "Unusual periods 2019 " in summary and "&lt;" not in summary  # its tiles


def test_an_alarm_method_given_is_used_and_its_bound_named(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        res = analyse(_yearly_cells(), alarm_method="glr", joinpoint_options={"max_joinpoints": 0})
    assert res.options["alarms"]["method"] == "glr-nb"  # the alias, as its method
    html = render(res).render()
    words = text_of(html, "alarms")
    assert "the method asked for, glr-nb" in words
    assert "Threshold (statistic)" in words  # GLR's upperbound is its statistic, not a count
    assert "has no per-period false-alarm level" in words
    assert str(escape(methods.BIBLIOGRAPHY["Höhle & Paul 2008"])) in html


def test_a_bad_alarm_method_is_the_callers_error() -> None:
    with pytest.raises(trends.errors.OptionError, match="alarm_method"):
        analyse(_yearly_cells(), alarm_method="nope")


def test_alarms_failing_on_a_region_are_a_stated_reason(monkeypatch, tmp_path: Path) -> None:
    real = trends.alarms

    def fails_on_north(cells, **kw):
        if (cells["region"].astype(str) == "North").any():
            raise np.linalg.LinAlgError("SVD did not converge")
        return real(cells, **kw)

    monkeypatch.setattr(trends, "alarms", fails_on_north)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        res = analyse(_yearly_cells(), joinpoint_options={"max_joinpoints": 0})
    north = res.alarms[res.alarms["region"].astype(str) == "North"]
    assert len(north) == 1 and north["verdict"].iloc[0] == verdicts.NOT_ESTIMABLE
    html = render(res).render()
    assert "This section could not be written" not in html
    words = text_of(html, "alarms")
    assert "LinAlgError: SVD did not converge" in words  # the reason, as a numbered note


def test_a_retrospective_scan_says_its_fdr(results) -> None:
    """With fdr the section and the methods say the share of false alarms, with the
    names as written (Benjamini–Hochberg, not lower-cased)."""
    cells = results.cells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.ThinCoverageWarning)
        table = trends.alarms(cells, method="bayes", fdr=0.1)
    options = {**results.options, "alarms": {**table.attrs, "chosen": "given"}}
    html = render(dataclasses.replace(results, alarms=table, options=options)).render()
    words = text_of(html, "alarms")
    assert "With fdr=0.1, at most about 10% of the alarms raised are expected to be false" in words
    assert "(Benjamini–Hochberg over every region and month reported)" in words
    assert "q-value is at most 0.1" in text_of(html, "methods")
