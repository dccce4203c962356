"""The analyst's workflow from the command line: every step, own data, safe outputs."""

from __future__ import annotations

import csv
import errno
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trends.cli import main
from trends.testing import formula_cells

REPO = Path(__file__).resolve().parents[1]


def own_log(path: Path, *, regions=("North", "South"), sources=("Outlet A", "Outlet B")) -> Path:
    """A hand-made incident log in its own column names, Jan 2016 - 17 Mar 2018."""
    rng = np.random.default_rng(5)
    days = pd.date_range("2016-01-01", "2018-03-17", freq="D")
    picked = np.sort(rng.choice(len(days), size=400, replace=False))
    picked[-1] = len(days) - 1  # the last event on 17 March 2018
    frame = pd.DataFrame(
        {
            "id": [f"x{i}" for i in range(len(picked))],
            "day": days[picked].strftime("%Y-%m-%d"),
            "nation": "Iraq",
            "province": [regions[i % len(regions)] for i in range(len(picked))],
            "who": ["IS" if i % 3 else "Government" for i in range(len(picked))],
            "outlets": [sources[i % len(sources)] for i in range(len(picked))],
            "killed": rng.integers(0, 5, len(picked)),
        }
    )
    frame.to_csv(path, index=False)
    return path


COLUMNS = "event_id=id,date_start=day,country=nation,region=province,actor=who,sources=outlets,fatalities=killed"


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# ----------------------------------------------------------------------------- own data


def test_own_data_needs_and_takes_a_column_map(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    status, _, err = run(["rates", log, "-o", tmp_path / "r.csv"], capsys)
    assert status == 2 and err.count("\n") == 1 and "column map" in err
    status, out, err = run(["rates", log, "--columns", COLUMNS, "-o", tmp_path / "r.csv"], capsys)
    assert status == 0, err
    table = pd.read_csv(tmp_path / "r.csv")
    assert table["count"].sum() == 400 and set(table["region"]) == {"North", "South"}
    assert "wrote" in out


def test_a_bad_column_map_is_a_usage_error(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    for columns in ("event_id", "event_id=id,nonsense=day", "event_id=nope,date_start=day"):
        status, _, err = run(["rates", log, "--columns", columns, "-o", tmp_path / "r.csv"], capsys)
        assert status == 2 and err.count("\n") == 1, (columns, err)
    status, _, err = run(
        ["rates", log, "--columns", COLUMNS, "--format", "ucdp", "-o", tmp_path / "r.csv"], capsys
    )
    assert status == 2 and "--columns" in err


def test_coverage_declares_the_window_so_the_last_month_is_whole(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    base = ["count", log, "--columns", COLUMNS, "-o"]
    assert run([*base, tmp_path / "a.csv"], capsys)[0] == 0
    assert run([*base, tmp_path / "b.csv", "--coverage", "2016-01..2018-03"], capsys)[0] == 0
    by_data = pd.read_csv(tmp_path / "a.csv").query("period == '2018-03'")
    declared = pd.read_csv(tmp_path / "b.csv").query("period == '2018-03'")
    assert set(by_data["exposure"]) == {17.0}  # first event to last: a partial month
    assert set(declared["exposure"]) == {31.0}
    status, _, err = run([*base, tmp_path / "c.csv", "--coverage", "2018..2016"], capsys)
    assert status == 2 and "ends before it starts" in err


def test_population_gives_per_capita_rates_and_names_a_missing_region(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    pop = tmp_path / "pop.csv"
    rows = [
        (r, y, p) for r, p in (("North", 2_000_000), ("South", 500_000)) for y in (2016, 2017, 2018)
    ]
    pd.DataFrame(rows, columns=["region", "year", "population"]).to_csv(pop, index=False)
    out = tmp_path / "r.csv"
    argv = ["rates", log, "--columns", COLUMNS, "--period", "year", "--population", pop, "-o", out]
    status, _, err = run(argv, capsys)
    assert status == 0, err
    table = pd.read_csv(out, dtype={"period": str})
    assert set(table["rate_unit"]) == {"per 100,000 people per year"}
    north = table.query("region == 'North' and period == '2016'").iloc[0]
    person_years = 2_000_000 * north["exposure"] / 365.25
    assert north["rate"] == pytest.approx(north["count"] / person_years * 100_000, rel=1e-9)
    # an event located no finer than the country needs a population for "(unknown)"
    frame = pd.read_csv(log)
    frame.loc[0, "province"] = None
    frame.to_csv(log, index=False)
    status, _, err = run(argv, capsys)
    assert status == 2 and err.count("\n") == 1 and "'(unknown)'" in err


def test_population_file_errors_name_file_row_and_column(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    pop = tmp_path / "pop.csv"
    pop.write_text("region,year,population\nNorth,2016,many\n", encoding="utf-8")
    argv = ["rates", log, "--columns", COLUMNS, "--population", pop, "-o", tmp_path / "r.csv"]
    status, _, err = run(argv, capsys)
    assert status == 2 and "pop.csv, row 1, column 'population'" in err


# ----------------------------------------------------------------------------- every step


STEPS = {
    "count": [],
    "rates": ["--method", "exact"],
    "compare": [],
    "trend": ["--method", "poisson"],
    "joinpoints": ["--max-joinpoints", "1", "--permutations", "19"],
    "coverage": ["--rules", "default"],
    "alarms": ["--method", "bayes"],
}


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_every_step_writes_csv_or_parquet_by_extension(tmp_path, capsys, step, ext):
    log = own_log(tmp_path / "log.csv")
    out = tmp_path / f"out.{ext}"
    status, _, err = run(
        [step, log, "--columns", COLUMNS, "--coverage", "2016..2018-03", *STEPS[step], "-o", out],
        capsys,
    )
    assert status == 0, err
    table = pd.read_csv(out) if ext == "csv" else pd.read_parquet(out)
    assert len(table) > 0 and "region" in table.columns


def test_options_come_from_the_steps_registries():
    from trends.alarm import ALIASES, METHODS
    from trends.cli.commands import COMMANDS, parser
    from trends.comparison import METHODS as COMPARE
    from trends.estimation import RATE_METHODS
    from trends.trend_tests import METHODS as TREND

    assert {"count", "rates", "compare", "trend", "joinpoints", "coverage", "report",
            "reproduce", "fetch", "demo", "alarms"} <= set(COMMANDS.names())  # fmt: skip
    sub = next(a for a in parser()._actions if a.dest == "command")
    for name, dest, valid in (("rates", "method", RATE_METHODS), ("compare", "method", COMPARE),
                              ("trend", "method", TREND)):  # fmt: skip
        action = next(a for a in sub.choices[name]._actions if a.dest == dest)
        assert tuple(action.choices) == tuple(valid)
    for name, dest in (("alarms", "method"), ("report", "alarm_method"),
                       ("demo", "alarm_method")):  # fmt: skip
        action = next(a for a in sub.choices[name]._actions if a.dest == dest)
        assert tuple(action.choices) == (*METHODS, *ALIASES)


# ----------------------------------------------------------------------------- alarms


def test_alarms_default_method_and_summary_line(tmp_path, capsys):
    """27 months are no longer than Farrington's 3 years of baseline: Bayes, said so."""
    log = own_log(tmp_path / "log.csv")
    out = tmp_path / "a.csv"
    status, stdout, err = run(["alarms", log, "--columns", COLUMNS, "-o", out], capsys)
    assert status == 0, err
    table = pd.read_csv(out)
    assert set(table["method"]) == {"bayes"}
    assert len(table) == 2 * 27  # every region x month, the first ones too short to call
    assert (table["verdict"] == "too short to call").sum() == 2 * 6  # w=6 periods of baseline
    assert (
        "alarms (bayes): " in stdout and "regions monitored give about 1.2 false alarms" in stdout
    )


def test_alarms_options_fdr_restart_and_reported_periods(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    out = tmp_path / "a.parquet"
    argv = ["alarms", log, "--columns", COLUMNS, "--method", "ears", "--direction", "both",
            "--fdr", "0.1", "--restart", "2017-04", "--start", "2017-10", "--end", "2018-01",
            "--option", "alpha=0.01", "-o", out]  # fmt: skip
    status, stdout, err = run(argv, capsys)
    assert status == 0, err
    table = pd.read_parquet(out)
    assert sorted(set(table["period"])) == ["2017-10", "2017-11", "2017-12", "2018-01"]
    assert set(table["method"]) == {"ears-c1"}  # the alias, as its method
    assert table["qvalue"].notna().any() and "with fdr=0.1" in stdout
    assert table["parameters"].str.contains("alpha=0.01").all()
    # the baseline restarts in 2017-04: EARS C1 needs 7 months, which 2017-11 has, not 2017-10
    short = table["verdict"] == "too short to call"
    assert (
        short[table["period"] == "2017-10"].all() and not short[table["period"] == "2017-11"].any()
    )


@pytest.mark.parametrize(
    "extra, said",
    [
        (["--option", "bogus=1"], "has no option(s) 'bogus'; its options are"),
        (["--option", "alpha"], "--option 'alpha' is not NAME=VALUE"),
        (["--restart", "2017-07,,2018-01"], "is not 'joinpoints' nor a comma list"),
        (["--method", "ears-c3", "--direction", "low"], "direction='low' is not one of 'high'"),
        (["--method", "nope"], "invalid choice: 'nope'"),
    ],
)
def test_alarms_bad_options_are_one_line_exit_2(tmp_path, capsys, extra, said):
    log = own_log(tmp_path / "log.csv")
    out = tmp_path / "a.csv"
    status, _, err = run(["alarms", log, "--columns", COLUMNS, *extra, "-o", out], capsys)
    assert status == 2 and said in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_alarms_restart_at_joinpoints_without_a_bar_off_a_terminal(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    out = tmp_path / "a.csv"
    argv = ["alarms", log, "--columns", COLUMNS, "--restart", "joinpoints", "--max-joinpoints",
            "1", "--permutations", "19", "-o", out]  # fmt: skip
    status, _, err = run(argv, capsys)
    assert status == 0 and "|" not in err and "compiling" not in err
    assert len(pd.read_csv(out)) == 2 * 27


def test_report_takes_the_alarm_method(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    page = tmp_path / "r.html"
    status, _, err = run(["report", log, "--columns", COLUMNS, "--max-joinpoints", "0",
                          "--alarm-method", "ears-c2", "-o", page, "--quiet"], capsys)  # fmt: skip
    assert status == 0, err
    section = page.read_text(encoding="utf-8").split('<section id="alarms">')[1]
    section = section.split("</section>")[0]
    assert "the method asked for, ears-c2" in section and "Latest month: 2018-02" in section


def test_compare_defaults_to_the_last_twelve_complete_months(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    out = tmp_path / "c.csv"
    # coverage by the data ends on 17 March 2018: March is incomplete and not compared
    status, stdout, err = run(["compare", log, "--columns", COLUMNS, "-o", out], capsys)
    assert status == 0, err
    assert "the last 12 complete months (2017-03 to 2018-02) against the 12 before " \
        "(2016-03 to 2017-02) (the default)" in stdout  # fmt: skip
    table = pd.read_csv(out)
    assert set(table["before"]) == {"2016-03..2017-02"} and set(table["after"]) == {
        "2017-03..2018-02"
    }
    status, _, err = run(["compare", log, "--columns", COLUMNS, "--before", "2016-01", "2016-06",
                          "-o", out], capsys)  # fmt: skip
    assert status == 2 and "both --before and --after" in err


def test_where_filters_and_the_ledger_counts_them(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    tables = tmp_path / "tables"
    status, _, err = run(
        ["report", log, "--columns", COLUMNS, "--where", "actor=IS", "--where",
         "date_start__between=2016..2017", "--max-joinpoints", "0", "-o", tmp_path / "r.html",
         "--tables", tables, "--quiet"],
        capsys,
    )  # fmt: skip
    assert status == 0, err
    ledger = pd.read_csv(tables / "ledger.csv")
    reasons = dict(zip(ledger["reason"], ledger["rows"], strict=True))
    assert reasons["filtered out: actor != IS"] == 134
    assert "filtered out: date_start outside 2016-01-01..2017-12-31" in reasons
    assert ledger["rows"].sum() == 400
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "actor=IS; date_start__between=2016..2017" in html
    assert {p.name for p in tables.iterdir()} >= {"cells.csv", "rates.csv", "coverage.csv",
                                                  "comparison.csv", "trend.csv", "sources.csv"}  # fmt: skip
    status, _, err = run(["rates", log, "--columns", COLUMNS, "--where", "actor~IS", "-o",
                          tmp_path / "x.csv"], capsys)  # fmt: skip
    assert status == 2 and "filter 'actor~IS' is not COLUMN=VALUE" in err


# ----------------------------------------------------------------------------- exit status


def test_a_bare_valueerror_inside_is_a_bug_exit_1(tmp_path, capsys, monkeypatch):
    import trends.estimation

    def broken(*args, **kwargs):
        raise ValueError("SVD did not converge in Linear Least Squares")

    monkeypatch.setattr(trends.estimation, "rates", broken)
    log = own_log(tmp_path / "log.csv")
    argv = ["rates", log, "--columns", COLUMNS, "-o", tmp_path / "r.csv"]
    status, _, err = run(argv, capsys)
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("trends: internal error: ValueError: SVD did not converge")
    assert "--debug" in err and not (tmp_path / "r.csv").exists()
    with pytest.raises(ValueError, match="SVD"):
        main([*map(str, argv), "--debug"])


def test_bad_source_date_epoch_is_one_line_exit_2(tmp_path):
    env = {**os.environ, "SOURCE_DATE_EPOCH": "notanumber", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "trends", "demo", "-o", str(tmp_path / "d.html")],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "SOURCE_DATE_EPOCH='notanumber'" in result.stderr
    assert not (tmp_path / "d.html").exists()


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
def test_an_output_that_resolves_to_the_input_is_refused(tmp_path, capsys, how):
    log = own_log(tmp_path / "log.csv")
    before = log.read_bytes()
    target = {"same": log, "symlink": tmp_path / "link.csv", "hardlink": tmp_path / "hard.csv"}[how]
    if how == "symlink":
        target.symlink_to(log)
    elif how == "hardlink":
        os.link(log, target)
    for step in ("rates", "compare", "trend", "report"):
        status, _, err = run([step, log, "--columns", COLUMNS, "-o", target], capsys)
        assert status == 2 and err.count("\n") == 1 and "refusing to write" in err, (step, err)
    assert log.read_bytes() == before


def test_a_full_disk_names_the_file_and_leaves_the_old_one(tmp_path, capsys, monkeypatch):
    import trends.output

    log = own_log(tmp_path / "log.csv")
    out = tmp_path / "rates.csv"
    out.write_text("old\n", encoding="utf-8")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(trends.output.os, "fsync", full)
    status, _, err = run(["rates", log, "--columns", COLUMNS, "-o", out], capsys)
    assert status == 2
    assert err == f"trends: cannot write {out}: No space left on device\n"
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "rates.csv"]


# ----------------------------------------------------------------------------- console


def test_quiet_prints_nothing_and_warnings_are_one_line(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv", regions=("North", "South", "Tiny"))
    frame = pd.read_csv(log)
    frame = frame[(frame["province"] != "Tiny") | (frame.index < 3)]  # a region too thin to call
    frame.to_csv(log, index=False)
    argv = ["compare", log, "--columns", COLUMNS, "-o", tmp_path / "c.csv"]
    status, out, err = run(argv, capsys)
    assert status == 0
    lines = err.splitlines()
    assert lines and all(line.startswith("trends: warning: ") for line in lines), err
    assert "RuntimeWarning" not in err and "warnings.warn" not in err
    status, out, err = run([*argv, "--quiet"], capsys)
    assert status == 0 and out == "" and err == ""


def test_numerical_library_warnings_never_reach_stderr_raw(capsys):
    import warnings

    from trends.cli.console import console
    from trends.errors import ThinCoverageWarning

    with console():
        np.log(np.zeros(1))  # numpy's "divide by zero" RuntimeWarning
        warnings.warn("overflow encountered", RuntimeWarning, stacklevel=1)
        warnings.warn("2 verdicts withheld\n  see the table", ThinCoverageWarning, stacklevel=1)
        warnings.warn("2 verdicts withheld\n  see the table", ThinCoverageWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert err == "trends: warning: 2 verdicts withheld see the table\n"


def test_no_progress_bar_off_a_terminal(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    argv = ["joinpoints", log, "--columns", COLUMNS, "--max-joinpoints", "1", "--permutations",
            "19", "-o", tmp_path / "j.csv"]  # fmt: skip
    status, _, err = run(argv, capsys)
    assert status == 0 and "|" not in err and "compiling" not in err


# ----------------------------------------------------------------------------- hostile names

HOSTILE = st.sampled_from(
    [
        '=HYPERLINK("http://evil.example","x")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-1+cmd|' /C calc'!A0",
        "=1+1",
        "\t=2",
    ]
)


@pytest.mark.slow
@settings(max_examples=4, deadline=None)
@given(region=HOSTILE, source=HOSTILE)
def test_property_hostile_names_give_no_formula_cell_in_any_csv(tmp_path_factory, region, source):
    tmp = tmp_path_factory.mktemp("hostile")
    log = own_log(tmp / "log.csv", regions=(region, "Plain"), sources=(source, "Plain outlet"))
    for step in sorted(STEPS):
        out = tmp / f"{step}.csv"
        argv = [step, log, "--columns", COLUMNS, "--coverage", "2016..2018-03", *STEPS[step],
                "-o", out, "--quiet"]  # fmt: skip
        assert main([str(a) for a in argv]) == 0, step
        assert formula_cells(out.read_text(encoding="utf-8")) == [], step
        cells = _csv_text_cells(out.read_text(encoding="utf-8"))
        assert "'" + region.strip() in cells, step  # neutralised, not dropped


def test_report_tables_have_no_formula_cell(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv", regions=("=HYPERLINK(1)", "@SUM(1)"), sources=("+cmd|x",))
    tables = tmp_path / "t"
    status, _, err = run(["report", log, "--columns", COLUMNS, "--max-joinpoints", "0", "-o",
                          tmp_path / "r.html", "--tables", tables, "--quiet"], capsys)  # fmt: skip
    assert status == 0, err
    for path in tables.iterdir():
        assert formula_cells(path.read_text(encoding="utf-8")) == [], path.name
    assert "'=HYPERLINK(1)" in (tables / "rates.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK(1)" in (tables / "alarms.csv").read_text(encoding="utf-8")


def _csv_text_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_filters_that_keep_nothing_say_what_each_set_aside(tmp_path, capsys):
    log = own_log(tmp_path / "log.csv")
    argv = ["rates", log, "--columns", COLUMNS, "--where", "actor=Nobody", "-o", tmp_path / "r.csv"]
    status, _, err = run(argv, capsys)
    assert status == 2 and err.count("\n") == 1
    assert "no incident meets the --where conditions (filtered out: actor != Nobody: 400)" in err
