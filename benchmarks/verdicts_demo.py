"""How often the demo data's truth gets the wrong word, over many seeds.

For each seed, ``trends.datasets.simulate(seed=s)`` (fifteen regions, five years,
monthly): ``compare`` of the two whole years on each side of the planted change
(``trends.datasets.demo_windows``, as ``trends demo`` compares them), ``trend`` and
``joinpoints`` of every region. The
truth is known:

* the twelve ``baseline`` regions and the sparse ``Khatt`` have a constant mean (with a
  yearly season): any increase/decrease/rising/falling is false;
* ``Al Qasr`` doubles at the change: compare should say increase and trend rising;
* ``Marj`` loses its main outlet at the change, the violence unchanged: no method may
  give it a directional word.

Prints, per method, the share of stable region-runs with a false directional word, the
share of seeds whose results carry any false word, Al Qasr's call rates and Marj's
count of directional words: first for the tables as each call returns them, then as a
report states them, the three tables held to one family
(:func:`trends.verdicts.one_family`, what ``trends.report`` does).

    python benchmarks/verdicts_demo.py --seeds 200 --permutations 999
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import trends
from trends import verdicts

STABLE_SCENARIOS = ("baseline", "too sparse")


def one_seed(seed: int, permutations: int, bootstrap: int) -> dict[str, object]:
    incidents, truth = trends.datasets.simulate(seed=seed, return_truth=True)
    cells = trends.count(incidents, region="region", period="month")
    before, after = trends.datasets.demo_windows(truth)
    scenario = dict(zip(truth["region"], truth["scenario"], strict=True))
    stable = {r for r, s in scenario.items() if s in STABLE_SCENARIOS}
    results = {
        "compare": trends.compare(cells, before=before, after=after),
        "trend": trends.trend(cells),
        "joinpoints": trends.joinpoints(
            cells, n_permutations=permutations, n_bootstrap=bootstrap, seed=seed
        ),
    }
    in_report = verdicts.one_family([
        (results["compare"], "change", 0.05),
        (results["trend"], "trend", 0.05),
        (results["joinpoints"], "trend", 0.05),
    ])  # fmt: skip
    row: dict[str, object] = {"seed": seed}
    for prefix, tables in (("", results.values()), ("report_", in_report)):
        for name, table in zip(results, tables, strict=True):
            directional = table["verdict"].isin(verdicts.DIRECTIONAL).to_numpy()
            region = table["region"].astype(str).to_numpy()
            false = directional & np.isin(region, list(stable))
            row[f"{prefix}{name}_false_regions"] = len(set(region[false]))
            row[f"{prefix}{name}_stable_regions"] = len(stable & set(region))
            row[f"{prefix}{name}_marj"] = int((directional & (region == "Marj")).sum())
        cmp, tr = (dict(zip(results, tables, strict=True))[k] for k in ("compare", "trend"))
        row[f"{prefix}al_qasr_compare"] = _called(cmp, "increase")
        row[f"{prefix}al_qasr_trend"] = _called(tr, "rising")
    return row


def _called(table: pd.DataFrame, word: str) -> bool:
    return bool((table.loc[table["region"] == "Al Qasr", "verdict"] == word).any())


def summary(runs: pd.DataFrame, prefix: str) -> None:
    """The figures of one way of stating the tables (``""``: each call's own;
    ``"report_"``: the report's one family)."""
    methods = ("compare", "trend", "joinpoints")
    any_false = np.zeros(len(runs), dtype=bool)
    for name in methods:
        false = runs[f"{prefix}{name}_false_regions"]
        total = runs[f"{prefix}{name}_stable_regions"]
        any_false |= false.to_numpy() > 0
        print(
            f"{name:>10}: stable regions with a false directional word "
            f"{false.sum()}/{total.sum()} = {false.sum() / total.sum():.2%}; "
            f"seeds with any: {(false > 0).mean():.1%}; Marj directional words: "
            f"{runs[f'{prefix}{name}_marj'].sum()}"
        )
    print(f"seeds whose results carry any false word: {any_false.mean():.1%}")
    marj = runs[runs[[f"{prefix}{n}_marj" for n in methods]].sum(axis=1) > 0]
    if len(marj):
        print(f"seeds where Marj gets a directional word: {', '.join(map(str, marj['seed']))}")
    print(f"Al Qasr called: compare {runs[f'{prefix}al_qasr_compare'].mean():.1%}, "
          f"trend {runs[f'{prefix}al_qasr_trend'].mean():.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--csv", help="also write one row per seed to this file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    rows = [
        one_seed(s, args.permutations, args.bootstrap)
        for s in range(args.first_seed, args.first_seed + args.seeds)
    ]
    runs = pd.DataFrame(rows)
    if args.csv:
        runs.to_csv(args.csv, index=False)
    print(f"{len(runs)} seeds in {time.perf_counter() - start:.0f} s "
          f"(joinpoints: {args.permutations} permutations, {args.bootstrap} bootstrap draws)")
    print("-- each call's own table (compare, trend, joinpoints as the API returns them)")
    summary(runs, "")
    print("-- as the report states them (one family across the three tables)")
    summary(runs, "report_")

if __name__ == "__main__":
    main()
