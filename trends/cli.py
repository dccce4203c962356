"""The ``trends`` command line: the same words as the Python API.

Exit status: 0 done, 2 bad input or usage (one line on stderr, no traceback),
1 anything else (one line; ``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys

from .counting import SPANS
from .coverage_model import PRESETS
from .estimation import RATE_METHODS
from .periods import PERIODS
from .readers import FORMATS
from .trend_tests import METHODS as TREND_METHODS

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"trends: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", help="UCDP GED, ACLED or GTD file, or a CSV/Parquet file in canonical columns"
    )
    parser.add_argument(
        "--format",
        choices=FORMATS.names(),
        help="input format (default: detected from the columns)",
    )
    _grouping_options(parser)


def _grouping_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region",
        default="region",
        choices=["region", "subregion", "country"],
        help="grouping level (default: region)",
    )
    parser.add_argument(
        "--period",
        default="month",
        choices=PERIODS,
        help="period (default: month)",
    )
    parser.add_argument(
        "--start", help="first period (e.g. 2016-01); default: the source's coverage"
    )
    parser.add_argument("--end", help="last period; default: the source's coverage")
    parser.add_argument(
        "--span",
        default="start",
        choices=SPANS,
        help="incidents over several periods (default: start)",
    )


def _parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="trends", description="Trend analysis of reported incidents, honest about coverage."
    )
    parser.add_argument("--version", action="version", version=f"trends {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("rates", help="rates with confidence intervals by region and period")
    _input_options(p)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")
    p.add_argument("--method", default="exact", choices=RATE_METHODS)
    p.add_argument("--level", type=float, default=0.95)

    p = sub.add_parser("compare", help="compare two windows of periods, region by region")
    _input_options(p)
    p.add_argument("--before", nargs=2, metavar=("FIRST", "LAST"), required=True)
    p.add_argument("--after", nargs=2, metavar=("FIRST", "LAST"), required=True)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")

    p = sub.add_parser("trend", help="annual percent change by region")
    _input_options(p)
    p.add_argument("--method", default="quasipoisson", choices=TREND_METHODS)
    p.add_argument("-o", "--output", required=True, help="CSV file to write")

    for name, helptext in (
        ("report", "HTML trend report of an incident file"),
        ("demo", "HTML trend report of the bundled synthetic demo data"),
    ):
        p = sub.add_parser(name, help=helptext)
        if name == "report":
            _input_options(p)
        else:
            _grouping_options(p)
            p.add_argument("--seed", type=int, default=2024, help="seed of the synthetic data")
        p.add_argument(
            "-o",
            "--output",
            default="report.html",
            help="HTML file to write (default: report.html)",
        )
        p.add_argument("--before", nargs=2, metavar=("FIRST", "LAST"))
        p.add_argument("--after", nargs=2, metavar=("FIRST", "LAST"))
        p.add_argument("--figures", metavar="DIR", help="also save each chart as SVG and PNG here")
        p.add_argument("--title")
        p.add_argument(
            "--rules",
            default="default",
            choices=list(PRESETS),
            help="coverage rules preset (default: default)",
        )
        p.add_argument(
            "--trend-method",
            default="quasipoisson",
            choices=TREND_METHODS,
        )
        p.add_argument(
            "--max-joinpoints",
            type=int,
            help="most joinpoints per region (default: trends.joinpoints' own, 3; "
            "0 fits one straight segment)",
        )
        p.add_argument(
            "--permutations",
            type=int,
            help="permutations of the joinpoint test (default: trends.joinpoints' own, 4499)",
        )
        p.add_argument(
            "--timestamp",
            action="store_true",
            help="print the time of the run (or $SOURCE_DATE_EPOCH) in the footer",
        )

    p = sub.add_parser("reproduce", help="reproduce a published figure or check a claim (recipe)")
    p.add_argument("recipe", nargs="?", help="a shipped recipe's id, or a recipe TOML file")
    p.add_argument("--list", action="store_true", help="list the shipped recipes and exit")
    p.add_argument("--data", help="the recipe's event file (default: its file under --data-dir)")
    p.add_argument(
        "--data-dir", help="folder the recipe's file names are resolved in (default: $TRENDS_DATA)"
    )
    p.add_argument("-o", "--output", help="HTML page to write (table, chart, verdict)")
    p.add_argument("--csv", help="also write the published-vs-reproduced table as CSV")
    return parser


def _read(args: argparse.Namespace):
    from .readers import read

    return read(args.input, format=args.format)


def _count(incidents, args: argparse.Namespace):
    from .counting import count

    return count(
        incidents,
        region=args.region,
        period=args.period,
        start=args.start,
        end=args.end,
        span=args.span,
    )


def _demo(seed: int, before, after):
    """The synthetic demo data; unless told otherwise, compare its two halves.

    The halves meet at the month where the demo's planted changes happen (a real
    doubling in one region, a main outlet going silent in another), so the report
    shows what ``trends`` makes of each.
    """
    import pandas as pd

    from .datasets import simulate
    from .periods import period_labels

    incidents, truth = simulate(seed=seed, return_truth=True)
    if before is None and after is None:
        first, last = incidents.source.coverage
        change = pd.Period(truth["change_period"].iloc[0], freq="M")
        before = (str(period_labels([first], "month")[0]), str(change - 1))
        after = (str(change), str(period_labels([last], "month")[0]))
    return incidents, before, after


def _joinpoint_options(args: argparse.Namespace) -> dict[str, int]:
    """Only the joinpoint options the user gave (the report adapts its defaults to short
    series, but holds a number the user asked for)."""
    given = {"max_joinpoints": args.max_joinpoints, "n_permutations": args.permutations}
    return {name: value for name, value in given.items() if value is not None}


def _write_csv(table, path: str) -> None:
    table.to_csv(path, index=False, lineterminator="\n")
    print(f"wrote {path} ({len(table):,} rows)")


def _run(args: argparse.Namespace) -> int:
    """Carry out one command; return its exit status."""
    if args.command == "rates":
        from .estimation import rates

        _write_csv(
            rates(_count(_read(args), args), method=args.method, level=args.level), args.output
        )
    elif args.command == "compare":
        from .comparison import compare

        _write_csv(
            compare(_count(_read(args), args), before=tuple(args.before), after=tuple(args.after)),
            args.output,
        )
    elif args.command == "trend":
        from .trend_tests import trend

        _write_csv(trend(_count(_read(args), args), method=args.method), args.output)
    elif args.command in ("report", "demo"):
        from .reporting import report

        before = tuple(args.before) if args.before else None
        after = tuple(args.after) if args.after else None
        if args.command == "demo":
            incidents, before, after = _demo(args.seed, before, after)
        else:
            incidents = _read(args)
        path = report(
            incidents,
            region=args.region,
            period=args.period,
            path=args.output,
            before=before,
            after=after,
            figures_dir=args.figures,
            title=args.title,
            rules=args.rules,
            trend_method=args.trend_method,
            joinpoint_options=_joinpoint_options(args),
            timestamp=True if args.timestamp else None,
            start=args.start,
            end=args.end,
            span=args.span,
        )
        print(f"wrote {path}")
    elif args.command == "reproduce":
        from .reproduction import list_recipes, reproduce

        if args.list:
            for row in list_recipes().itertuples(index=False):
                print(f"{row.id}  [{row.dataset} {row.version}; expected: {row.expected}]")
                print(f"    {row.reproduces}")
            return 0
        if not args.recipe:
            raise ValueError(
                "reproduce needs a RECIPE (a shipped recipe's id or a TOML file); --list lists them"
            )
        result = reproduce(args.recipe, data=args.data, data_dir=args.data_dir)
        shown = result.table.drop(columns=["coverage_reasons", "note"])
        print(shown.to_string(index=False))
        print(result.summary())
        if args.csv:
            _write_csv(result.table, args.csv)
        if args.output:
            print(f"wrote {result.to_html(args.output)}")
        return 0 if result.ok else 1  # differs, or cannot be tested: exit status 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    try:
        return _run(args)
    except ValueError as exc:  # every trends error is a ValueError: bad input
        if args.debug:
            raise
        message = " ".join(str(exc).split())
        sys.stderr.write(f"trends: {message}\n")
        return 2
    except OSError as exc:
        if args.debug:
            raise
        sys.stderr.write(
            f"trends: {exc.strerror or exc}: {exc.filename or ''}\n".replace(": \n", "\n")
        )
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, status 1
        if args.debug:
            raise
        sys.stderr.write(
            f"trends: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} (rerun with --debug for the traceback)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
