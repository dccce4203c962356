"""The command line: results on good input, one line and status 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from trends.cli import main

HEADER = (
    "id,date_start,date_end,date_prec,where_prec,country,adm_1,number_of_sources,source_office,best"
)
GOOD = "1,2016-01-05,2016-01-05,1,1,Iraq,Nīnawá province,2,A;B,3"


def test_rates_on_a_real_file(ucdp_dir, tmp_path, capsys):
    out = tmp_path / "rates.csv"
    status = main(
        [
            "rates",
            str(ucdp_dir / "ged_syria_652_1601_1911.csv"),
            "-o",
            str(out),
            "--period",
            "quarter",
        ]
    )
    assert status == 0
    table = pd.read_csv(out)
    assert {"region", "period", "count", "rate", "rate_low", "rate_high"} <= set(table.columns)
    assert table["count"].sum() == 16566
    assert table["period"].str.match(r"^\d{4}Q[1-4]$").all()


BAD_FILES = {
    "empty.csv": "",
    "header_only.csv": HEADER + "\n",
    "bad_date.csv": f"{HEADER}\n{GOOD}\n2,2016-13-01,2016-01-05,1,1,Iraq,A,1,A,1\n",
    "backwards.csv": f"{HEADER}\n{GOOD}\n2,2016-01-05,2016-01-01,1,1,Iraq,A,1,A,1\n",
    "duplicate.csv": f"{HEADER}\n{GOOD}\n{GOOD}\n",
    "negative.csv": f"{HEADER}\n{GOOD}\n2,2016-01-05,2016-01-05,1,1,Iraq,A,1,A,-1\n",
    "missing_column.csv": HEADER.replace(",adm_1", "")
    + "\n"
    + GOOD.replace(",Nīnawá province", "")
    + "\n",
    "not_a_format.csv": "a,b\n1,2\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_text(BAD_FILES[name], encoding="utf-8")
    status = main(["rates", str(path), "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("trends: ")
    assert "Traceback" not in err
    if name != "empty.csv":
        assert name in err


def test_usage_errors_exit_2_with_one_line(tmp_path):
    for argv in (
        ["rates"],
        ["rates", "x.csv", "-o", "y.csv", "--period", "fortnight"],
        ["nonsense"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "trends.cli", *argv], capture_output=True, text=True, check=False
        )
        assert result.returncode == 2, argv
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["rates", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_is_declared():
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'trends = "trends.cli:main"' in text


def test_joinpoint_options_the_user_gave_are_kept_even_at_the_default():
    """--max-joinpoints 3 is a request (the report then fails a too-short series rather
    than fitting fewer), so it is passed on; options not given are left out."""
    import argparse

    from trends.cli import _joinpoint_options

    given = argparse.Namespace(max_joinpoints=3, permutations=None)
    assert _joinpoint_options(given) == {"max_joinpoints": 3}
    assert _joinpoint_options(argparse.Namespace(max_joinpoints=None, permutations=None)) == {}
