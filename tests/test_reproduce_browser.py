"""Reproduction pages in a real browser: headless Chromium at 1,280 px, no network.

A script added to the page waits until every chart is drawn, then measures the DOM:
each table against its section (no row hidden, nothing wider than the card), each
chart's width, and where the chart put its marks (Vega labels each mark for screen
readers: ``aria-label``). The ranking page had a table that clipped its fifth row,
an empty difference chart and a rank axis with 1 at the bottom.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

import trends

pytestmark = [pytest.mark.browser, pytest.mark.shared]

MEASURE = """
(function () {
  function each(list, f) { Array.prototype.forEach.call(list, f); }
  function measure() {
    var body = document.body;
    if (body.getAttribute("data-rendered") === null) { setTimeout(measure, 100); return; }
    var out = {sections: {}, marks: []};
    each(document.querySelectorAll("section"), function (sec) {
      var css = getComputedStyle(sec);
      var m = {width: sec.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight),
               tables: [], charts: []};
      each(sec.querySelectorAll(".table-wrap"), function (w) {
        var t = w.querySelector("table");
        m.tables.push({clientWidth: w.clientWidth, scrollWidth: w.scrollWidth,
                       clientHeight: w.clientHeight, scrollHeight: w.scrollHeight,
                       width: t.getBoundingClientRect().width, rows: t.tBodies[0].rows.length,
                       tallest: Math.max.apply(null, Array.prototype.map.call(
                         t.tBodies[0].rows, function (r) { return r.getBoundingClientRect().height; }))});
      });
      each(sec.querySelectorAll("[data-spec] svg.marks"), function (svg) {
        m.charts.push({width: svg.getBoundingClientRect().width});
      });
      out.sections[sec.id] = m;
    });
    each(document.querySelectorAll("[data-spec] [aria-roledescription]"), function (el) {
      var r = el.getBoundingClientRect();
      out.marks.push({role: el.getAttribute("aria-roledescription"),
                      label: el.getAttribute("aria-label") || "", y: r.top + r.height / 2});
    });
    body.setAttribute("data-measures", JSON.stringify(out));
  }
  measure();
})();
"""


def measured(result, folder: Path, dump_dom) -> tuple[dict, str]:
    """The page of ``result`` drawn in Chromium, and what the script measured in it."""
    page = result.to_html(folder / "page.html").read_text(encoding="utf-8")
    head, tail = page.rsplit("</body>", 1)  # the last one: the Vega bundle holds the word too
    probe = folder / "probe.html"
    probe.write_text(f"{head}<script>{MEASURE}</script></body>{tail}", encoding="utf-8")
    dom = dump_dom(probe, folder / "profile")
    body = re.search(r"<body([^>]*)>", dom).group(1)
    attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', body)}
    assert "data-error" not in attrs, attrs["data-error"]
    assert attrs["data-rendered"] == attrs["data-charts"] == "1"
    return json.loads(attrs["data-measures"]), dom


def fits(section: dict) -> None:
    """Every table shows all its rows, and no table or chart is wider than its section."""
    for table in section["tables"]:
        assert table["scrollHeight"] <= table["clientHeight"], table  # no row hidden
        assert table["scrollWidth"] <= table["clientWidth"], table  # no sideways scrolling
        assert table["width"] <= section["width"] + 0.5, table
        assert table["tallest"] < 60, table  # no column squeezed to a word a line
    for chart in section["charts"]:
        assert chart["width"] <= section["width"], chart


@pytest.fixture(scope="module")
def ged191(ucdp_dir: Path) -> trends.Incidents:
    return trends.read(ucdp_dir / "ged191_iraq.csv")


def _y(marks: list[dict], *words: str) -> float:
    found = [m["y"] for m in marks if m["role"] == "point" and all(w in m["label"] for w in words)]
    assert len(found) == 1, (words, [m["label"] for m in marks if m["role"] == "point"])
    return found[0]


def test_the_ranking_page(ged191, tmp_path: Path, dump_dom) -> None:
    result = trends.reproduce("claim-oig-2020-ambush-ranking", data=ged191)
    m, dom = measured(result, tmp_path, dump_dom)
    table = m["sections"]["table"]
    assert [t["rows"] for t in table["tables"]] == [5]  # the five provinces, none clipped
    for section in m["sections"].values():
        fits(section)
    assert m["sections"]["chart"]["charts"], "no chart drawn"
    marks = m["marks"]
    # Rank 1 is at the top (smaller y on the page), rank 5 at the bottom.
    first = _y(marks, "series: published", "label: Diyālá;")
    fifth = _y(marks, "series: published", "label: Nīnawá;")
    assert first < _y(marks, "series: published", "label: Kirkūk;") < fifth
    # The 2018 ranks are drawn beside the claim, as context: Kirkūk first, Al Anbār sixth.
    assert _y(marks, "series: context", "label: Kirkūk;") == pytest.approx(first)
    assert _y(marks, "series: context", "label: Al Anbār;") > fifth
    # Nothing could be tested: no empty difference chart, and the page says why.
    assert not [mk for mk in marks if "abs_diff" in mk["label"]]
    assert not [mk for mk in marks if "reproduced − published" in mk["label"]]  # no empty axes
    assert "No difference is drawn: no published number could be tested" in dom


def test_a_page_with_differences_and_ranges(ucdp_dir: Path, tmp_path: Path, dump_dom) -> None:
    candidate = trends.read(ucdp_dir / "ged_candidate_21_01_21_12.csv")
    result = trends.reproduce("owid-2021-iraq-syria-candidate", data=candidate)
    m, _ = measured(result, tmp_path, dump_dom)
    assert [t["rows"] for t in m["sections"]["table"]["tables"]] == [6]
    for section in m["sections"].values():
        fits(section)
    dots = [mk for mk in m["marks"] if mk["role"] == "circle" and "abs_diff" in mk["label"]]
    assert len(dots) == 6  # one difference per tested number, exact ones included
    ranges = [mk for mk in m["marks"] if mk["role"] == "rule mark" and "low: " in mk["label"]]
    assert len(ranges) == 6  # the low-high range of each reproduced number


def test_the_longest_table(ged191, tmp_path: Path, dump_dom) -> None:
    """34 years of the GED 23.1 table: every row shown, nothing wider than the card."""
    result = trends.reproduce("poldat-iraq-state-based-ged231", data=ged191)
    m, _ = measured(result, tmp_path, dump_dom)
    assert [t["rows"] for t in m["sections"]["table"]["tables"]] == [34]
    for section in m["sections"].values():
        fits(section)
