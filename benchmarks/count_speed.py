"""Time and peak memory of count() on 3 million synthetic incidents (ACLED scale).

Makes 3,000,000 incidents over 2,000 regions and 13 years in canonical columns,
writes them as Parquet and CSV under benchmarks/_data/ (made once, reused), then
counts each by region x month in a fresh process and prints wall time and the
process's peak resident memory.

Run: python benchmarks/count_speed.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUTLETS = np.array([f"Outlet {i:03d}" for i in range(300)], dtype=object)


def make(rows: int, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    parquet, csv = folder / f"incidents_{rows}.parquet", folder / f"incidents_{rows}.csv"
    if parquet.exists() and csv.exists():
        return parquet, csv
    rng = np.random.default_rng(0)
    days = (pd.Timestamp("2023-12-31") - pd.Timestamp("2011-01-01")).days
    start = pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, days, rows), unit="D")
    length = np.where(rng.random(rows) < 0.9, 0, rng.integers(1, 20, rows))
    region = rng.integers(0, 2000, rows)
    first = OUTLETS[rng.integers(0, 300, rows)]
    second = OUTLETS[rng.integers(0, 300, rows)]
    two = rng.random(rows) < 0.3
    sources = np.where(two, first + ";" + second, first)
    frame = pd.DataFrame(
        {
            "event_id": np.arange(rows).astype(str),
            "date_start": start,
            "date_end": start + pd.to_timedelta(length, unit="D"),
            "date_precision": np.where(rng.random(rows) < 0.95, "day", "month"),
            "country": np.char.add("Country ", (region // 100).astype(str)),
            "region": np.char.add("Region ", region.astype(str)),
            "location_precision": np.where(rng.random(rows) < 0.97, "exact", "country"),
            "fatalities": rng.poisson(1.5, rows).astype(float),
            "n_sources": np.where(two, 2, 1),
            "sources": sources,
        }
    )
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    return parquet, csv


def measure(path: Path) -> dict:
    """count() in a fresh interpreter: wall time and that process's peak memory."""
    code = (
        "import json, resource, time, trends\n"
        "t = time.perf_counter()\n"
        f"cells = trends.count({str(path)!r}, period='month')\n"
        "t = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': t, 'peak_mb': peak, 'cells': len(cells),"
        " 'counted': float(cells['count'].sum())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    args = parser.parse_args()
    t = time.perf_counter()
    parquet, csv = make(args.rows, HERE / "_data")
    print(
        f"data: {args.rows:,} incidents, 2,000 regions, 2011-2023 ({time.perf_counter() - t:.1f} s to make or find)"
    )
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for path in (parquet, csv):
        result = measure(path)
        print(
            f"count() {path.suffix[1:]:>7}: {result['seconds']:6.2f} s, peak {result['peak_mb']:7.0f} MB, "
            f"{result['cells']:,} cells, {result['counted']:,.0f} counted"
        )
    print(f"(this driver process peaked at {base:.0f} MB while making the data)")


if __name__ == "__main__":
    main()
