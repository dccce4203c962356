"""The readers' rules as narwhals expressions, for files held by an engine.

:func:`~trends.readers.icews.icews_lazy` and :func:`~trends.readers.polecat.polecat_lazy`
map a file that Spark, DuckDB or polars holds to canonical columns where it lives,
for :func:`trends.count`. They share these pieces, each the lazy form of a rule the file readers apply in pandas:

- :func:`named`: blank and null-like text is missing (:func:`~trends.readers.parse.clean_text`);
- :func:`finest_place`: the location precision from the finest place named
  (:func:`~trends.readers.parse.finest_place`);
- :func:`repeats_set_aside`: a record repeated in every field is counted once and its
  repeats go to the ledger (:func:`~trends.readers.files.set_aside_repeats`), through
  the column :data:`~trends.counting.lazy.SET_ASIDE`;
- :func:`rewritten`: names rewritten by the alias tables (regions within their
  country, outlets), from the distinct values, collected to the driver (a small result);
- :func:`outlets_named`: the outlets a ``;``-separated list names
  (:func:`~trends.readers.parse.outlets_named`).

Narwhals documents the expressions (https://narwhals-dev.github.io/narwhals/).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import pandas as pd

from .files import REPEATED_REASON
from .parse import NULL_TOKENS, normalise_sources
from .regions import harmonise_region

__all__ = [
    "day_events",
    "finest_place",
    "named",
    "outlets_named",
    "repeats_set_aside",
    "rewritten",
]


def named(expr: Any) -> Any:
    """Trimmed text; blank or null-like (``None``, :data:`~trends.readers.parse.NULL_TOKENS`)
    as missing."""
    import narwhals as nw

    text = expr.cast(nw.String).str.strip_chars()
    empty = (text == "") | text.str.to_lowercase().is_in(sorted(NULL_TOKENS))
    return nw.when(~empty).then(text)


def finest_place(places: dict[str, Any], levels: Collection[tuple[str, str]]) -> Any:
    """The precision word of the finest place column named (``unknown`` if none).

    ``places`` maps each column of ``levels`` (coarsest first) to its :func:`named`
    expression.
    """
    import narwhals as nw

    precision = nw.lit("unknown")
    for column, word in levels:
        precision = nw.when(~places[column].is_null()).then(nw.lit(word)).otherwise(precision)
    return precision


def repeats_set_aside(columns: Sequence[str]) -> Any:
    """:data:`~trends.readers.files.REPEATED_REASON` for each record that repeats an
    earlier one in every column of ``columns``; missing for the first of each.

    A window over all the columns numbers the copies of a record (which copy is first
    does not matter: they are equal in every field).
    """
    import narwhals as nw

    one = nw.col(columns[0]).is_null().cast(nw.Int64) * 0 + 1  # a window needs a column
    copy = one.cum_sum().over(*columns, order_by=columns[0])
    return nw.when(copy > 1).then(nw.lit(REPEATED_REASON))


def rewritten(
    frame: Any,
    column: str,
    rule: Callable[[pd.DataFrame], pd.Series],
    *,
    by: Sequence[str] = (),
) -> Any:
    """``frame`` with ``column`` rewritten by a readers' ``rule`` where it changes a value.

    ``rule`` is applied in pandas to the distinct values of ``column`` (with the
    columns ``by`` it also reads, e.g. the country of a region), collected from the
    engine (a small result); only the values it changes become engine expressions.
    """
    import narwhals as nw

    keys = [*by, column]
    pairs = frame.select(*keys).unique().collect().to_pandas().astype("string")
    after = pd.Series(rule(pairs).to_numpy(), index=pairs.index, dtype="string")
    before = pairs[column]
    changed = ~((after == before).fillna(False) | (after.isna() & before.isna()))
    out = nw.col(column)
    for row, value in zip(pairs[changed].itertuples(index=False), after[changed], strict=True):
        match = nw.lit(True)
        for key, known in zip(keys, row, strict=True):
            match = match & (nw.col(key).is_null() if pd.isna(known) else nw.col(key) == known)
        new = nw.lit(None, nw.String) if pd.isna(value) else nw.lit(value)
        out = nw.when(match).then(new).otherwise(out)
    return frame.with_columns(out.alias(column))


def outlets_named(sources: Any) -> Any:
    """The number of outlets a tidy ``;``-separated list names (missing for none)."""
    import narwhals as nw

    separators = sources.str.len_chars() - sources.str.replace_all(";", "").str.len_chars()
    return (separators + 1).cast(nw.Int64)


def day_events(
    frame: Any,
    fields: dict[str, Any],
    *,
    places: Collection[tuple[str, str]],
    columns: Sequence[str],
    passed: Sequence[Any],
) -> Any:
    """A news-coded event file (one day per event) in canonical columns, as the file
    readers map it.

    ``fields`` maps canonical names (``event_id``, ``date_start``, ``country``,
    ``region``, ``subregion``, ``event_type``, ``actor``, ``sources``) to expressions
    of the file's columns; ``places`` gives the place columns for the location
    precision (:func:`finest_place`); a record repeating another in every column of
    ``columns`` is set aside (:func:`repeats_set_aside`); ``passed`` are kept as they
    are. Regions and outlets are then rewritten by the readers' rules
    (:func:`rewritten`) and ``n_sources`` counts the outlets named. Returns the
    engine's own frame.
    """
    import narwhals as nw

    from ..counting.lazy import SET_ASIDE

    given = {column: named(nw.col(column)) for column, _ in places}
    out = frame.select(
        *(expr.alias(name) for name, expr in fields.items()),
        nw.lit("day").alias("date_precision"),
        finest_place(given, places).alias("location_precision"),
        repeats_set_aside(columns).alias(SET_ASIDE),
        *passed,
    )
    out = rewritten(out, "region", _regions, by=["country"])
    out = rewritten(out, "sources", _outlets)
    return out.with_columns(outlets_named(nw.col("sources")).alias("n_sources")).to_native()


def _regions(values: pd.DataFrame) -> pd.Series:
    """Region names as the readers harmonise them, within their country."""
    return harmonise_region(values["country"], values["region"])


def _outlets(values: pd.DataFrame) -> pd.Series:
    """Outlet lists as the readers normalise them."""
    return normalise_sources(values["sources"], "sources", "a lazy frame")
