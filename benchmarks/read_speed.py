"""Reading speed: seconds to read each shared UCDP file with ``trends.read``.

Prints one line per file: the rows read, the best of ``--repeat`` runs in wall-clock and
in CPU seconds (the CPU time moves less when other work shares the machine), and the
rows per CPU second. The figures are for comparing versions of the readers on the same
machine, not an assertion.

    python benchmarks/read_speed.py [--shared DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import trends

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    ucdp = args.shared / "data" / "ucdp"
    if not ucdp.is_dir():
        sys.exit(f"{ucdp} is absent: the shared files are needed")
    for path in sorted(ucdp.glob("*.csv")):
        wall, cpu = [], []
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            inc = trends.read(path)
            wall.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        print(
            f"{path.name:32s} {inc.rows_read:>7,} rows {min(wall):6.2f} s wall "
            f"{min(cpu):6.2f} s CPU {inc.rows_read / min(cpu):>8,.0f} rows per CPU s"
        )


if __name__ == "__main__":
    main()
