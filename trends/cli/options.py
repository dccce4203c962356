"""Options the subcommands share, and the read -> filter -> count steps they drive.

Every choice comes from the step's own constant or registry (``trends.readers.FORMATS``,
``trends.periods.PERIODS``, ``trends.counting.SPANS``...), never a copied list.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputError, OptionError
from .console import info

__all__ = [
    "add_input",
    "add_grouping",
    "add_output",
    "add_windows",
    "add_joinpoint_search",
    "add_rules",
    "parse_columns",
    "parse_coverage",
    "parse_restart",
    "parse_method_options",
    "read_input",
    "count_input",
    "read_population",
    "joinpoint_options",
    "inputs_of",
    "check_outputs",
    "write",
    "windows_of",
]

WHERE_HELP = (
    "keep only the incidents that meet a condition (repeatable; all must hold): "
    "COLUMN=VALUE, COLUMN__in=A,B, COLUMN__ne=VALUE, COLUMN__contains=TEXT, "
    "COLUMN__icontains=TEXT, COLUMN__regex=PATTERN, COLUMN__gte=VALUE (gt, lt, lte), "
    "COLUMN__between=FIRST..LAST; e.g. --where side_a=IS --where "
    "date_start__between=2014..2018. The ledger counts what each condition set aside."
)


def add_input(parser: argparse.ArgumentParser) -> None:
    """INPUT, its format, column map, coverage window and filters; then the grouping."""
    from ..readers import FORMATS

    parser.add_argument(
        "input", help="UCDP GED, ACLED or GTD file, or any CSV/Parquet file (see --columns)"
    )
    parser.add_argument(
        "--format", choices=FORMATS.names(), help="input format (default: detected from the columns)"
    )
    parser.add_argument(
        "--columns",
        metavar="MAP",
        help="column map of your own data, canonical=yours, comma-separated: "
        "event_id=id,date_start=day,region=province (implies --format canonical)",
    )
    parser.add_argument(
        "--coverage",
        metavar="FROM..TO",
        help="the window the data cover (dates or periods: 2014-01-01..2018-12-31, "
        "2014..2018); default: the registry's for a known release, else the first "
        "event to the last (whose last period is then only partly covered)",
    )
    parser.add_argument("--where", action="append", default=[], metavar="COND", help=WHERE_HELP)
    add_grouping(parser)


def add_grouping(parser: argparse.ArgumentParser) -> None:
    from ..counting import SPANS
    from ..periods import PERIODS

    parser.add_argument(
        "--region",
        default="region",
        choices=["region", "subregion", "country"],
        help="grouping level (default: region)",
    )
    parser.add_argument(
        "--period", default="month", choices=PERIODS, help="period (default: month)"
    )
    parser.add_argument("--start", help="first period (e.g. 2016-01); default: the coverage's")
    parser.add_argument("--end", help="last period; default: the coverage's")
    parser.add_argument(
        "--span",
        default="start",
        choices=SPANS,
        help="incidents over several periods (default: start)",
    )


def add_output(parser: argparse.ArgumentParser, what: str = "table") -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help=f"{what} to write: .csv or .parquet (by the extension)",
    )


def parse_columns(text: str | None) -> dict[str, str] | None:
    """``"event_id=id,region=province"`` -> ``{"event_id": "id", "region": "province"}``."""
    if not text:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        canonical, sep, yours = part.partition("=")
        if not sep or not canonical.strip() or not yours.strip():
            raise OptionError(
                f"--columns {text!r}: {part!r} is not CANONICAL=YOURS "
                "(e.g. event_id=id,date_start=day,region=province)"
            )
        out[canonical.strip()] = yours.strip()
    return out


def parse_coverage(text: str | None) -> tuple[str, str] | None:
    """``"2014..2018"`` -> ``("2014-01-01", "2018-12-31")``: a declared coverage window."""
    if not text:
        return None
    from ..errors import TrendsError
    from ..periods import period_span

    first, sep, last = text.partition("..")
    try:
        if not sep:
            raise TrendsError("no '..'")
        start, end = period_span(first)[0], period_span(last)[1]
    except TrendsError:
        raise OptionError(
            f"--coverage {text!r} is not FROM..TO with dates or periods "
            "(e.g. 2014-01-01..2018-12-31 or 2014..2018)"
        ) from None
    if end < start:
        raise OptionError(f"--coverage {text!r} ends before it starts")
    return start.date().isoformat(), end.date().isoformat()


def parse_restart(text: str | None) -> str | list[str] | None:
    """``"joinpoints"`` stays; ``"2017-07,2018-01"`` -> ``["2017-07", "2018-01"]``: the
    breaks after which :func:`trends.alarms` restarts each region's baseline."""
    if text is None:
        return None
    if text.strip() == "joinpoints":
        return "joinpoints"
    dates = [part.strip() for part in text.split(",")]
    if not all(dates):
        raise OptionError(
            f"--restart {text!r} is not 'joinpoints' nor a comma list of dates or periods "
            "(e.g. 2017-07,2018-01-15)"
        )
    return dates


def _option_value(text: str) -> Any:
    """A method option's value as typed: true/false, none, a number, a comma list (a
    tuple, e.g. limit54=5,4), else the text (threshold_method=nbPlugin, powertrans=2/3)."""
    word = text.strip()
    if "," in word:
        return tuple(_option_value(part) for part in word.split(","))
    named = {"true": True, "false": False, "none": None}
    if word.lower() in named:
        return named[word.lower()]
    for kind in (int, float):
        try:
            return kind(word)
        except ValueError:
            pass
    return word


def parse_method_options(texts: list[str]) -> dict[str, Any]:
    """``["alpha=0.01", "b=5"]`` -> ``{"alpha": 0.01, "b": 5}``: a method's options, checked
    by the method itself (an unknown name is an OptionError listing the valid ones)."""
    out: dict[str, Any] = {}
    for text in texts:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise OptionError(f"--option {text!r} is not NAME=VALUE (e.g. alpha=0.01)")
        out[name.strip()] = _option_value(value)
    return out


def read_input(args: argparse.Namespace):
    """Read INPUT as told (format, column map, coverage), then apply every --where."""
    from ..incidents import parse_condition
    from ..readers import read

    columns = parse_columns(args.columns)
    options: dict[str, Any] = {}
    coverage = parse_coverage(args.coverage)
    if coverage is not None:
        options["coverage"] = coverage
    fmt = args.format
    if columns is not None:
        if fmt not in (None, "canonical"):
            raise OptionError(
                f"--columns maps your own data's columns; --format {fmt} reads its own "
                "(give one or the other)"
            )
        fmt, options["columns"] = "canonical", columns
    incidents = read(args.input, format=fmt, **options)
    conditions = [parse_condition(text) for text in args.where]
    for key, value in conditions:  # one at a time: each keeps its own ledger reason
        incidents = incidents.filter(**{key: value})
    if conditions and len(incidents) == 0:
        set_aside = incidents.ledger[incidents.ledger["reason"] != "kept"]
        pairs = zip(set_aside["reason"], set_aside["rows"], strict=True)
        why = "; ".join(f"{reason}: {rows:,}" for reason, rows in pairs)
        raise InputError(f"no incident meets the --where conditions ({why})", file=args.input)
    return incidents


def count_input(incidents, args: argparse.Namespace, *, restrict: bool = True) -> pd.DataFrame:
    """The cells of ``incidents`` by ``--region``, ``--period`` and ``--span``, restricted
    to ``--start``..``--end`` unless ``restrict`` is False (``trends alarms``, where they
    bound the periods reported and every earlier period serves as baseline)."""
    from ..counting import count

    return count(
        incidents,
        region=args.region,
        period=args.period,
        start=args.start if restrict else None,
        end=args.end if restrict else None,
        span=args.span,
    )


def read_population(path: str | None) -> pd.DataFrame | None:
    """A population table (CSV or Parquet: region, year, population), checked."""
    if not path:
        return None
    file = Path(path)
    if not file.exists():
        raise InputError("no such file (the --population table)", file=str(path))
    try:
        if file.suffix.lower() in (".parquet", ".pq"):
            table = pd.read_parquet(file)
        else:
            table = pd.read_csv(file, dtype="string", keep_default_na=False, na_values=[""])
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot be read as CSV or Parquet: {exc}", file=str(path)) from exc
    missing = [c for c in ("region", "year", "population") if c not in table.columns]
    if missing:
        raise InputError(
            f"missing column {missing[0]!r}; a population table has region, year, population",
            file=str(path),
            column=missing[0],
        )
    for column in ("year", "population"):
        numbers = pd.to_numeric(table[column], errors="coerce")
        bad = numbers.isna() | (numbers < 0) | ~numbers.abs().lt(float("inf"))
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                f"{table[column].iloc[row]!r} is not a non-negative number",
                file=str(path),
                row=row + 1,
                column=column,
            )
    return table


def joinpoint_options(args: argparse.Namespace) -> dict[str, int]:
    """Only the joinpoint options the user gave (the report adapts its defaults to short
    series, but holds a number the user asked for)."""
    given = {
        "max_joinpoints": getattr(args, "max_joinpoints", None),
        "n_permutations": getattr(args, "permutations", None),
    }
    return {name: value for name, value in given.items() if value is not None}


def inputs_of(args: argparse.Namespace) -> list[str]:
    """Every file the command reads, which no output may overwrite."""
    names = ("input", "population", "data", "recipe")
    return [getattr(args, n) for n in names if getattr(args, n, None)]


def check_outputs(args: argparse.Namespace, *paths: str | None) -> None:
    """Refuse, before any work, an output that is an input or has no known extension."""
    from ..output import check_not_input, table_format

    for path in paths:
        if path:
            check_not_input(path, inputs_of(args))
            if Path(path).suffix.lower() not in (".html", ".htm"):
                table_format(path)


def write(table, args: argparse.Namespace, path: str | None = None) -> None:
    from ..output import write_table

    path = path or args.output
    write_table(table, path, inputs=inputs_of(args))
    info(f"wrote {path} ({len(table):,} rows)")


def windows_of(args: argparse.Namespace, cells) -> tuple[tuple[str, str], tuple[str, str]]:
    """``--before``/``--after``, or the default windows (said on stdout)."""
    from ..cells import cells_period
    from ..errors import OptionError
    from ..periods import default_windows, describe_windows

    if (args.before is None) != (args.after is None):
        raise OptionError("give both --before and --after, or neither (the default windows)")
    if args.before is not None:
        return tuple(args.before), tuple(args.after)  # type: ignore[return-value]
    before, after = default_windows(cells)
    info(f"comparing {describe_windows(before, after, cells_period(cells))} (the default)")
    return before, after


def add_windows(p: argparse.ArgumentParser) -> None:
    p.add_argument("--before", nargs=2, metavar=("FIRST", "LAST"), help="baseline window")
    p.add_argument(
        "--after",
        nargs=2,
        metavar=("FIRST", "LAST"),
        help="window compared with it; default for both: the last twelve complete months "
        "against the twelve before (4 quarters, 52 weeks, 1 year)",
    )


def add_joinpoint_search(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-joinpoints",
        type=int,
        help="most joinpoints per region (default: trends.joinpoints' own, 3; 0 fits one segment)",
    )
    p.add_argument(
        "--permutations",
        type=int,
        help="permutations of the joinpoint test (default: trends.joinpoints' own, 4499)",
    )


def add_rules(p: argparse.ArgumentParser) -> None:
    from ..coverage_model import PRESETS

    p.add_argument(
        "--rules", default="default", choices=list(PRESETS), help="coverage rules preset"
    )
