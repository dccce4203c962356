"""The subcommands: one :data:`COMMANDS` entry each.

Adding a subcommand is one entry: a function taking the parsed arguments and
returning the exit status, registered with its help and its options::

    @command("alarms", "unusual periods by region", add_input, _alarm_options, add_output)
    def _alarms(args): ...

Table outputs are CSV or Parquet by the extension, written through
:mod:`trends.output` (never over an input, never half a file, formulas neutralised).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..methods import Registry
from .console import info, prepare_kernels
from .options import (
    add_grouping,
    add_input,
    add_joinpoint_search,
    add_output,
    add_rules,
    add_windows,
    check_outputs,
    count_input,
    joinpoint_options,
    parse_method_options,
    parse_restart,
    read_input,
    read_population,
    windows_of,
    write,
)
from .reports import (
    REPRODUCE_PARSER,
    add_demo_options,
    add_fetch_options,
    add_report_options,
    add_reproduce_options,
    run_demo,
    run_fetch,
    run_report,
    run_reproduce,
)

__all__ = ["COMMANDS", "Command", "command", "parser"]

#: Subcommands by name, in the order ``trends --help`` lists them.
COMMANDS = Registry("command", option="command")

Adder = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """A subcommand: ``run(args) -> exit status``, and what builds its options."""

    run: Callable[[argparse.Namespace], int | None]
    options: tuple[Adder, ...] = ()
    parser_options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, args: argparse.Namespace) -> int | None:
        return self.run(args)


def command(name: str, help: str, *options: Adder, **parser_options: Any):
    """Decorator: register ``run`` as subcommand ``name`` with ``options`` (functions
    that add arguments to its parser); ``parser_options`` go to ``add_parser``."""

    def add(run: Callable[[argparse.Namespace], int | None]):
        COMMANDS.add(name, Command(run, options, parser_options), description=help)
        return run

    return add


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"trends: {' '.join(message.split())} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def parser() -> argparse.ArgumentParser:
    """The ``trends`` parser, one subparser per :data:`COMMANDS` entry."""
    from .. import __version__

    top = _Parser(
        prog="trends",
        description="Trend analysis of reported incidents, honest about coverage.",
        epilog="exit status: 0 done; 1 internal error (a bug; --debug shows the traceback); "
        "2 bad input or usage; reproduce: 3 differs, 4 cannot be tested",
    )
    top.add_argument("--version", action="version", version=f"trends {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    for parser_, default in ((top, False), (common, argparse.SUPPRESS)):
        # on the subcommand too (trends rates ... --quiet), without overriding the top's
        parser_.add_argument(
            "--debug",
            action="store_true",
            default=default,
            help="show tracebacks and debug logging",
        )
        parser_.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            default=default,
            help="no progress bars, warnings or messages; errors only",
        )
    sub = top.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for entry in COMMANDS:
        p = sub.add_parser(
            entry.name, help=entry.description, parents=[common], **entry.func.parser_options
        )
        p.description = p.description or entry.description
        for add in entry.func.options:
            add(p)
        p.set_defaults(run=entry.func)
    return top


# ----------------------------------------------------------------------------- steps


def _count_options(p: argparse.ArgumentParser) -> None:
    add_output(p, "cell table (region x period)")


@command("count", "region x period cells with the coverage measures", add_input, _count_options)
def _count(args: argparse.Namespace) -> None:
    check_outputs(args, args.output)
    write(count_input(read_input(args), args), args)


def _rate_options(p: argparse.ArgumentParser) -> None:
    from ..estimation import DAYS_PER, RATE_METHODS

    add_output(p, "rates table")
    p.add_argument(
        "--method", default="exact", choices=RATE_METHODS, help="interval (default: exact)"
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")
    p.add_argument(
        "--per",
        help=f"unit: one of {', '.join(DAYS_PER)} (default: month), or with --population "
        "a number of people (default: 100000, a rate per 100,000 people per year)",
    )
    p.add_argument(
        "--population",
        metavar="FILE",
        help="CSV or Parquet of region, year, population: per-capita rates. Every region "
        "counted needs a row for every year, '(unknown)' included (events located no finer "
        "than the country); a missing one stops with the region and year named",
    )


@command("rates", "rates with confidence intervals by region and period", add_input, _rate_options)
def _rates(args: argparse.Namespace) -> None:
    from ..estimation import DAYS_PER, rates

    check_outputs(args, args.output)
    population = read_population(args.population)
    per: str | float | None = args.per
    if per is not None and per not in DAYS_PER:
        try:
            per = float(per)
        except ValueError:
            from ..errors import OptionError

            raise OptionError(
                f"--per {args.per!r} is not one of {', '.join(DAYS_PER)} nor a number"
            ) from None
    cells = count_input(read_input(args), args)
    write(rates(cells, per=per, population=population, method=args.method, level=args.level), args)


def _compare_options(p: argparse.ArgumentParser) -> None:
    from ..comparison import METHODS

    add_output(p, "comparison table")
    add_windows(p)
    p.add_argument("--method", default="auto", choices=METHODS, help="test (default: auto)")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")


@command("compare", "compare two windows of periods, region by region", add_input, _compare_options)
def _compare(args: argparse.Namespace) -> None:
    from ..comparison import compare

    check_outputs(args, args.output)
    cells = count_input(read_input(args), args)
    before, after = windows_of(args, cells)
    write(compare(cells, before=before, after=after, method=args.method, level=args.level), args)


def _trend_options(p: argparse.ArgumentParser) -> None:
    from ..trend_tests import METHODS

    add_output(p, "trend table")
    p.add_argument(
        "--method", default="quasipoisson", choices=METHODS, help="(default: quasipoisson)"
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")


@command("trend", "annual percent change by region", add_input, _trend_options)
def _trend(args: argparse.Namespace) -> None:
    from ..trend_tests import trend

    check_outputs(args, args.output)
    cells = count_input(read_input(args), args)
    write(trend(cells, method=args.method, level=args.level), args)


def _joinpoint_options(p: argparse.ArgumentParser) -> None:
    from ..joinpoint import SELECTIONS

    add_output(p, "joinpoint table (one row per segment)")
    add_joinpoint_search(p)
    p.add_argument(
        "--selection", default="permutation", choices=SELECTIONS, help="(default: permutation)"
    )
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default: 0.95)")


@command(
    "joinpoints",
    "where each region's trend broke (joinpoint regression)",
    add_input,
    _joinpoint_options,
)
def _joinpoints(args: argparse.Namespace) -> None:
    from ..joinpoint import joinpoints

    check_outputs(args, args.output)
    cells = count_input(read_input(args), args)
    prepare_kernels()
    table = joinpoints(cells, selection=args.selection, level=args.level, **joinpoint_options(args))
    write(table, args)


def _coverage_options(p: argparse.ArgumentParser) -> None:
    add_output(p, "coverage table (one row per cell)")
    add_rules(p)


@command(
    "coverage", "coverage status of every cell, with the reasons", add_input, _coverage_options
)
def _coverage(args: argparse.Namespace) -> None:
    from ..coverage_model import coverage

    check_outputs(args, args.output)
    write(coverage(count_input(read_input(args), args), rules=args.rules), args)


def _alarm_options(p: argparse.ArgumentParser) -> None:
    from ..alarm import ALIASES, DIRECTIONS, METHODS

    add_output(p, "alarm table (one row per region x period reported)")
    for action in p._actions:  # the shared --start/--end bound the periods reported here
        if action.dest in ("start", "end"):
            first = action.dest == "start"
            action.help = (
                f"{'first' if first else 'last'} period reported (e.g. 2019-01); every "
                f"earlier period still serves as baseline; default: the "
                f"{'first' if first else 'last'} period of the data"
            )
    p.add_argument(
        "--method",
        choices=[*METHODS, *ALIASES],
        help="alarm method (default: noufaily; bayes for years and for series no longer "
        "than Farrington's 3 years of baseline)",
    )
    p.add_argument(
        "--direction", default="high", choices=DIRECTIONS, help="alarms to raise (default: high)"
    )
    p.add_argument(
        "--fdr",
        type=float,
        metavar="Q",
        help="retrospective scan: alarm where the Benjamini-Hochberg q-value over every "
        "region and period reported is at most Q (e.g. 0.05), instead of the method's "
        "per-period level",
    )
    p.add_argument(
        "--restart",
        metavar="DATES",
        help="restart each region's baseline after these breaks: a comma list of dates or "
        "periods (2017-07,2018-01-15), or 'joinpoints' (each region's own, found by "
        "joinpoint regression first; --max-joinpoints and --permutations apply)",
    )
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option of the method (repeatable), e.g. --option alpha=0.01 --option b=5; "
        "an unknown name lists the method's options",
    )
    add_rules(p)
    add_joinpoint_search(p)


@command(
    "alarms",
    "unusual periods: each region's count against its own past",
    add_input,
    _alarm_options,
)
def _alarms(args: argparse.Namespace) -> None:
    from ..alarm import alarms, default_method
    from ..reporting.words import alarm_summary

    check_outputs(args, args.output)
    restart = parse_restart(args.restart)
    options = parse_method_options(args.option)
    cells = count_input(read_input(args), args, restrict=False)
    method = args.method or default_method(args.period, int(cells["period"].nunique()))
    breaks = None
    if restart == "joinpoints":
        from ..joinpoint import joinpoints

        prepare_kernels()  # a bar over the regions while their joinpoints are found
        breaks = joinpoints(cells, rules=args.rules, **joinpoint_options(args))
    table = alarms(
        cells, method=method, direction=args.direction, start=args.start, end=args.end,
        restart=restart, breaks=breaks, fdr=args.fdr, rules=args.rules, **options,
    )  # fmt: skip
    write(table, args)
    info(alarm_summary(table))


# ----------------------------------------------------------------------------- reports

command("report", "HTML trend report of an incident file", add_input, add_report_options)(
    run_report
)
command(
    "demo", "HTML trend report of the bundled synthetic demo data", add_grouping,
    add_demo_options, add_report_options,
)(run_demo)  # fmt: skip
command(
    "reproduce", "reproduce a published figure or check a claim (recipe)", add_reproduce_options,
    **REPRODUCE_PARSER,
)(run_reproduce)  # fmt: skip
command("fetch", "download a data set release from its publisher (checksummed)", add_fetch_options)(
    run_fetch
)
