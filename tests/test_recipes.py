"""Recipe files: every malformed shape is a RecipeError naming the file and the key.

These tests read no data: a recipe is parsed (and refused) before any file is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trends.cli import main
from trends.errors import RecipeError, TrendsError
from trends.reproduction import VERDICTS, load_recipe, reproduce
from trends.reproduction.recipe import Measure
from trends.verdicts import REPRODUCTION_VERDICTS

BASE = (Path(__file__).parent / "data" / "recipe_candidate.toml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_base_recipe_parses(tmp_path: Path) -> None:
    recipe = load_recipe(_write(tmp_path, BASE))
    assert recipe.id == "test" and recipe.group_by == ("country",)
    assert recipe.measures == (Measure(name="events", what="events"),)
    assert recipe.tolerance == {"absolute": 1.0, "relative": 0.0}
    assert recipe.filters == {"country": ["Iraq"]}


def test_the_verdict_words_come_from_verdicts() -> None:
    assert VERDICTS is REPRODUCTION_VERDICTS
    assert VERDICTS == (
        "reproduced exactly",
        "reproduced within tolerance",
        "differs",
        "cannot be tested with this data",
    )


DATA = '[data]\ndataset = "ucdp-candidate"\nversion = "22.0.2"\nfile = "ucdp/ged_candidate_22_0_2.csv"\n'
MEASURE = '[[count.measures]]\nname = "events"\nwhat = "events"\n'
COUNT = '[count]\ngroup_by = ["country"]\n' + MEASURE


def _top(line: str) -> tuple[str, str]:
    """A top-level key, written before the first table."""
    return ('id = "test"', f'id = "test"\n{line}')


# (what to replace, with what), the key the error must name, and words of its message.
SHAPES = [
    # the shapes that used to give "internal error"
    ([(COUNT, ""), _top("count = 5")], "count", "must be a table, not the integer 5"),
    (
        [('[filters]\ncountry = ["Iraq"]\n', ""), _top("filters = [1, 2]")],
        "filters",
        "must be a table, not a list",
    ),
    (
        [("[tolerance]\nabsolute = 1\n", ""), _top('tolerance = "x"')],
        "tolerance",
        "must be a table, not the string 'x'",
    ),
    (("absolute = 1", 'absolute = "x"'), "tolerance.absolute", "finite non-negative number"),
    (("absolute = 1", "absolute = -1"), "tolerance.absolute", "non-negative"),
    (("absolute = 1", "absolute = nan"), "tolerance.absolute", "finite"),
    (("absolute = 1", "relative = true"), "tolerance.relative", "not the boolean true"),
    # missing keys
    ([(DATA, "")], "data", "missing"),
    (('dataset = "ucdp-candidate"\n', ""), "data.dataset", "missing"),
    (('version = "22.0.2"\n', ""), "data.version", "missing"),
    (('name = "events"\nwhat = "events"', 'name = "events"'), "count.measures[1].what", "missing"),
    (('what = "events"', 'what = "sum"'), "count.measures[1].column", "names the column"),
    (("[[count.measures]]", "[[count.other]]"), "count.other", "unknown key"),
    (
        ('[published]\nrows = [{ country = "Iraq", events = 17 }]', "[published]"),
        "published.rows",
        "missing",
    ),
    (("[published]", "[elsewhere]"), "elsewhere", "unknown key"),
    (
        ('rows = [{ country = "Iraq", events = 17 }]', "rows = [{ events = 17 }]"),
        "published.rows[1].country",
        "missing",
    ),
    # wrong types
    (('dataset = "ucdp-candidate"', "dataset = 5"), "data.dataset", "not the integer 5"),
    (('version = "22.0.2"', "version = 22.0"), "data.version", "must be a string"),
    (('id = "test"', "id = 5"), "id", "must be a string"),
    (('id = "test"', 'id = "test"\nexpected = "maybe"'), "expected", "'maybe' is not one of"),
    (('country = ["Iraq"]', "country = 5"), "filters.country", "string or a list of strings"),
    (
        ('country = ["Iraq"]', 'type_of_violence = ["1"]'),
        "filters.type_of_violence",
        "whole number",
    ),
    (('country = ["Iraq"]', 'dates = "2022"'), "filters.dates", "two dates"),
    (
        ('country = ["Iraq"]', 'dates = ["2022-13-01", "2022-12-31"]'),
        "filters.dates",
        "'2022-13-01' is not a date",
    ),
    (
        ('country = ["Iraq"]', 'dates = ["2022-12-31", "2022-01-01"]'),
        "filters.dates",
        "before it starts",
    ),
    (('country = ["Iraq"]', 'province = ["x"]'), "filters.province", "unknown key"),
    (('group_by = ["country"]', "group_by = 5"), "count.group_by", "list of strings"),
    (('group_by = ["country"]', 'group_by = ["year", "month"]'), "count.group_by", "one"),
    ([(MEASURE, "measures = 5\n")], "count.measures", "list of tables"),
    (
        ('what = "events"', 'what = "events"\nrank = "yes"'),
        "count.measures[1].rank",
        "true or false",
    ),
    (
        ('what = "events"', 'what = "events"\nrank = true'),
        "count.measures[1].rank",
        'group by "region"',
    ),
    (('what = "events"', "what = 3"), "count.measures[1].what", "must be a string"),
    (
        ('rows = [{ country = "Iraq", events = 17 }]', "rows = 5"),
        "published.rows",
        "list of tables",
    ),
    (
        ('rows = [{ country = "Iraq", events = 17 }]', "rows = [5]"),
        "published.rows[1]",
        "must be a table",
    ),
    (
        ('rows = [{ country = "Iraq", events = 17 }]', 'rows = [{ country = "Iraq", event = 1 }]'),
        "published.rows[1].event",
        "unknown key",
    ),
    (
        ('source = "a made-up figure for the test"', "source = 1"),
        "published.source",
        "must be a string",
    ),
    ([_top("claim = 3")], "claim", "must be a table"),
    (("[tolerance]", '[claim]\ntext = "x"\n[tolerance]'), "claim.id", "missing"),
    (("[tolerance]", '[claim]\nid = "x"\n[tolerance]'), "claim.text", "missing"),
    (
        ("[tolerance]", '[claim]\nid = "x"\ntext = "y"\nvalue = "many"\n[tolerance]'),
        "claim.value",
        "number",
    ),
    (("[tolerance]", "[context]\nwhy = 'x'\n[tolerance]"), "context.dates", "missing"),
    (("[tolerance]", "[differences]\nnote = 3\n[tolerance]"), "differences.note", "string"),
    (('id = "test"', 'id = "test"\ncolour = "red"'), "colour", "unknown key"),
    (("[published]", '[published]\nfile = "published/x.csv"'), "published.file", "both given"),
    (('version = "22.0.2"', 'version = "9.9"'), "data.version", "'9.9' of 'ucdp-candidate'"),
    (('dataset = "ucdp-candidate"', 'dataset = "nope"'), "data.dataset", "not in the registry"),
]


def _changed(change: tuple[str, str] | list[tuple[str, str]]) -> str:
    text = BASE
    for old, new in [change] if isinstance(change, tuple) else change:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(
    ("change", "key", "words"), SHAPES, ids=[s[1] + "-" + s[2] for s in SHAPES]
)
def test_malformed_shapes_name_the_file_and_the_key(tmp_path: Path, change, key, words) -> None:
    path = _write(tmp_path, _changed(change))
    with pytest.raises(RecipeError) as caught:
        load_recipe(path)
    error = caught.value
    assert isinstance(error, TrendsError) and isinstance(error, ValueError)
    assert error.file == str(path) and error.key == key, str(error)
    assert str(error).startswith(f"{path}: {key}: ")
    assert words in str(error)


@pytest.mark.parametrize("change", [s[0] for s in SHAPES[:3]])
def test_cli_malformed_recipe_is_one_line_exit_2(tmp_path: Path, change, capsys) -> None:
    """``count = 5``, ``filters = [1,2]``, ``tolerance = "x"``: bad input, not a crash."""
    path = _write(tmp_path, _changed(change))
    assert main(["reproduce", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "internal error" not in err


def test_not_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "id = \n")
    with pytest.raises(RecipeError, match=f"^{path}: not valid TOML"):
        load_recipe(path)


def test_unknown_recipe_lists_the_shipped_ones() -> None:
    with pytest.raises(RecipeError, match="neither a file nor a shipped recipe.*thirdwave"):
        load_recipe("no-such-recipe")


def test_cli_absent_recipe_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["reproduce", str(tmp_path / "absent.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "shipped" in err


# ----------------------------------------------------------------------------- the data file


def test_a_missing_data_file_says_what_to_pass_and_where_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRENDS_DATA", raising=False)
    with pytest.raises(TrendsError) as caught:
        reproduce("thirdwave-candidate-22-0-2", data_dir=tmp_path)
    message = str(caught.value)
    assert "'ucdp/ged_candidate_22_0_2.csv'" in message and str(tmp_path) in message
    assert "--data FILE" in message and "--data-dir" in message and "TRENDS_DATA" in message
    assert "https://ucdp.uu.se/downloads/candidateged/GEDEvent_v22_0_2.csv" in message
    assert "trends.datasets.fetch('ucdp-candidate', '22.0.2')" in message


def test_a_data_file_that_is_not_there(tmp_path: Path) -> None:
    absent = tmp_path / "ged191_iraq.csv"
    with pytest.raises(TrendsError, match=f"^{absent}: no such file .*ged191-csv.zip"):
        reproduce("claim-hashimi-2020-killed", data=absent)


def test_cli_missing_data_file_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("TRENDS_DATA", raising=False)
    assert main(["reproduce", "claim-hashimi-2020-killed", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "https://ucdp.uu.se/downloads/ged/ged191-csv.zip" in err


def test_cli_help_documents_the_exit_statuses(capsys) -> None:
    assert main(["reproduce", "--help"]) == 0  # main returns the status, --help included
    out = capsys.readouterr().out
    for line in ("0  reproduced exactly", "3  differs", "4  cannot be tested with this data",
                 "2  bad input or usage", "1  internal error"):  # fmt: skip
        assert line in out


def test_cli_internal_error_is_exit_1(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import trends.reproduction

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(trends.reproduction, "reproduce", broken)
    assert main(["reproduce", "claim-hashimi-2020-killed"]) == 1
    assert "internal error: ZeroDivisionError: a bug" in capsys.readouterr().err
