"""Time and peak memory of count() on 3 million synthetic incidents (ACLED scale), and beyond.

Makes 3,000,000 incidents over 2,000 regions and 13 years in canonical columns,
writes them as Parquet and CSV under benchmarks/_data/ (made once, reused), then
counts each by region x month in a fresh process and prints wall time, CPU time
(all threads; on a shared machine wall time mostly measures the neighbours) and
the process's peak resident memory.

Then, unless skipped: 30,000,000 incidents from Parquet (``--large``; written in
chunks, so the driver never holds them), to show that memory stays flat as files
grow; and the same 3 million counted by Spark in local mode (``--spark``; needs
``trends[spark]`` and Java 17), timed after the session has started, with the rows
per second per core it reaches (the figure docs/scale.md projects to a cluster).

Two source structures, both by default (``--sources`` picks one):

``uniform``
    every incident names one or two of 300 outlets drawn uniformly, whatever its
    region: about 12 distinct outlets in each region-month, 3.8 million cell x
    outlet pairs. A worst case for the source mix.
``local``
    closer to real data: an incident's outlets are mostly its region's own few
    local outlets (4 per region), else one of its country's national outlets (5
    per country) or one of 10 international ones.

Run: python benchmarks/count_speed.py [--rows N] [--sources uniform|local]
         [--large N | --large 0] [--spark | --no-spark]
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
LOCAL = np.array([f"Local {r:04d}-{k}" for r in range(2000) for k in range(4)], dtype=object)
NATIONAL = np.array([f"National {c:02d}-{k}" for c in range(20) for k in range(5)], dtype=object)
INTERNATIONAL = np.array([f"Wire {k}" for k in range(10)], dtype=object)


def outlets(rng: np.random.Generator, region: np.ndarray, sources: str) -> np.ndarray:
    """One outlet for each incident, by the chosen source structure."""
    rows = len(region)
    if sources == "uniform":
        return OUTLETS[rng.integers(0, 300, rows)]
    local = LOCAL[region * 4 + rng.integers(0, 4, rows)]
    national = NATIONAL[(region // 100) * 5 + rng.integers(0, 5, rows)]
    international = INTERNATIONAL[rng.integers(0, 10, rows)]
    kind = rng.random(rows)
    return np.where(kind < 0.6, local, np.where(kind < 0.9, national, international))


def make(rows: int, folder: Path, sources: str, *, csv: bool = True) -> tuple[Path, Path]:
    """The incidents as Parquet (microsecond timestamps, which Spark reads) and CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"incidents_us_{rows}" + ("" if sources == "uniform" else f"_{sources}")
    parquet, text = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    if parquet.exists() and (text.exists() or not csv):
        return parquet, text
    chunk = 3_000_000
    if rows > chunk:  # written in chunks: the driver never holds them all
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        for i, first in enumerate(range(0, rows, chunk)):
            frame = incidents(min(chunk, rows - first), sources, seed=i, first_id=first)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(parquet, table.schema, coerce_timestamps="us")
            writer.write_table(table)
        writer.close()
        return parquet, text
    frame = incidents(rows, sources)
    frame.to_parquet(parquet, index=False, coerce_timestamps="us")
    if csv:
        frame.to_csv(text, index=False, date_format="%Y-%m-%d")
    return parquet, text


def incidents(rows: int, sources: str, *, seed: int = 0, first_id: int = 0) -> pd.DataFrame:
    """``rows`` synthetic canonical incidents (ids from ``first_id``)."""
    rng = np.random.default_rng(seed)
    days = (pd.Timestamp("2023-12-31") - pd.Timestamp("2011-01-01")).days
    start = pd.Timestamp("2011-01-01") + pd.to_timedelta(rng.integers(0, days, rows), unit="D")
    length = np.where(rng.random(rows) < 0.9, 0, rng.integers(1, 20, rows))
    region = rng.integers(0, 2000, rows)
    first = outlets(rng, region, sources)
    second = outlets(rng, region, sources)
    two = rng.random(rows) < 0.3
    if sources == "local":  # real reports do not name one outlet twice
        two &= first != second
    sources = np.where(two, first + ";" + second, first)
    frame = pd.DataFrame(
        {
            "event_id": np.arange(first_id, first_id + rows).astype(str),
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
    return frame


def measure(path: Path) -> dict:
    """count() in a fresh interpreter: wall time and that process's peak memory."""
    code = (
        "import json, resource, time, trends\n"
        "def cpu():\n"
        "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
        "    return r.ru_utime + r.ru_stime\n"
        "count = trends.count  # loads pandas, pyarrow: import time is not count()'s\n"
        "t, c = time.perf_counter(), cpu()\n"
        f"cells = count({str(path)!r}, period='month')\n"
        "t, c = time.perf_counter() - t, cpu() - c\n"
        # VmHWM: ru_maxrss would include the driver's memory, inherited at fork
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "peak = int(status.split()[0]) / 1024\n"
        "print(json.dumps({'seconds': t, 'cpu': c, 'peak_mb': peak, 'cells': len(cells),"
        " 'counted': float(cells['count'].sum())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


SPARK = """
import json, os, resource, time
from pyspark.sql import SparkSession
import trends
t = time.perf_counter()
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "4").config("spark.driver.memory", "4g")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
started = time.perf_counter() - t
t = time.perf_counter()
cells = trends.count(spark.read.parquet(PATH), period="month")
seconds = time.perf_counter() - t
spark.stop()
print(json.dumps({"start": started, "seconds": seconds, "cells": len(cells),
                  "counted": float(cells["count"].sum())}))
"""


def measure_spark(path: Path) -> dict:
    """count() of a Parquet file read by Spark local[2], in a fresh interpreter."""
    code = SPARK.replace("PATH", repr(str(path)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(label: str, result: dict) -> None:
    print(
        f"count() {label:>7}: {result['seconds']:6.2f} s "
        f"(CPU {result['cpu']:5.2f} s), peak {result['peak_mb']:5.0f} MB, "
        f"{result['cells']:,} cells, {result['counted']:,.0f} counted",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--sources", choices=["uniform", "local"], action="append")
    parser.add_argument(
        "--large", type=int, default=30_000_000, help="rows of the large file (0: skip)"
    )
    parser.add_argument("--spark", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    for sources in args.sources or ["uniform", "local"]:
        t = time.perf_counter()
        parquet, csv = make(args.rows, HERE / "_data", sources)
        print(
            f"data: {args.rows:,} incidents, 2,000 regions, 2011-2023, {sources} outlets "
            f"({time.perf_counter() - t:.1f} s to make or find)",
            flush=True,
        )
        for path in (parquet, csv):
            show(path.suffix[1:], measure(path))
    if args.large:
        t = time.perf_counter()
        parquet, _ = make(args.large, HERE / "_data", "local", csv=False)
        print(
            f"data: {args.large:,} incidents from Parquet, local outlets "
            f"({time.perf_counter() - t:.1f} s to make or find)",
            flush=True,
        )
        show("parquet", measure(parquet))
    if args.spark:
        parquet, _ = make(args.rows, HERE / "_data", "uniform")
        duck = measure(parquet)
        spark = measure_spark(parquet)
        print(f"{args.rows:,} rows, uniform outlets, by region x month:")
        print(f"  DuckDB        : {duck['seconds']:6.2f} s (CPU {duck['cpu']:5.2f} s)")
        if "error" in spark:
            print(f"  Spark local[2]: not measured ({spark['error']})")
        else:
            per_core = args.rows / spark["seconds"] / 2
            print(
                f"  Spark local[2]: {spark['seconds']:6.2f} s after a {spark['start']:.1f} s "
                f"session start, {per_core:,.0f} rows per second per core; same cells: "
                f"{spark['cells'] == duck['cells'] and spark['counted'] == duck['counted']}"
            )
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this driver process peaked at {base:.0f} MB while making the data)")


if __name__ == "__main__":
    main()
