"""The report in a real browser: headless Chromium, no network at all.

Every chart draws (``data-rendered`` on <body> equals the number of charts), no
JavaScript error, no request leaves the page, and hostile names stay text. The
layout is measured in the DOM at 1,280 pixels (a script injected into a copy of the
page writes the widths it finds): no table or chart is wider than its section, and
no row of a result table is squeezed tall. Skips when Chromium is absent, except in
CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest

import trends
from trends.reporting.build import render
from trends.reporting.unusual import MAX_ALARM_PANELS

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
    from report_data import make_results

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
    assert int(body["data-rendered"]) == int(body["data-charts"]) == 6
    assert parsed.tags.get("svg", 0) >= 5  # drawn as SVG
    assert body.get("data-requests") == "0"  # nothing fetched, not even from file://


def test_hostile_names_render_as_text(drawn) -> None:
    dom, parsed = drawn
    assert "img" not in parsed.tags  # the region named <img ...> made no element
    assert parsed.handlers == []
    assert parsed.tags["script"] == 6 + 2  # no script element was injected
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


# ----------------------------------------------------------------------------- layout

#: Injected into a copy of the page: once the charts are drawn, writes what it
#: measured as JSON into <pre id="measured">, which --dump-dom then shows.
MEASURE = """
(function () {
  function measure() {
    var out = [];
    document.querySelectorAll("main > section").forEach(function (sec) {
      var cs = getComputedStyle(sec);
      var inner = sec.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      var items = [];
      sec.querySelectorAll("table, .table-wrap, svg.marks, .notes, dl.facts, .tiles")
        .forEach(function (el) {
          var r = el.getBoundingClientRect();
          items.push({what: el.tagName.toLowerCase() + "." +
                        String(el.getAttribute("class") || ""),
                      width: r.width, scroll: el.scrollWidth, client: el.clientWidth});
        });
      var rows = [];
      sec.querySelectorAll("table tbody tr").forEach(function (tr) {
        rows.push(tr.getBoundingClientRect().height);
      });
      var xAxes = sec.querySelectorAll("#chart-rates [aria-label^='X-axis']").length;
      var alarmAxes = sec.querySelectorAll("#chart-alarms [aria-label^='X-axis']").length;
      out.push({id: sec.id, inner: inner, items: items, rows: rows, xAxes: xAxes,
                alarmAxes: alarmAxes});
    });
    var pre = document.createElement("pre");
    pre.id = "measured";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  (function wait() {
    if (document.body.hasAttribute("data-rendered")) { setTimeout(measure, 50); }
    else { setTimeout(wait, 50); }
  })();
})();
"""


def measure(page: Path, dump_dom) -> tuple[list[dict], Body]:
    """The page's sections as the browser lays them out at 1,280 pixels."""
    text = page.read_text(encoding="utf-8")
    head, tail = text.rsplit("</body>", 1)  # the Vega bundle holds "</body>" in strings
    copy = page.with_name(page.stem + "-measured.html")
    copy.write_text(f"{head}<script>{MEASURE}</script></body>{tail}", encoding="utf-8")
    dom = dump_dom(copy, page.parent / f"profile-{page.stem}")
    parsed = Body()
    parsed.feed(dom)
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert found, "the measuring script did not run"
    return json.loads(htmllib.unescape(found.group(1))), parsed


def panels_of(page: Path, most: int | None = None) -> int:
    """Panels the rates chart (or a chart of at most ``most`` panels) should draw: one
    per region, at most MAX_PANELS."""
    from trends.reporting.sections import MAX_PANELS

    regions = re.search(r"<dt>Regions \(([\d,]+)\)</dt>", page.read_text(encoding="utf-8"))
    return min(most or MAX_PANELS, int(regions.group(1).replace(",", "")))


def check_layout(
    sections: list[dict], parsed: Body, *, panels: int, alarm_panels: int | None = None
) -> None:
    """Nothing wider than its section, no hidden sideways scroll, rows not squeezed,
    every chart drawn, one x axis per panel drawn (none under an empty slot)."""
    assert parsed.body.get("data-error") is None, parsed.body.get("data-error")
    assert parsed.body.get("data-rendered") == parsed.body.get("data-charts")
    assert [s["id"] for s in sections] == [
        "summary", "data", "rates", "comparison", "trend", "alarms", "coverage", "methods",
        "ledger",
    ]  # fmt: skip
    for sec in sections:
        for item in sec["items"]:
            where = f"{sec['id']}: {item['what']}"
            assert item["width"] <= sec["inner"] + 0.5, f"{where} is {item['width']:.0f} px wide, "
            f"its section {sec['inner']:.0f}"
            assert item["scroll"] <= item["client"] + 1, f"{where} scrolls sideways"
        if sec["id"] in ("comparison", "trend", "alarms"):
            assert max(sec["rows"]) < 80, f"{sec['id']}: a row is {max(sec['rows']):.0f} px tall"
    rates = next(s for s in sections if s["id"] == "rates")
    assert rates["xAxes"] == panels
    alarms = next(s for s in sections if s["id"] == "alarms")
    assert alarms["alarmAxes"] == (panels if alarm_panels is None else alarm_panels)


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> Path:
    from trends.datasets import simulate

    folder = tmp_path_factory.mktemp("demo-layout")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        return trends.report(
            simulate(seed=2024),
            path=folder / "demo.html",
            joinpoint_options={"n_permutations": 19, "n_bootstrap": 20},  # a quick search
        )


def test_demo_layout_fits_at_1280(demo_page: Path, dump_dom) -> None:
    sections, parsed = measure(demo_page, dump_dom)
    check_layout(sections, parsed, panels=panels_of(demo_page),
                 alarm_panels=panels_of(demo_page, MAX_ALARM_PANELS))  # fmt: skip


@pytest.mark.shared
@pytest.mark.parametrize(
    "name, period",
    [("ged_syria_652_1601_1911.csv", "month"), ("ged191_iraq.csv", "quarter")],
)
def test_real_file_layout_fits_at_1280(ucdp_dir, tmp_path, dump_dom, name, period) -> None:
    """Syria by month and Iraq by quarter, as the issue measured them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        page = trends.report(
            trends.read(ucdp_dir / name),
            period=period,
            path=tmp_path / "report.html",
            joinpoint_options={"n_permutations": 19, "n_bootstrap": 20},  # a quick search
        )
    sections, parsed = measure(page, dump_dom)
    check_layout(sections, parsed, panels=panels_of(page),
                 alarm_panels=panels_of(page, MAX_ALARM_PANELS))  # fmt: skip


def drawn_names(names: list[str], folder: Path, dump_dom) -> tuple[str, Body]:
    """The report of 24 months of cells, one region per name, as Chromium drew it."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    cells = pd.DataFrame(
        [
            {"region": name, "period": f"{y}-{m:02d}", "count": float(rng.poisson(5 + i % 20))}
            for i, name in enumerate(names)
            for y in (2018, 2019)
            for m in range(1, 13)
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", trends.errors.TrendsWarning)
        page = trends.report(
            cells,
            path=folder / "names.html",
            joinpoint_options={"n_permutations": 19, "n_bootstrap": 20, "max_joinpoints": 1},
        )
    dom = dump_dom(page, folder / "profile")
    parsed = Body()
    parsed.feed(dom)
    return dom, parsed


def test_prototype_names_draw(tmp_path: Path, dump_dom) -> None:
    """Regions called constructor, toString, hasOwnProperty, __proto__ or valueOf:
    every chart draws with no error (Vega looks names up on plain objects)."""
    names = ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf", "Plain"]
    dom, parsed = drawn_names(names, tmp_path, dump_dom)
    assert parsed.body.get("data-error") is None, parsed.body.get("data-error")
    assert (
        int(parsed.body["data-rendered"]) == int(parsed.body["data-charts"]) == 5
    )  # the alarm timeline too
    svg_text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", dom))
    for name in names:
        assert name in svg_text, name


#: Classic script-injection vectors; each is used in four contexts (as is, after a
#: closing double quote, after a closing single quote, before an open comment).
VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "<body onload=alert(1)>",
    "<a href=javascript:alert(1)>x</a>",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<base href=//evil.example/>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<meta http-equiv=refresh content=0;url=//evil.example>",
    "</script><script>alert(1)</script>",
    "</style><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<!--<script>alert(1)//-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "javascript:alert(1)",
    "{{constructor.constructor('alert(1)')()}}",
    "${alert(1)}",
    "\u2028<script>alert(1)</script>\u2029",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
]
PAYLOADS = [wrap.format(v) for v in VECTORS for wrap in ("{}", '">{}', "'>{}", "{}<!--")]


def test_a_hundred_payloads_stay_text(tmp_path: Path, dump_dom) -> None:
    """100 region names built from 25 injection vectors in four contexts: every chart
    draws, no element, attribute or request comes from them, and each is shown as text."""
    dom, parsed = drawn_names(PAYLOADS, tmp_path, dump_dom)
    assert parsed.body.get("data-error") is None, parsed.body.get("data-error")
    assert int(parsed.body["data-rendered"]) == int(parsed.body["data-charts"])
    assert parsed.body.get("data-requests") == "0"
    assert parsed.handlers == []  # no on...= attribute anywhere
    forbidden = ("img", "iframe", "object", "embed", "math", "base", "link", "input", "marquee")
    for name in forbidden:
        assert name not in parsed.tags, name
    charts = int(parsed.body["data-charts"])
    assert parsed.tags["script"] == charts + 2
    assert parsed.tags["details"] == charts  # Vega-Embed's action menus, one per chart
    assert parsed.tags["body"] == 1 and parsed.tags["meta"] == 4  # the page's own four
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', dom))
    visible = re.sub(r"<(script|style)\b.*?</\1>", "", dom, flags=re.S)
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", visible))
    missing = [p for p in PAYLOADS if p not in text]
    assert missing == []
