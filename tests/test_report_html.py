"""The report's HTML helpers: text escaped unless marked as markup; human numbers."""

from __future__ import annotations

import html as htmllib
from html.parser import HTMLParser

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trends.reporting.formats import fmt_num, fmt_p, fmt_pct, fmt_range
from trends.reporting.html import Column, Footnotes, Markup, Page, esc, join, table, tag

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><svg onload=alert(2)>',
    "' onmouseover='alert(3)",
    "</title><script>alert(4)</script>",
    "&lt;already escaped&gt;",
    "javascript:alert(5)",
]


class Tags(HTMLParser):
    """The elements and attributes of a fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def tags_of(html: str) -> Tags:
    parsed = Tags()
    parsed.feed(html)
    return parsed


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_is_escaped_unless_marked(payload: str) -> None:
    """Children, attributes, joins, formats, section bodies: text never becomes markup."""
    made = {
        "child": tag("td", payload),
        "attribute": tag("a", "x", href="#n", title=payload),
        "join": join([payload, Markup("<b>kept</b>")], " "),
        "format": Markup("<p>{}</p>").format(payload),
        "concat": Markup("<p>") + payload,
    }
    expected = {"child": ["td"], "attribute": ["a"], "join": ["b"], "format": ["p"],
                "concat": ["p"]}  # fmt: skip
    for name, html in made.items():
        parsed = tags_of(html)
        assert parsed.tags == expected[name], (name, html)
        assert not any(a.startswith("on") for a in parsed.attrs), (name, html)
    page = Page(title=payload, subtitle=payload)
    page.add("s", payload, payload)  # a plain-text body is shown as text
    page.footer = payload
    head, _ = page.render().split("<script>", 1)
    parsed = tags_of(head)
    assert "script" not in parsed.tags and "svg" not in parsed.tags
    assert not any(a.startswith("on") for a in parsed.attrs)


def test_tag_refuses_event_handlers_and_odd_names() -> None:
    with pytest.raises(ValueError, match="onclick"):
        tag("a", "x", onclick="alert(1)")
    with pytest.raises(ValueError, match="tag name"):
        tag("scr ipt")
    assert tag("td", None, 3, class_="num", data_sort="1.5", hidden=True, title=None) == (
        '<td class="num" data-sort="1.5" hidden>3</td>'
    )
    assert tag("br") == "<br>"


def test_table_escapes_cells_and_keeps_markup_cells() -> None:
    frame = pd.DataFrame(
        {
            "region": ["<img src=x onerror=alert(1)>"],
            "chip": pd.Series([Markup('<span class="v">ok</span>')], dtype=object),
            "ratio": [1140.5],
        }
    )
    html = table(
        frame,
        [
            Column("region", "Region", sort=True, wrap=True),
            Column("chip", "Verdict", esc),
            Column("ratio", "Ratio", fmt_num, numeric=True),
        ],
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert '<span class="v">ok</span>' in html
    assert '<td class="num" data-sort="1140.5">1,140</td>' in html
    assert '<td class="wrap" data-sort="&lt;img' in html


def test_footnotes_number_each_text_once() -> None:
    notes = Footnotes("n")
    first = notes.refs(["3 events, fewer than 10", "<b>bold</b>"])
    second = notes.refs(["3 events, fewer than 10", ""])
    assert first.count("<a ") == 2 and second.count("<a ") == 1
    assert 'href="#n-1"' in second  # the shared text keeps its number
    listed = notes.html("Notes")
    assert listed.count("<li") == 2 and "&lt;b&gt;bold&lt;/b&gt;" in listed
    assert Footnotes("m").html() == ""


@pytest.mark.parametrize(
    "value, expected",
    [
        (1140.5, "1,140"),
        (1.14e3, "1,140"),
        (12345.0, "12,345"),
        (0.0523, "0.0523"),
        (1.55, "1.55"),
        (-12.34, "−12.3"),
        (0.434, "0.434"),
        (9.996, "10"),
        (float("inf"), "∞"),
        (float("-inf"), "−∞"),
        (float("nan"), "–"),
        (None, "–"),
        (1e125, "more than 1,000,000,000,000"),
        (3e-9, "< 0.000001"),
        (0, "0"),
    ],
)
def test_numbers_read_as_numbers(value, expected: str) -> None:
    assert fmt_num(value) == expected
    assert "e+" not in fmt_num(value) and "e-" not in fmt_num(value)


def test_percentages_p_values_and_ranges() -> None:
    assert fmt_pct(12.3, signed=True) == "+12%"
    assert fmt_pct(0.2, signed=True) == "0%"
    assert fmt_pct(-1234.0) == "−1,234%"
    assert fmt_p(0.0004) == "< 0.001" and fmt_p(0.05) == "0.05" and fmt_p(1.0) == "1"
    assert fmt_range(0.434, 0.868) == "0.434 to 0.868"
    assert fmt_range(0.166, float("inf")) == "0.166 to ∞"
    assert fmt_range(None, 1.0) == "–"


#: Text built from the characters that matter to HTML, and anything else.
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(list("<>&\"'=/ \t\n`;:!-")), st.characters()),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE_TEXT, attr=HOSTILE_TEXT)
def test_any_text_stays_text(text: str, attr: str) -> None:
    """300 generated strings as element text and attribute values: one element with
    one attribute comes out, and its text and attribute read back as given."""

    class One(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tags, self.attrs, self.data = [], [], ""

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attrs += attrs

        def handle_data(self, data):
            self.data += data

    parsed = One()
    parsed.feed(str(tag("td", text, title=attr)))
    parsed.close()
    assert parsed.tags == ["td"]
    assert [name for name, _ in parsed.attrs] == ["title"]
    assert parsed.data == text
    assert htmllib.unescape(str(esc(attr))) == attr
