"""What writing `case/` adds to `triage scan`, and what opening it costs (issue 23 point 4; SPEC §9).

    python bench/case_cost.py PARQUET [--runs 2]

In a fresh child process per run (as `triage scan` runs), the scan's own steps (`run_scan`: open,
`analyses.build`, `write_findings`), alternately without case/ (`write_findings` without the
annotation: the CSVs and manifest only) and with it, so the shared machine's load falls on both
alike. Prints wall seconds per run, the write phase apart, the size of case/ and the rows exported;
then `Session.open_case` on the folder (what `triage open DIR` does before the first pane).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from datetime import datetime, timezone
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tui.engine.analyses import tables
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.findings.scan import write_findings
out, with_case = Path(sys.argv[3]), sys.argv[4] == "1"
t0 = time.monotonic()
s = Session.open([sys.argv[1]], Options(), materialise_events=False)
tables.build(s.con, s.annotation.split)
t1 = time.monotonic()
write_findings(s.con, out, Options(), s.report, datetime.now(timezone.utc), None,
               s.annotation if with_case else None)
t2 = time.monotonic()
s.close()
case = out / "case"
size = sum(p.stat().st_size for p in case.glob("*")) if case.is_dir() else 0
exported = json.loads((case / "case.json").read_text())["events"]["exported"] if case.is_dir() else 0
print(json.dumps({"scan": t2 - t0, "write": t2 - t1, "case_bytes": size, "exported": exported}))
"""

OPEN = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tui.engine.case.session import Session
from tui.engine.core.options import Options
t0 = time.monotonic()
s = Session.open_case(Path(sys.argv[1]), Options())
t1 = time.monotonic()
s.close()
print(json.dumps({"open_case": t1 - t0}))
"""


def child(code: str, *args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("parquet")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="triage-case-cost-") as tmp:
        for run in range(args.runs):
            for with_case in (False, True):
                out = Path(tmp) / f"out-{run}-{int(with_case)}"
                got = child(CHILD, args.parquet, str(REPO), str(out), "1" if with_case else "0")
                label = "with case/   " if with_case else "without case/"
                extra = (
                    f"  case/ {got['case_bytes'] / 2**20:.1f} MiB, {got['exported']:,} events"
                    if with_case
                    else ""
                )
                print(f"run {run + 1} {label} scan {got['scan']:6.2f} s  write {got['write']:5.2f} s{extra}")
        folder = Path(tmp) / f"out-{args.runs - 1}-1"
        for _ in range(args.runs):
            print(
                f"open the folder (Session.open_case) {child(OPEN, str(folder), str(REPO))['open_case']:.2f} s"
            )


if __name__ == "__main__":
    main()
