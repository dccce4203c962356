"""From an engine's whole-number sums to the cell table, the same for every engine.

Three steps, all on small tables (one row per cell, or per cell and outlet):
:func:`combine` divides each engine sum by its incident length once and adds the
results per cell in a fixed order, :func:`source_mix` builds each cell's outlet
counts as JSON, and :func:`densify` lays the cells on the full region x period grid,
zeros in and uncovered periods marked.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import TrendsError
from ..periods import period_bounds
from .plan import NUMERATORS

__all__ = ["combine", "densify", "source_mix"]

#: The columns of the cell table, in order (documented in :mod:`trends.cells`).
COLUMNS = (
    "country",
    "region",
    "period",
    "period_start",
    "period_end",
    "covered",
    "count",
    "exposure",
    "events",
    "events_unknown_sources",
    "events_single_source",
    "events_coarse_location",
    "events_coarse_date",
    "n_sources",
    "top_source",
    "top_source_events",
    "source_counts",
    "fatalities",
)


def _runs(key: np.ndarray) -> np.ndarray:
    """Start of each run of equal values in a sorted array."""
    return np.flatnonzero(np.append(True, key[1:] != key[:-1])) if len(key) else key[:0]


def _divided_sums(num: np.ndarray, den: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per run: the sum of ``num / den`` over its rows, in row order (rows sorted by den)."""
    if len(num) == 0:
        return np.zeros(0)
    return np.add.reduceat(num.astype(float) / den, starts)


def combine(parts: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: the engine's sums over incident lengths, each divided once.

    Rows are sorted by cell and length ``den``, so each cell's fractions are added in
    the same order whatever engine, thread or row order produced them: the same
    input gives the same bits. Whole-number sums (every sum unless ``span="split"``)
    are exact anyway.
    """
    parts = parts.sort_values(["cell", "den"], kind="stable", ignore_index=True)
    cell = parts["cell"].to_numpy()
    starts = _runs(cell)
    den = parts["den"].to_numpy(dtype=float)
    first = parts.iloc[starts]
    out = pd.DataFrame(
        {
            "cell": cell[starts],
            "country": first["country"].astype("string").to_numpy(),
            "region": first["region"].astype("string").to_numpy(),
            "p": first["p"].astype("datetime64[ns]").to_numpy(),
        }
    )
    for name, column in NUMERATORS.items():
        num = parts[column].to_numpy(dtype=float, na_value=0.0)
        out[name] = _divided_sums(num, den, starts)
    for name in ("events", "named", "fatalities_known"):
        values = parts[name].to_numpy(dtype=np.int64)
        out[name] = np.add.reduceat(values, starts) if len(values) else values
    out["events_named"] = out.pop("named").astype(float)
    out["events"] = out["events"].astype(float)
    # a cell none of whose incidents gives a fatality figure has unknown fatalities
    out["fatalities"] = out["fatalities"].where(out.pop("fatalities_known") > 0)
    return out


def source_mix(
    outlets: pa.Table | pd.DataFrame, cells: np.ndarray, *, names: np.ndarray | None = None
) -> dict[str, object]:
    """Per cell: distinct outlets, the top one (most events, then name), the mix as JSON.

    ``outlets`` has rows of ``cell`` (an id in ``cells``), ``source``, ``den`` and
    ``num`` (one or several rows per cell, outlet and incident length). Each outlet's
    events in a cell are the sum of ``num / den`` (in ``den`` order, rounded to 9 decimals). The JSON
    object of a cell lists its outlets in name order (code point order, as
    ``json.dumps(..., sort_keys=True)``). With ``names`` (every outlet name in that
    order), ``source`` holds each outlet's position in ``names`` rather than its name.
    Returns columns aligned with ``cells``, missing where a cell names no outlet.
    """
    empty = np.full(len(cells), np.nan)
    if len(outlets) == 0:  # (a pandas or Arrow table)
        none = pd.array([None] * len(cells), dtype="string")
        return {
            "source_counts": none,
            "n_sources": empty,
            "top_source": none,
            "top_source_events": empty,
        }
    # integer codes: the cell's row in ``cells``, the outlet's rank by name, packed
    # into one key (cell in the high bits): sorting keys sorts by cell, then name
    outlets = outlets if isinstance(outlets, pa.Table) else pa.table(outlets)
    cell = pd.Index(cells).get_indexer(outlets["cell"].to_numpy())
    if (cell < 0).any():  # both tables come from the same parts: this cannot happen
        raise AssertionError("count: an outlet row names no cell")
    if names is None:  # names: encoded, ranked in code-point order
        source = outlets["source"].combine_chunks().dictionary_encode()
        names = np.array(source.dictionary.to_pylist(), dtype=object)
        by_name = np.argsort(names)
        order_of = np.empty(len(names), dtype=np.int64)
        order_of[by_name] = np.arange(len(names))
        names = names[by_name]
        code = order_of[source.indices.to_numpy()]
    else:  # codes already are ranks
        code = outlets["source"].to_numpy().astype(np.int64)
    name_bits = max(len(names) - 1, 1).bit_length()
    key = (cell.astype(np.int64) << name_bits) | code
    del cell, code
    key, events = _outlet_events(key, outlets["den"].to_numpy(), outlets["num"].to_numpy())
    source = (key & ((1 << name_bits) - 1)).astype(np.int32)
    key >>= name_bits  # in place: the key's high bits are the cell
    cell = key
    # each cell is a run of rows
    first = _runs(cell)
    run = np.cumsum(np.append(True, cell[1:] != cell[:-1])) - 1
    # the top outlet: the first (by name) of the cell's rows with its most events
    top = np.flatnonzero(events == np.maximum.reduceat(events, first)[run])
    top = top[np.append(True, run[top][1:] != run[top][:-1])]
    mix = _mix_json(names, source, events, first)
    # back to one entry per cell (runs are in cell order, a cell without outlets has none)
    at = np.full(len(cells), -1)
    at[cell[first]] = np.arange(len(first))
    slot = pa.array(at, mask=at < 0)
    n_sources = np.bincount(run, minlength=len(first)).astype(float)
    return {
        "source_counts": (mix if len(first) == len(cells) else mix.take(slot))
        .to_pandas()
        .astype("string"),
        "n_sources": np.where(at < 0, np.nan, n_sources[at]),
        "top_source": pa.array(names[source[top]]).take(slot).to_pandas().astype("string"),
        "top_source_events": np.where(at < 0, np.nan, events[top][at]),
    }


def _outlet_events(
    key: np.ndarray, den: np.ndarray, num: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys in order, and for each the sum of ``num / den`` over its rows.

    The rows of a key are added in ``den`` order and rounded to 9 decimals
    (:func:`_round9`). When every ``den`` is 1 (every span but ``"split"``) the sums
    are sums of whole numbers, exact in any order: the numerators are then packed
    beside their keys and sorted with them, in one sort.
    """
    unit = np.issubdtype(num.dtype, np.integer) and bool((den == 1).all())
    if unit and len(num) and int(num.min()) >= 0:
        total = int(num.sum(dtype=np.uint64))
        bits = max(int(num.max()), 1).bit_length()
        if total < 2**53 and int(key.max()) < 2 ** (63 - bits):
            packed = key << bits  # in place from here: no copy of the rows is held
            packed |= num
            packed.sort()
            key = packed >> bits
            starts = _runs(key)
            packed &= (1 << bits) - 1
            return key[starts], np.add.reduceat(packed, starts).astype(float)
    den = np.asarray(den, dtype=np.int64)
    order = _argsort(key) if (den == 1).all() else np.lexsort((den, key))
    key, den, num = key[order], den[order], np.asarray(num)[order]
    if np.issubdtype(num.dtype, np.integer):  # whole-day numerators: summed per key and
        # length first (exact), as every engine sums them, then divided once
        same = _runs(key)
        first = np.union1d(same, _runs(den))
        key, den, num = key[first], den[first], np.add.reduceat(num, first)
    starts = _runs(key)
    return key[starts], _round9(_divided_sums(num.astype(float), den, starts))


#: Rows of the source mix turned into JSON at a time: the fragments of one block are
#: made, joined and dropped before the next, so memory holds one block's fragments
#: (about 25 MB: some 25 bytes a row) rather than every row's (3.8 M rows: about 95 MB, plus copies).
MIX_BLOCK_ROWS = 1 << 20


def _mix_json(
    names: np.ndarray, source: np.ndarray, events: np.ndarray, first: np.ndarray
) -> pa.ChunkedArray:
    """Each cell's ``{"name": events, ...}``, from rows sorted by cell and name.

    '"name": events' fragments (events formatted as Python does) are joined by ", "
    per cell, and the braces put around. The text is made once for each distinct
    (outlet, events) and then repeated. Cells are taken in blocks of whole cells of
    about :data:`MIX_BLOCK_ROWS` rows each.
    """
    n = len(source)
    value, values = pd.factorize(events)
    name_text = [json.dumps(str(n), ensure_ascii=False) for n in names]
    value_text = pd.Series(values).astype(str).tolist()
    text = pa.large_string()  # the joined mixes may pass 2 GB
    comma, open_, close, empty = (pa.scalar(t, text) for t in (", ", "{", "}", ""))
    ends = np.append(first, n)
    # block boundaries, each the first row of a cell
    cuts = np.searchsorted(ends, np.arange(0, n, MIX_BLOCK_ROWS), side="left")
    cuts = np.unique(np.append(cuts, len(first)))
    blocks = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        a, b = int(ends[lo]), int(ends[hi])
        kind, kinds = pd.factorize(source[a:b] * len(values) + value[a:b])
        fragments = pa.array(
            [
                f"{name_text[c // len(values)]}: {value_text[c % len(values)]}"
                for c in kinds.tolist()
            ],
            type=text,
        ).take(kind)
        runs = pa.ListArray.from_arrays((ends[lo : hi + 1] - a).astype(np.int32), fragments)
        del fragments
        joined = pc.binary_join(runs, comma)
        del runs
        blocks.append(pc.binary_join_element_wise(open_, joined, close, empty))
    return pa.chunked_array(blocks, type=text)


def _argsort(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for non-negative integer keys, faster.

    Each key is packed with its position into one int64, so a plain (vectorised)
    sort orders the keys and carries the positions along.
    """
    bits = len(key).bit_length()
    if len(key) == 0 or int(key.max()) >= 2 ** (63 - bits):
        return np.argsort(key, kind="stable")
    packed = np.sort((key << bits) | np.arange(len(key)))
    return packed & ((1 << bits) - 1)


def _round9(x: np.ndarray) -> np.ndarray:
    """Round to 9 decimals as Python's round() does (correctly rounded, as DuckDB 2's round).

    Sums of ``span="split"`` weights carry float noise; rounding keeps the JSON short.
    Whole numbers (every sum with other spans) are left as they are.
    """
    out = x.copy()
    fractional = np.flatnonzero(x != np.floor(x))
    out[fractional] = [round(v, 9) for v in x[fractional].tolist()]
    return out


def densify(cells, labels, period, region, window) -> pd.DataFrame:
    """The full grid: every region seen x every period, zeros in, uncovered marked.

    Built by position: each grid row (region x period) looks up its cell's row in
    ``cells`` (-1: no incident there), so each column is gathered once.
    """
    starts, ends = period_bounds(labels, period)
    lo, hi = window
    days = ((ends.clip(upper=hi) - starts.clip(lower=lo)).dt.days + 1).to_numpy()
    regions = cells[["country", "region"]].drop_duplicates()
    if regions.empty:
        raise TrendsError("no incident falls inside the periods and coverage window asked for")
    names = regions["region"].astype("string")
    shared = regions.groupby("region")["country"].transform("nunique") > 1
    if region != "country" and shared.any():  # a name found in several countries
        names = names.where(~shared.to_numpy(), names + ", " + regions["country"].astype("string"))
    # grid rows in table order: regions by name, then periods in order (a stable
    # sort, so regions sharing a name keep their order)
    n_periods = len(labels)
    cell_region = cells.groupby(["country", "region"], sort=False).ngroup().to_numpy()
    cell_period = pd.Index(starts).get_indexer(cells["p"])
    cell_at = np.full(len(regions) * n_periods, -1)
    cell_at[cell_region * n_periods + cell_period] = np.arange(len(cells))
    name_rank = pd.factorize(names, sort=True)[0]
    grid_region = np.repeat(np.arange(len(regions)), n_periods)
    grid_period = np.tile(np.arange(n_periods), len(regions))
    order = np.lexsort((grid_period, name_rank[grid_region]))
    at, rg, pe = cell_at[order], grid_region[order], grid_period[order]
    has_cell = at >= 0
    covered = days[pe] > 0

    def gather(column: str, fill: float) -> np.ndarray:
        values = cells[column].to_numpy(dtype=float, na_value=np.nan)
        return np.where(has_cell, values[at], fill)

    table = pd.DataFrame(
        {
            "country": regions["country"].astype("string").array.take(rg),
            "region": names.array.take(rg),
            "period": pd.array(labels, dtype="string").take(pe),
            "period_start": starts.to_numpy()[pe],
            "period_end": ends.to_numpy()[pe],
            "covered": covered,
            "exposure": np.clip(days, 0, None).astype(float)[pe],
        }
    )
    counts = [
        "count",
        "events",
        "events_unknown_sources",
        "events_single_source",
        "events_coarse_location",
        "events_coarse_date",
        "events_named",
    ]
    for col in counts:
        table[col] = np.where(covered, gather(col, 0.0), np.nan)
    fatalities = gather("fatalities", np.nan)
    fatalities[covered & np.isnan(fatalities) & (table["events"] == 0).to_numpy()] = 0.0
    table["fatalities"] = fatalities
    for col in ("n_sources", "top_source_events"):
        table[col] = np.where(covered, np.nan_to_num(gather(col, 0.0), nan=0.0), np.nan)
    for col in ("top_source", "source_counts"):
        table[col] = (
            cells[col].astype("string").array.take(np.where(has_cell, at, -1), allow_fill=True)
        )
    # n_sources is unknown where the cell has events but none name an outlet
    unknown = covered & (table["events"] > 0).to_numpy() & (table["events_named"] == 0).to_numpy()
    table.loc[unknown, ["n_sources", "top_source_events"]] = np.nan
    return table[list(COLUMNS)]
