"""The README's three questions, asked from the command line alone on the shared UCDP files."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

import trends
from trends import registry
from trends.cli import main
from trends.output import FORMULA_PREFIXES

pytestmark = pytest.mark.shared


def test_a_monthly_is_events_by_iraqi_province_2014_2018_with_a_report(ucdp_dir, tmp_path, capsys):
    """trends report ged191_iraq.csv --where side_a=IS --where date_start__between=2014..2018
    --start 2014-01 --end 2018-12 -o iraq_is.html --tables iraq_is"""
    tables = tmp_path / "iraq_is"
    status = main(
        [
            "report", str(ucdp_dir / "ged191_iraq.csv"),
            "--where", "side_a=IS", "--where", "date_start__between=2014..2018",
            "--start", "2014-01", "--end", "2018-12",
            "-o", str(tmp_path / "iraq_is.html"), "--tables", str(tables),
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "the last 12 complete months (2018-01 to 2018-12) against the 12 before" in out
    ledger = pd.read_csv(tables / "ledger.csv")
    reasons = dict(zip(ledger["reason"], ledger["rows"], strict=True))
    assert reasons["filtered out: side_a != IS"] == 6097
    assert ledger["rows"].sum() == 7473  # every row of the file accounted for
    cells = pd.read_csv(tables / "cells.csv")
    assert cells["count"].sum() == reasons["kept"]
    assert cells["period"].min() == "2014-01" and cells["period"].max() == "2018-12"
    html = (tmp_path / "iraq_is.html").read_text(encoding="utf-8")
    assert "side_a=IS; date_start__between=2014..2018" in html
    assert "Nīnawá" in set(cells["region"])


def test_b_syria_2018_against_2019(ucdp_dir, tmp_path, capsys):
    """trends compare ged_syria_652_1601_1911.csv --period year --before 2018 2018
    --after 2019 2019 -o syria.csv (the file ends in November 2019: rates per day of
    exposure make the two years comparable)"""
    out = tmp_path / "syria.csv"
    path = ucdp_dir / "ged_syria_652_1601_1911.csv"
    status = main(["compare", str(path), "--period", "year", "--before", "2018", "2018",
                   "--after", "2019", "2019", "-o", str(out)])  # fmt: skip
    assert status == 0, capsys.readouterr().err
    table = pd.read_csv(out)
    dates = pd.to_datetime(pd.read_csv(path, usecols=["date_start"])["date_start"])
    assert table["count_before"].sum() == (dates.dt.year == 2018).sum()
    assert table["count_after"].sum() == (dates.dt.year == 2019).sum()
    assert set(table["exposure_after"]) == {334.0}  # January to November 2019
    assert {"rate_ratio", "rr_low", "rr_high", "qvalue", "verdict"} <= set(table.columns)


def test_c_the_3400_killed_claim_with_ucdps_range(ucdp_dir, tmp_path, capsys):
    """trends reproduce claim-hashimi-2020-killed --data ged191_iraq.csv --csv claim.csv"""
    out = tmp_path / "claim.csv"
    status = main(["reproduce", "claim-hashimi-2020-killed", "--data",
                   str(ucdp_dir / "ged191_iraq.csv"), "--csv", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 3  # differs, as the recipe expects
    assert (
        "lies below the range of the data's own low and high estimates (3,774 to 4,374" in printed
    )
    row = pd.read_csv(out).iloc[0]
    assert (row["published"], row["reproduced_low"], row["reproduced_high"]) == (3400, 3774, 4374)
    with out.open(encoding="utf-8", newline="") as handle:
        cells = [cell for line in csv.reader(handle) for cell in line]
    assert not [c for c in cells if c.startswith(FORMULA_PREFIXES) and not c[1:2].isdigit()]


def test_outlet_spellings_are_merged_and_the_raw_names_kept(ucdp_dir):
    inc = trends.read(ucdp_dir / "ged_syria_652_1601_1911.csv")
    for raw_name, name in (("Air Wars", "Airwars"), ("HRW", "Human Rights Watch")):
        named = (
            inc.data["sources_raw"]
            .str.split(";")
            .map(
                lambda names, raw_name=raw_name: raw_name in [n.strip() for n in names],
                na_action="ignore",
            )
        )
        named = named.fillna(False).astype(bool)
        assert named.sum() > 0
        merged = inc.data.loc[named, "sources"].str.split(";")
        assert merged.map(lambda names, name=name, raw_name=raw_name: name in names
                          and raw_name not in names).all()  # fmt: skip


def test_fetch_downloads_and_checksums_a_release(ucdp_dir, tmp_path, capsys):
    """trends fetch ucdp-candidate 22.0.2 (here from a local copy: no network in tests)."""
    source = ucdp_dir / "ged_candidate_22_0_2.csv"
    argv = ["fetch", "ucdp-candidate", "22.0.2", "--url", source.as_uri(), "--cache", str(tmp_path)]
    assert main(argv) == 0
    path = capsys.readouterr().out.strip()
    assert path.endswith("ged_candidate_22_0_2.csv")
    assert open(path, "rb").read() == source.read_bytes()  # noqa: PTH123
    assert main(["fetch", "--list"]) == 0
    listed = capsys.readouterr().out
    for dataset in registry.ids():
        assert f"\n{dataset} " in "\n" + listed


def test_the_readme_alarm_line_is_what_the_command_prints(ucdp_dir, tmp_path, capsys):
    """README, "Is this month unusual?": trends alarms ged_syria_652_1601_1911.csv
    --period month -o alarms.csv"""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    said = readme.split("### Is this month unusual?")[1].split("```")[3]
    out_csv = tmp_path / "alarms.csv"
    argv = ["alarms", str(ucdp_dir / "ged_syria_652_1601_1911.csv"), "--period", "month",
            "-o", str(out_csv)]  # fmt: skip
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 0, err
    line = next(x for x in out.splitlines() if x.startswith("alarms ("))
    assert " ".join(said.split()) == " ".join(line.split())
    table = pd.read_csv(out_csv)
    assert (table["verdict"] == "unusually high").sum() == 14
