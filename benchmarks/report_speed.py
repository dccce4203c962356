"""Time the HTML report on the UCDP GED Syria file, by month and by quarter.

Target: under 5 s per report and a file under 2 MB. Prints one line per step.

    python benchmarks/report_speed.py [GED_CSV]

The default file is ../shared/data/ucdp/ged_syria_652_1601_1911.csv (16,566
incidents, 14 regions, 47 months). Reading the file is timed apart from the
report. The first report in a process also builds the inlined Vega bundle unless
it is cached (~/.cache/trends); that is timed apart too.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO.parent / "shared" / "data" / "ucdp" / "ged_syria_652_1601_1911.csv"


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else DEFAULT
    if not path.exists():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    warnings.simplefilter("ignore")
    import trends
    from trends.reporting.analysis import analyse
    from trends.reporting.build import render
    from trends.reporting.html import vega_bundle

    t0 = time.perf_counter()
    incidents = trends.read_ucdp_ged(path)
    print(f"read {path.name}: {time.perf_counter() - t0:.2f} s ({len(incidents):,} incidents)")
    t0 = time.perf_counter()
    vega_bundle()
    print(f"Vega bundle (cached after the first run): {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    trends.joinpoints(trends.testing.simulate_cells(1, 24, seed=1)[0], n_permutations=9)
    print(
        f"joinpoint kernels (numba compiles them on a fresh install, then loads its cache): "
        f"{time.perf_counter() - t0:.2f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for period in ("month", "quarter"):
            out = Path(tmp) / f"report-{period}.html"
            t0, c0 = time.perf_counter(), time.process_time()
            # what trends.report() does, step by step, to show where the time goes
            results = analyse(incidents, period=period)
            t1 = time.perf_counter()
            out.write_text(render(results).render(), encoding="utf-8")
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - c0
            steps = ", ".join(f"{k} {v:.2f}" for k, v in results.timings.items())
            print(f"  by {period}: {steps}, render+write {time.perf_counter() - t1:.2f} s")
            size = out.stat().st_size
            verdict = "ok" if seconds < 5 and size < 2_000_000 else "OVER TARGET"
            print(
                f"report by {period}: {seconds:.2f} s (CPU {cpu:.2f} s), {size / 1e6:.2f} MB "
                f"(target < 5 s, < 2 MB: {verdict})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
