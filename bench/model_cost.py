"""What the behaviour model adds to `triage scan` and `triage open` (issue 22 point 6; SPEC §11).

    python bench/model_cost.py PARQUET [--runs 2]

In a fresh child process per run (as `triage scan` runs): open the file as `scan` does, then time
`analyses.build` (the pane tables, drift and the model, as `scan` builds them) and, inside it, the
model's learning alone (`model.learn`, called again on the same tables: the same SQL over the same
counts); then the TUI's extra step, `score_events` (every stored event's `anomaly`, one UPDATE) after
the events are stored. Prints wall seconds and the model's share of the whole scan's time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
from tui.engine.analyses import tables
from tui.engine.analyses.model import learn, score_events
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.indicators.events_view import materialise_events
t0 = time.monotonic()
s = Session.open([sys.argv[1]], Options(), materialise_events=False)
t1 = time.monotonic()
tables.build(s.con, s.annotation.split)
t2 = time.monotonic()
learn(s.con, s.annotation.split.baseline_end)
t3 = time.monotonic()
materialise_events(s.con)
t4 = time.monotonic()
score_events(s.con)
t5 = time.monotonic()
n = s.con.execute("SELECT count(*), count(anomaly) FROM events").fetchone()
combos = s.con.execute("SELECT count(*) FROM model_combos").fetchone()[0]
s.close()
print(json.dumps({"open": t1 - t0, "build": t2 - t1, "learn": t3 - t2, "store": t4 - t3,
                  "score_events": t5 - t4, "rows": n[0], "scored": n[1], "combos": combos}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    for run in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, args.parquet, str(REPO)], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        scan = r["open"] + r["build"]
        print(
            f"run {run + 1}: rows {r['rows']:,}, combinations {r['combos']:,}; "
            f"open+annotate {r['open']:.1f} s, analyses {r['build']:.1f} s of which the model "
            f"{r['learn']:.1f} s ({100 * r['learn'] / (scan - r['learn']):.0f}% added to the "
            f"{scan - r['learn']:.1f} s without it); "
            f"TUI: store events {r['store']:.1f} s, score events {r['score_events']:.1f} s "
            f"({r['scored']:,} scored)",
            flush=True,
        )
        time.sleep(1)


if __name__ == "__main__":
    main()
