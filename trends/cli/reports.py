"""The subcommands that write pages or fetch files: report, demo, reproduce, fetch."""

from __future__ import annotations

import argparse

from .console import info, prepare_kernels
from .options import (
    add_joinpoint_search,
    add_rules,
    add_windows,
    check_outputs,
    inputs_of,
    joinpoint_options,
    read_input,
    windows_of,
    write,
)

__all__ = [
    "REPRODUCE_PARSER",
    "add_demo_options",
    "add_fetch_options",
    "add_report_options",
    "add_reproduce_options",
    "run_demo",
    "run_fetch",
    "run_report",
    "run_reproduce",
]


def add_report_options(p: argparse.ArgumentParser) -> None:
    from ..alarm import ALIASES
    from ..alarm import METHODS as ALARMS
    from ..output import TABLE_FORMATS
    from ..trend_tests import METHODS

    p.add_argument("-o", "--output", default="report.html", help="HTML file (default: report.html)")
    add_windows(p)
    p.add_argument("--figures", metavar="DIR", help="also save each chart as SVG and PNG here")
    p.add_argument(
        "--tables",
        metavar="DIR",
        help="also write every table the report shows here (cells, rates, coverage, "
        "comparison, trend, alarms, joinpoints, sources, ledger)",
    )
    p.add_argument(
        "--tables-format",
        default="csv",
        choices=sorted(set(TABLE_FORMATS.values())),
        help="format of the --tables files (default: csv)",
    )
    p.add_argument("--title")
    add_rules(p)
    p.add_argument("--trend-method", default="quasipoisson", choices=METHODS)
    p.add_argument(
        "--alarm-method",
        choices=[*ALARMS, *ALIASES],
        help="method of the unusual periods (default: noufaily; bayes for years and for "
        "series no longer than Farrington's 3 years of baseline)",
    )
    add_joinpoint_search(p)
    p.add_argument(
        "--timestamp",
        action="store_true",
        help="print the time of the run (or $SOURCE_DATE_EPOCH) in the footer",
    )


def add_demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=2024, help="seed of the synthetic data")


def _report(incidents, args: argparse.Namespace, before, after) -> None:
    """Analyse once; write the page, and the figures and tables when asked."""
    from ..output import staging, write_text
    from ..periods import describe_windows
    from ..reporting.analysis import analyse
    from ..reporting.build import _timestamp, render, save_figures

    check_outputs(args, args.output)
    prepare_kernels()
    res = analyse(
        incidents,
        region=args.region,
        period=args.period,
        before=before,
        after=after,
        rules=args.rules,
        trend_method=args.trend_method,
        joinpoint_options=joinpoint_options(args),
        start=args.start,
        end=args.end,
        span=args.span,
        alarm_method=args.alarm_method,
    )
    if res.options["windows"] == "default":
        windows = describe_windows(res.options["before"], res.options["after"], res.period)
        info(f"comparing {windows} (the default)")
    page = render(res, title=args.title, timestamp=_timestamp(True if args.timestamp else None))
    inputs = inputs_of(args)
    write_text(args.output, page.render(), inputs=inputs)
    info(f"wrote {args.output}")
    if args.figures:
        with staging(args.figures, inputs=inputs) as folder:
            save_figures(page, folder)
        info(f"wrote the figures into {args.figures}")
    if args.tables:
        plain = res.plain()
        tables = {
            "cells": plain.cells,
            "rates": plain.rates,
            "coverage": plain.coverage,
            "comparison": plain.comparison,
            "trend": plain.trend,
            "alarms": plain.alarms,
            "joinpoints": plain.joinpoints,
            "sources": plain.sources,
            "ledger": plain.ledger,
        }
        for name, table in tables.items():
            if table is not None:
                write(table, args, f"{args.tables}/{name}.{args.tables_format}")


def run_report(args: argparse.Namespace) -> None:
    check_outputs(args, args.output)
    incidents = read_input(args)
    before, after = _given_windows(args)
    _report(incidents, args, before, after)


def _given_windows(args: argparse.Namespace):
    if args.before is None and args.after is None:
        return None, None  # the report's default, said when it is chosen
    return windows_of(args, None)


def run_demo(args: argparse.Namespace) -> None:
    """The synthetic demo data; unless told otherwise, compare the whole years on each
    side of the month where its planted changes happen (a real doubling in one region,
    a main outlet going silent in another: :func:`trends.datasets.demo_windows`), so the
    report shows what ``trends`` makes of each."""
    from ..datasets import demo_windows, simulate

    check_outputs(args, args.output)
    before, after = _given_windows(args)
    incidents, truth = simulate(seed=args.seed, return_truth=True)
    if before is None:
        before, after = demo_windows(truth)
    _report(incidents, args, before, after)


#: Exit status of ``trends reproduce`` by verdict; 1 (internal error) and 2 (bad input
#: or usage) keep their meaning. Documented in its --help and reports/recipes/README.md.
def _reproduce_exit() -> dict[str, int]:
    from ..verdicts import DIFFERS, REPRODUCED_EXACTLY, REPRODUCED_WITHIN, UNTESTABLE

    return {REPRODUCED_EXACTLY: 0, REPRODUCED_WITHIN: 0, DIFFERS: 3, UNTESTABLE: 4}


def _reproduce_epilog() -> str:
    from ..verdicts import DIFFERS, REPRODUCED_EXACTLY, REPRODUCED_WITHIN, UNTESTABLE

    return f"""exit status:
  0  {REPRODUCED_EXACTLY}, or {REPRODUCED_WITHIN} (the recipe's)
  3  {DIFFERS}: a tested number lies outside the recipe's tolerance
  4  {UNTESTABLE}: no published number could be tested
  2  bad input or usage: a malformed recipe, a missing or unreadable file
  1  internal error (rerun with --debug for the traceback)"""


REPRODUCE_PARSER = {
    "description": "Recount a published figure (or check a published claim) from the data\n"
    "its recipe names, and compare. A recipe carries the numbers it checks: the\n"
    "event file is all it needs (trends reproduce RECIPE --data FILE).",
    "formatter_class": argparse.RawDescriptionHelpFormatter,
}


def add_reproduce_options(p: argparse.ArgumentParser) -> None:
    p.epilog = _reproduce_epilog()
    p.add_argument("recipe", nargs="?", help="a shipped recipe's id, or a recipe TOML file")
    p.add_argument("--list", action="store_true", help="list the shipped recipes and exit")
    p.add_argument(
        "--data",
        metavar="FILE",
        help="the recipe's event file, in any format trends reads (default: the recipe's "
        "file name, looked up in --data-dir, $TRENDS_DATA and the recipe's folder)",
    )
    p.add_argument(
        "--data-dir", help="folder the recipe's file names are resolved in (default: $TRENDS_DATA)"
    )
    p.add_argument("-o", "--output", help="HTML page to write (table, chart, verdict)")
    p.add_argument("--csv", help="also write the published-vs-reproduced table (.csv or .parquet)")


def run_reproduce(args: argparse.Namespace) -> int:
    from ..errors import OptionError
    from ..reproduction import list_recipes, reproduce

    if args.list:
        for row in list_recipes().itertuples(index=False):
            print(f"{row.id}  [{row.dataset} {row.version}; expected: {row.expected}]")
            print(f"    {row.reproduces}")
        return 0
    if not args.recipe:
        raise OptionError(
            "reproduce needs a RECIPE (a shipped recipe's id or a TOML file); --list lists them"
        )
    check_outputs(args, args.output, args.csv)
    result = reproduce(args.recipe, data=args.data, data_dir=args.data_dir)
    shown = result.table.drop(columns=["coverage_reasons", "note"], errors="ignore")
    info(shown.to_string(index=False))
    info(result.summary())
    if args.csv:
        write(result.table, args, args.csv)
    if args.output:
        info(f"wrote {result.to_html(args.output)}")
    return _reproduce_exit()[result.verdict]


def add_fetch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", nargs="?", help="registry id (e.g. ucdp-ged); --list lists them")
    p.add_argument("version", nargs="?", help="release (e.g. 19.1)")
    p.add_argument(
        "--list", action="store_true", help="list the data sets, releases and where to get them"
    )
    p.add_argument(
        "--cache", metavar="DIR", help="cache folder (default: $TRENDS_CACHE or ~/.cache/trends)"
    )
    p.add_argument("--url", help="download from this address instead (a mirror, or file://)")
    p.add_argument("--force", action="store_true", help="download again even if cached")


def run_fetch(args: argparse.Namespace) -> None:
    from .. import registry
    from ..errors import OptionError
    from ..fetch import fetch, where_to_get

    if args.list:
        for dataset in registry.ids():
            for version in registry.get(dataset).get("versions", {}):
                print(f"{dataset} {version}: {where_to_get(dataset, version)}")
        return
    if not args.dataset or not args.version:
        raise OptionError(
            "fetch needs a DATASET and a VERSION (e.g. ucdp-ged 19.1); --list lists them"
        )
    path = fetch(args.dataset, args.version, cache=args.cache, url=args.url, force=args.force)
    print(path)
