"""trends.reproduce and ``trends reproduce``: the shipped recipes against the shared data.

The expected figures are computed here independently, with plain pandas on the raw
CSV files (no trends reader, no harmonised names), and the known published values
are written out (Candidate 22.0.2: Iraq 18 events / 65 deaths_b, Syria 73 / 66;
OWID 2014 Iraq 15,127 vs 15,092 in GED 19.1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import trends
from trends.cli import main
from trends.errors import TrendsError
from trends.reproduction import VERDICTS, list_recipes, load_recipe, reproduce
from trends.reproduction.published import published_numbers, taken_from

pytestmark = pytest.mark.shared

SHIPPED = {
    "thirdwave-candidate-22-0-2": "reproduced exactly",
    "owid-iraq-2003-2018-ged191": "differs",
    "owid-2021-iraq-syria-candidate": "differs",
    "owid-2021-iraq-syria-candidate-total": "differs",
    "poldat-iraq-state-based-ged231": "differs",
    "claim-hashimi-2020-killed": "differs",
    "claim-hashimi-2020-wounded": "cannot be tested with this data",
    "claim-oig-2020-ambush-ranking": "cannot be tested with this data",
}


@pytest.fixture(scope="module")
def data_dir(shared_dir: Path) -> Path:
    return shared_dir / "data"


@pytest.fixture(scope="module")
def ged191(ucdp_dir: Path) -> trends.Incidents:
    return trends.read_ucdp_ged(ucdp_dir / "ged191_iraq.csv")


@pytest.fixture(scope="module")
def ged191_raw(ucdp_dir: Path) -> pd.DataFrame:
    raw = pd.read_csv(ucdp_dir / "ged191_iraq.csv")
    raw["date_start"] = pd.to_datetime(raw["date_start"])
    return raw


def _row(table: pd.DataFrame, **keys: object) -> pd.Series:
    mask = pd.Series(True, index=table.index)
    for k, v in keys.items():
        mask &= table[k].astype(str) == str(v)
    assert mask.sum() == 1, keys
    return table[mask].iloc[0]


# ----------------------------------------------------------------------------- listing


def test_list_recipes_names_every_shipped_recipe() -> None:
    listed = list_recipes()
    assert dict(zip(listed["id"], listed["expected"], strict=True)) == SHIPPED
    assert listed["reproduces"].str.len().min() > 40
    assert set(listed["expected"]) <= set(VERDICTS)


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for recipe, expected in SHIPPED.items():
        assert f"{recipe}  [" in out and f"expected: {expected}]" in out


# ----------------------------------------------------------------------------- recipe 1


def test_candidate_22_0_2_reproduces_exactly(
    data_dir: Path, ucdp_dir: Path, tmp_path: Path
) -> None:
    result = reproduce("thirdwave-candidate-22-0-2", data_dir=data_dir)
    assert result.verdict == "reproduced exactly" and result.ok and result.as_expected
    raw = pd.read_csv(ucdp_dir / "ged_candidate_22_0_2.csv")
    for country, events, deaths_b in [("Iraq", 18, 65), ("Syria", 73, 66)]:
        rows = raw[raw["country"] == country]
        assert (len(rows), rows["deaths_b"].sum()) == (events, deaths_b)  # independent count
        for measure, value in [("events", events), ("deaths_b", deaths_b)]:
            row = _row(result.table, country=country, measure=measure)
            assert row["published"] == value and row["reproduced"] == value
            assert row["abs_diff"] == 0 and row["status"] == "exact" and bool(row["match"])
    # Coverage of the cells is shown beside the comparison: the 18 Iraqi events come from
    # several outlets, enough to judge the reporting (10 events or more)
    assert _row(result.table, country="Iraq", measure="events")["coverage"] == "adequate"
    chart = result.chart().to_dict()
    assert "hconcat" in chart  # one panel per measure
    page = result.to_html(tmp_path / "r1.html").read_text(encoding="utf-8")
    assert "reproduced exactly" in page and "thirdwave" in page and "Iraq" in page


def test_cli_exit_0_when_reproduced(data_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "page.html"
    csv = tmp_path / "table.csv"
    status = main(
        ["reproduce", "thirdwave-candidate-22-0-2", "--data-dir", str(data_dir), "-o", str(out),
         "--csv", str(csv)]
    )  # fmt: skip
    assert status == 0
    out_text = capsys.readouterr().out
    assert "thirdwave-candidate-22-0-2: reproduced exactly" in out_text
    assert "(as the recipe expects: reproduced exactly)" in out_text
    assert out.stat().st_size > 10_000
    assert pd.read_csv(csv)["reproduced"].tolist() == [73, 66, 18, 65]


# ----------------------------------------------------------------------------- recipe 2


def test_owid_iraq_by_year_from_ged191(data_dir: Path, ged191, ged191_raw, capsys) -> None:
    result = reproduce("owid-iraq-2003-2018-ged191", data=ged191, data_dir=data_dir)
    table = result.table
    assert result.verdict == "differs" and not result.ok
    assert table["year"].tolist() == [str(y) for y in range(2003, 2019)]
    expected = ged191_raw[ged191_raw["date_start"].dt.year.between(2003, 2018)]
    expected = expected.groupby(expected["date_start"].dt.year)["best"].sum()
    assert table["reproduced"].tolist() == expected.astype(float).tolist()
    row = _row(table, year=2014)
    assert (row["published"], row["reproduced"], row["abs_diff"]) == (15127, 15092, -35)
    assert row["rel_diff"] == pytest.approx(-35 / 15127)
    exact = set(table.loc[table["status"] == "exact", "year"])
    assert exact == {"2003", "2004", "2005", "2007"}
    # The other years are shown with their differences, and the reason.
    differs = table[table["status"] == "differs"]
    assert len(differs) == 12 and differs["note"].str.contains("GED 21.1").all()
    # Each year's low-high range, summed from the raw file, and the published number against it.
    for bound in ("low", "high"):
        by_year = ged191_raw[ged191_raw["date_start"].dt.year.between(2003, 2018)]
        sums = by_year.groupby(by_year["date_start"].dt.year)[bound].sum()
        assert table[f"reproduced_{bound}"].tolist() == sums.astype(float).tolist()
    inside = (table["published"] >= table["reproduced_low"]) & (
        table["published"] <= table["reproduced_high"]
    )
    assert table["in_range"].astype(bool).tolist() == inside.tolist()
    assert set(table.loc[~inside, "year"]) == {"2018"}
    text = " ".join(result.reasons)
    assert "15 of 16 published numbers lie inside the range" in text
    assert "above the high estimate: 2018" in text
    assert "4 reproduced exactly (2003, 2004, 2005, 2007)" in text
    assert "UCDP revises events between releases" in text
    assert "2011" in text and "-55" in text  # the largest difference


@pytest.mark.parametrize(
    ("recipe_id", "status"),
    [
        ("claim-hashimi-2020-killed", 3),  # differs
        ("claim-hashimi-2020-wounded", 4),  # cannot be tested with this data
    ],
)
def test_cli_exit_status_of_each_verdict(
    recipe_id: str, status: int, ucdp_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """``trends reproduce RECIPE --data FILE`` alone; 3 differs, 4 cannot be tested (0 in
    test_cli_exit_0_when_reproduced), distinct from 1 (internal error) and 2 (bad input)."""
    monkeypatch.delenv("TRENDS_DATA", raising=False)
    assert main(["reproduce", recipe_id, "--data", str(ucdp_dir / "ged191_iraq.csv")]) == status
    out = capsys.readouterr().out
    assert f"{recipe_id}: {SHIPPED[recipe_id]}" in out and "(as the recipe expects" in out


def test_a_tolerance_turns_release_noise_into_a_match(
    data_dir: Path, ged191, tmp_path: Path, capsys
) -> None:
    """The same recipe with a 5% tolerance: every year within (largest gap 3.8%)."""
    text = load_recipe("owid-iraq-2003-2018-ged191").path.read_text(encoding="utf-8")
    text = text.replace("absolute = 0\nrelative = 0", "absolute = 0\nrelative = 0.05")
    path = tmp_path / "tolerant.toml"
    path.write_text(text, encoding="utf-8")
    result = reproduce(path, data=ged191, data_dir=data_dir)
    assert result.verdict == "reproduced within tolerance" and result.ok
    assert set(result.table["status"]) == {"exact", "within tolerance"}
    assert result.table["match"].all()
    assert "12 within the tolerance (±5.0%)" in result.reasons[0]


# ----------------------------------------------------------------------------- recipe 3


def test_owid_2021_from_candidate_by_country_column(data_dir: Path, ucdp_dir: Path) -> None:
    candidate = trends.read_ucdp_ged(ucdp_dir / "ged_candidate_21_01_21_12.csv")
    total = reproduce("owid-2021-iraq-syria-candidate-total", data=candidate, data_dir=data_dir)
    assert total.verdict == "differs"
    iraq = _row(total.table, country="Iraq")
    assert (iraq["published"], iraq["reproduced"], iraq["abs_diff"]) == (1022, 993, -29)
    syria = _row(total.table, country="Syria")
    assert (syria["published"], syria["reproduced"]) == (1915, 1958)
    assert "coordinates" in " ".join(total.reasons)

    result = reproduce("owid-2021-iraq-syria-candidate", data=candidate, data_dir=data_dir)
    table = result.table
    assert result.verdict == "differs"
    raw = pd.read_csv(ucdp_dir / "ged_candidate_21_01_21_12.csv")
    sums = raw[raw["country"].isin(["Iraq", "Syria"])].groupby(["country", "type_of_violence"])
    for (country, tov), value in sums["best"].sum().items():
        assert _row(table, country=country, type_of_violence=tov)["reproduced"] == value
    iraq = table[table["country"] == "Iraq"]
    assert (iraq["reproduced"].sum(), iraq["published"].sum()) == (993, 1022)
    row = _row(table, country="Iraq", type_of_violence=1)
    assert (row["published"], row["reproduced"]) == (866, 837)
    # One-sided violence is the same either way; the state-based rows move across borders.
    assert _row(table, country="Iraq", type_of_violence=3)["status"] == "exact"
    assert "Iraq non-state, Iraq one-sided, Syria one-sided" in result.reasons[0]
    assert row["note"].startswith("OWID assigns each event to the country its coordinates")


# ----------------------------------------------------------------------------- recipe 4


def test_state_based_against_ged231_table(data_dir: Path, ged191, ged191_raw) -> None:
    result = reproduce("poldat-iraq-state-based-ged231", data=ged191, data_dir=data_dir)
    table = result.table
    assert result.verdict == "differs"
    assert table["year"].tolist() == [str(y) for y in range(1989, 2023)]  # PRIO rows left out
    state = ged191_raw[ged191_raw["type_of_violence"] == 1]
    by_year = state.groupby(state["date_start"].dt.year)["best"].sum()
    tested = table[table["status"] != "not tested"]
    assert tested["year"].astype(int).tolist() == list(range(1989, 2019))
    assert tested["reproduced"].tolist() == by_year.loc[1989:2018].astype(float).tolist()
    row = _row(table, year=2014)
    assert (row["published"], row["reproduced"]) == (13168, 12192)
    # GED 19.1 ends in 2018: the table's 2019-2022 rows are shown, not tested, not zero.
    late = table[table["year"].astype(int) >= 2019]
    assert (late["status"] == "not tested").all() and late["reproduced"].isna().all()
    assert late["match"].isna().all()
    assert late["note"].str.contains("outside the data's coverage").all()
    text = " ".join(result.reasons)
    assert "GED 23.1" in text and "4 published numbers not tested (2019, 2020, 2021, 2022)" in text


# ----------------------------------------------------------------------------- claims


def test_claim_killed_by_is_in_nineveh_and_anbar(data_dir: Path, ged191, ged191_raw) -> None:
    result = reproduce("claim-hashimi-2020-killed", data=ged191, data_dir=data_dir)
    raw = ged191_raw
    mask = (
        (raw["type_of_violence"] == 3)
        & (raw["side_a"] == "IS")
        & raw["adm_1"].isin(["Nīnawá province", "Al Anbār province"])
        & raw["date_start"].between("2014-06-01", "2017-11-30")
    )
    expected = raw.loc[mask, "best"].sum()
    assert expected == 3789  # 3,395 in Nīnawá + 394 in Al Anbār
    row = result.table.iloc[0]
    assert (row["published"], row["reproduced"]) == (3400, expected)
    assert row["events"] == mask.sum()
    assert result.verdict == "differs"  # +11.4%, beyond the recipe's 10%
    assert row["rel_diff"] == pytest.approx(389 / 3400)
    # The coverage of the cells is shown beside the comparison, per region too.
    assert row["coverage"] in ("adequate", "thin", "insufficient")
    cov = result.coverage.set_index("place")
    assert set(cov.index) == {"Nīnawá", "Al Anbār"}
    assert cov.loc["Nīnawá", "events"] == 135 and cov.loc["Al Anbār", "events"] == 25
    assert cov.loc["Nīnawá", "deaths"] == 3395 and cov.loc["Al Anbār", "deaths"] == 394
    assert result.filters["dates"] == ["2014-06-01", "2017-11-30"]
    assert "official records" in " ".join(result.reasons)
    # UCDP's own low-high range: the published 3,400 lies below its low estimate.
    low, high = raw.loc[mask, "low"].sum(), raw.loc[mask, "high"].sum()
    assert (low, high) == (3774, 4374)
    assert (row["reproduced_low"], row["reproduced_high"]) == (low, high)
    assert pd.notna(row["in_range"]) and not row["in_range"]
    assert (
        "the published 3,400 lies below the range of the data's own low and high estimates "
        "(3,774 to 4,374; best 3,789)"
    ) in result.reasons
    assert list(result.table.columns[:5]) == [
        "measure", "published", "reproduced", "reproduced_low", "reproduced_high"
    ]  # fmt: skip
    assert (cov.loc["Nīnawá", "deaths_low"], cov.loc["Nīnawá", "deaths_high"]) == (3380, 3940)


def test_claim_wounded_cannot_be_tested(data_dir: Path, ged191) -> None:
    result = reproduce("claim-hashimi-2020-wounded", data=ged191, data_dir=data_dir)
    assert result.verdict == "cannot be tested with this data" and not result.ok
    row = result.table.iloc[0]
    assert row["published"] == 10000 and pd.isna(row["reproduced"]) and pd.isna(row["match"])
    assert "reproduced_low" not in result.table.columns  # no range for a column UCDP lacks
    assert "wounded" in result.reasons[0] and "deaths only" in result.reasons[0]


def test_claim_ranking_for_an_uncovered_period(data_dir: Path, ged191, ged191_raw) -> None:
    result = reproduce("claim-oig-2020-ambush-ranking", data=ged191, data_dir=data_dir)
    assert result.verdict == "cannot be tested with this data"
    table = result.table
    assert table["status"].eq("not tested").all() and table["reproduced"].isna().all()
    assert "2020-01-01 to 2020-12-31" in result.reasons[0]
    assert "1989-01-01 to 2018-12-31" in result.reasons[0]
    # The 2018 ranking, shown for context: recomputed here from the raw file.
    raw = ged191_raw
    is_2018 = raw[(raw["side_a"] == "IS") & (raw["date_start"].dt.year == 2018)]
    ranks = is_2018.groupby("adm_1").size().rank(ascending=False, method="min")
    for name, raw_name in [("Diyālá", "Diyālá province"), ("Kirkūk", "Kirkūk province"),
                           ("Nīnawá", "Nīnawá province"), ("Al Anbār", "Al Anbār province")]:  # fmt: skip
        assert _row(table, region=name)["context"] == ranks[raw_name]
    assert table["region"].tolist()[1] == "Şalāḩ ad Dīn"  # "Salahuddin", harmonised
    assert any("context, not tested" in r for r in result.reasons)
    # The chart: ranks with 1 at the top, the 2018 ranks as context, no empty difference panel.
    spec = result.chart().to_dict()
    assert "vconcat" not in spec
    points = [layer for layer in spec["layer"] if layer["mark"]["type"] == "point"]
    assert points[0]["encoding"]["y"]["scale"]["reverse"] is True
    series = {row["series"] for rows in spec["datasets"].values() for row in rows}
    assert series == {"published", "context (not tested)"}


# ----------------------------------------------------------------------------- shipped numbers


@pytest.mark.parametrize("recipe_id", sorted(SHIPPED))
def test_shipped_numbers_are_the_published_ones(recipe_id: str, data_dir: Path) -> None:
    """The numbers a recipe carries equal the shared published table they were taken from."""
    recipe = load_recipe(recipe_id)
    shipped = published_numbers(recipe)  # no data_dir: the recipe carries its numbers
    assert shipped.source["file"] == "" and shipped.source["source"]
    source = taken_from(recipe, data_dir)
    assert source is not None and source.source["file"].startswith(str(data_dir / "published"))
    assert shipped.filters == source.filters
    pd.testing.assert_frame_equal(shipped.rows, source.rows, check_dtype=False)
    for key in ("source", "claim", "unit", "note"):
        assert shipped.source.get(key) == source.source.get(key), key


@pytest.mark.parametrize("recipe_id", sorted(SHIPPED))
def test_a_shipped_recipe_needs_only_its_data_file(
    recipe_id: str, ucdp_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``reproduce(recipe, data=FILE)``: no data folder, no published files beside it."""
    monkeypatch.delenv("TRENDS_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    recipe = load_recipe(recipe_id)
    data = ucdp_dir / Path(recipe.file).name
    result = reproduce(recipe_id, data=data, data_dir=tmp_path)  # an empty folder
    assert result.verdict == SHIPPED[recipe_id]
    assert result.source["path"] == str(data)


def test_a_recipe_may_read_its_published_numbers_from_a_table(
    data_dir: Path, ged191, tmp_path: Path
) -> None:
    """``[published] file = ...`` (a table read at run time) gives the same result as the
    numbers shipped in the recipe."""
    recipe = load_recipe("owid-iraq-2003-2018-ged191")
    text = recipe.path.read_text(encoding="utf-8")
    head, tail = text.split("[published]\n", 1)
    spec = tail.split("[published.taken_from]\n", 1)[1]
    path = tmp_path / "from-table.toml"
    path.write_text(head + '[published]\nsource = "OWID"\n' + spec, encoding="utf-8")
    by_table = reproduce(path, data=ged191, data_dir=data_dir)
    shipped = reproduce(recipe, data=ged191)
    assert by_table.published_source["file"].endswith(
        "owid_ucdp_geolocated_country_year_iraq_syria.csv"
    )
    pd.testing.assert_frame_equal(by_table.table, shipped.table, check_dtype=False)
    assert by_table.verdict == shipped.verdict == "differs"


def test_a_claim_may_come_from_a_claims_table(data_dir: Path, ged191, tmp_path: Path) -> None:
    recipe = load_recipe("claim-hashimi-2020-killed")
    text = recipe.path.read_text(encoding="utf-8")
    head, tail = text.split("[claim]\n", 1)
    rest = tail.split("[filters]\n", 1)[1]
    claim = '[claim]\nfile = "published/published_claims.csv"\nid = "hashimi-2020-killed"\n'
    path = tmp_path / "from-claims-table.toml"
    path.write_text(head + claim + "[filters]\n" + rest, encoding="utf-8")
    by_table = reproduce(path, data=ged191, data_dir=data_dir)
    shipped = reproduce(recipe, data=ged191)
    pd.testing.assert_frame_equal(by_table.table, shipped.table)
    assert by_table.filters == shipped.filters
    assert by_table.published_source["file"].endswith("published_claims.csv")


def test_trends_data_environment_variable(data_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRENDS_DATA", str(data_dir))
    assert reproduce("thirdwave-candidate-22-0-2").verdict == "reproduced exactly"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = (Path(__file__).parent / "data" / "recipe_candidate.toml").read_text(encoding="utf-8")


def test_inline_rows_and_absolute_tolerance(data_dir: Path, tmp_path: Path) -> None:
    result = reproduce(_write(tmp_path, BASE), data_dir=data_dir)
    assert result.verdict == "reproduced within tolerance"
    row = result.table.iloc[0]
    assert (row["published"], row["reproduced"], row["abs_diff"]) == (17, 18, 1)


def test_a_country_not_in_the_data_lists_the_countries(data_dir: Path, tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace('country = ["Iraq"]', 'country = ["Irak"]'))
    with pytest.raises(TrendsError, match="country 'Irak' is not in the data; countries: .*Iraq"):
        reproduce(path, data_dir=data_dir)


def test_region_not_in_the_data_lists_the_regions(data_dir: Path, tmp_path: Path) -> None:
    text = BASE.replace('country = ["Iraq"]', 'country = ["Iraq"]\nregion = ["Atlantis"]')
    with pytest.raises(TrendsError, match="region Atlantis is not in the data; regions: .*Kirk"):
        reproduce(_write(tmp_path, text), data_dir=data_dir)


def test_recipes_are_valid_json_able_charts(data_dir: Path, ged191) -> None:
    """The chart serialises (Vega-Lite JSON) and its data hold both series, with the
    table's published and reproduced value for every year tested."""
    result = reproduce("owid-iraq-2003-2018-ged191", data=ged191, data_dir=data_dir)
    spec = json.loads(json.dumps(result.chart().to_dict()))
    points = {
        (row["label"], row["series"]): row["value"]
        for rows in spec["datasets"].values()
        for row in rows
        if "series" in row
    }
    tested = result.table[result.table["reproduced"].notna()]
    assert len(tested) == 16
    for year, published, reproduced in zip(
        tested["year"], tested["published"], tested["reproduced"], strict=True
    ):
        assert points[(str(year), "published")] == published
        assert points[(str(year), "reproduced")] == reproduced


def test_the_wrong_file_is_said(data_dir: Path, ucdp_dir: Path) -> None:
    """Candidate 22.0.2 events given to a GED 19.1 recipe: the reasons say so."""
    candidate = trends.read_ucdp_ged(ucdp_dir / "ged_candidate_22_0_2.csv")
    result = reproduce("owid-iraq-2003-2018-ged191", data=candidate, data_dir=data_dir)
    assert result.verdict == "differs" and (result.table["reproduced"] == 0).all()
    text = " ".join(result.reasons)
    assert "the data read is ucdp-candidate 22.0.2, but the recipe names ucdp-ged 19.1" in text
    assert "0% of the data's events fall inside the coverage window of ucdp-ged 19.1" in text


def test_html_escapes_text_from_recipes_and_data(data_dir: Path, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    text = BASE.replace('id = "test"', f'id = "test"\ntitle = "{hostile}"').replace(
        "a made-up figure for the test", hostile
    )
    text += f'[differences]\nnote = "{hostile}"\n'
    text = text.replace("[published]", '[published]\nurl = "javascript:alert(2)"')
    result = reproduce(_write(tmp_path, text), data_dir=data_dir)
    page = result.to_html(tmp_path / "page.html").read_text(encoding="utf-8")
    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="javascript' not in page and "javascript:alert(2)" in page  # text, not a link


def test_a_row_without_a_published_number_is_not_tested(data_dir: Path, tmp_path: Path) -> None:
    text = BASE.replace("events = 17 }]", 'events = 17 }, { country = "Iraq" }]')
    text = text.replace('country = ["Iraq"]\n[count]', 'country = ["Iraq", "Syria"]\n[count]')
    text = text.replace('{ country = "Iraq" }]', '{ country = "Syria" }]')
    result = reproduce(_write(tmp_path, text), data_dir=data_dir)
    syria = _row(result.table, country="Syria")
    assert syria["status"] == "not tested" and syria["note"] == "no published number to compare"
    assert result.verdict == "reproduced within tolerance"
    assert "(NOT as the recipe expects" not in result.summary()


def test_grouping_by_month_and_the_coverage_window(data_dir: Path, tmp_path: Path) -> None:
    """Candidate 22.0.2 covers February 2022 only: a January number is not tested."""
    text = BASE.replace('group_by = ["country"]', 'group_by = ["month"]').replace(
        'rows = [{ country = "Iraq", events = 17 }]',
        'rows = [{ month = "2022-02", events = 18 }, { month = "2022-01", events = 0 }]',
    )
    result = reproduce(_write(tmp_path, text), data_dir=data_dir)
    feb, jan = (_row(result.table, month=m) for m in ("2022-02", "2022-01"))
    assert (feb["reproduced"], feb["status"]) == (18, "exact")
    assert jan["status"] == "not tested" and "2022-02-01 to 2022-02-28" in jan["note"]
    assert result.verdict == "reproduced exactly"


def test_any_format_trends_reads(ucdp_dir: Path, tmp_path: Path) -> None:
    """The recount reads with trends.read(): a canonical CSV (not a UCDP file) gives the
    same numbers, and the canonical fatalities_low/high give the range."""
    from trends.incidents import CANONICAL_COLUMNS

    incidents = trends.read(ucdp_dir / "ged_candidate_22_0_2.csv")
    data = tmp_path / "canonical.csv"
    incidents.data[[c for c in CANONICAL_COLUMNS if c != "region_raw"]].to_csv(data, index=False)
    text = BASE.replace(
        'rows = [{ country = "Iraq", events = 17 }]',
        'rows = [{ country = "Iraq", events = 18, deaths = 200 }]',
    ).replace(
        "[published]", '[[count.measures]]\nname = "deaths"\nwhat = "sum"\n'
        'column = "fatalities"\n\n[published]',
    )  # fmt: skip
    path = tmp_path / "canonical.toml"
    path.write_text(text, encoding="utf-8")
    via_csv = reproduce(path, data=data)
    via_ucdp = reproduce(path, data=ucdp_dir / "ged_candidate_22_0_2.csv")
    assert via_csv.source["dataset_id"] is None  # read as a canonical table, not as UCDP
    assert via_ucdp.source["dataset_id"] == "ucdp-candidate"
    pd.testing.assert_frame_equal(via_csv.table, via_ucdp.table)
    raw = pd.read_csv(ucdp_dir / "ged_candidate_22_0_2.csv")
    iraq = raw[raw["country"] == "Iraq"]
    deaths = _row(via_csv.table, country="Iraq", measure="deaths")
    assert deaths["reproduced"] == iraq["best"].sum()
    assert (deaths["reproduced_low"], deaths["reproduced_high"]) == (
        iraq["low"].sum(),
        iraq["high"].sum(),
    )
    assert _row(via_csv.table, country="Iraq", measure="events")["reproduced"] == len(iraq)


def test_grouping_by_quarter(ucdp_dir: Path, tmp_path: Path) -> None:
    """Any period of trends.periods groups the rows: Iraq's events by quarter of 2021."""
    text = BASE.replace('group_by = ["country"]', 'group_by = ["quarter"]')
    text = text.replace('version = "22.0.2"', 'version = "21.01.21.12"')
    text = text.replace(
        'rows = [{ country = "Iraq", events = 17 }]',
        'rows = [{ quarter = "2021Q1", events = 1 }, { quarter = "2021Q3", events = 1 },'
        ' { quarter = "2022Q1", events = 1 }]',
    )
    path = tmp_path / "quarters.toml"
    path.write_text(text, encoding="utf-8")
    data = ucdp_dir / "ged_candidate_21_01_21_12.csv"
    result = reproduce(path, data=data)
    raw = pd.read_csv(data)
    iraq = pd.to_datetime(raw.loc[raw["country"] == "Iraq", "date_start"])
    by_quarter = iraq.dt.to_period("Q").value_counts()
    for quarter in ("2021Q1", "2021Q3"):
        row = _row(result.table, quarter=quarter)
        assert row["reproduced"] == by_quarter[pd.Period(quarter, freq="Q")]
    late = _row(result.table, quarter="2022Q1")  # after the release's window
    assert late["status"] == "not tested" and "2022-01-01 to 2022-03-31" in late["note"]
