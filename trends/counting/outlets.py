"""Outlet names as integer codes, from the distinct outlet lists of a file.

A Parquet file counted from disk (:mod:`trends.counting.validate`) lists its
distinct ``sources`` values anyway, to parse them by the readers' rule; those few
lists name every outlet of the file. :func:`outlet_codes` gives each name its rank
in code-point order (the order of ``json.dumps(..., sort_keys=True)`` and of
Python's string comparison) and each list the codes of its distinct names, as a
table of (list, code) pairs. DuckDB then joins each row's list to its pairs (one
row per outlet named: no ``string_split``, ``list_distinct`` or ``unnest``) and groups
the source mix by (cell, code, length): integers, not strings, and
:func:`~trends.counting.assemble.source_mix` needs neither to encode nor to sort the
names again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .plan import SOURCE_SEPARATOR

__all__ = ["OutletCodes", "outlet_codes"]


@dataclass(frozen=True)
class OutletCodes:
    """Every outlet name of a file, ranked, and each distinct list's codes.

    ``names``
        The distinct names in code-point order (an object array of ``str``); a
        name's code is its position here.
    ``pairs``
        An Arrow table, one row per distinct list and each distinct name in it:
        ``raw`` (the list's text) and ``code`` (the name's code).
    ``repeats``
        Whether some list names one outlet twice.
    """

    names: np.ndarray
    pairs: pa.Table
    repeats: bool


def outlet_codes(lists: pa.Array) -> OutletCodes:
    """Codes for the outlet names of ``lists`` (distinct or not; nulls ignored).

    Lists are split on :data:`~trends.counting.plan.SOURCE_SEPARATOR` as the counting
    splits parsed values (a literal separator, nothing trimmed: the readers' rule has
    already trimmed them), all at once with Arrow's vectorised kernels; a name
    repeated within a list gets its code once, as ``list_distinct`` keeps it once.
    """
    lists = pc.unique(pc.drop_null(lists.cast(pa.string())))
    split = pc.split_pattern(lists, SOURCE_SEPARATOR)
    flat = pc.list_flatten(split)
    names = np.array(pc.unique(flat).to_pylist(), dtype=object)
    names = names[np.argsort(names)] if len(names) else names
    code = pc.index_in(flat, value_set=pa.array(names.tolist(), pa.string())).to_numpy()
    owner = pc.list_parent_indices(split).to_numpy().astype(np.int64)
    # (list, code) pairs, once each: a name repeated within a list counts once
    pairs = np.unique(owner * max(len(names), 1) + code)
    owner, code = np.divmod(pairs, max(len(names), 1))
    table = pa.table({"raw": lists.take(pa.array(owner)), "code": code.astype(np.int32)})
    return OutletCodes(names, table, bool(len(pairs) < len(flat)))
