"""Where `triage scan`'s time goes: every engine SQL statement that took over 0.2 CPU-seconds (or
$STAGES_THRESHOLD; the process's CPU, DuckDB's threads included: on a shared machine the wall time
follows the load, the CPU much less), with its wall and CPU time, and for each stage its wall time,
CPU time and the cores it kept busy.

Usage: python bench/stages.py PARQUET [OUT_DIR] [--ioc FILE]   (runs load → annotate → analyses →
findings in-process; `--ioc` as `triage scan --ioc`, e.g. the dense-hit case's list of every client IP)
"""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tui.engine.analyses import tables as analyses
from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.case.state import hash_in_background, sha256_of
from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.findings.scan import write_findings
from tui.engine.ingest.load import load

THRESHOLD = float(os.environ.get("STAGES_THRESHOLD", "0.2"))


class Timed:
    """A connection whose execute() reports slow statements (the engine's own SQL, unchanged)."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        t, c = time.monotonic(), time.process_time()
        result = self.con.execute(sql, *args, **kwargs)
        took, cpu = time.monotonic() - t, time.process_time() - c
        if cpu > THRESHOLD:
            # an indicator's INSERT names its code in its first parameter
            code = (
                args[0][0]
                if args and isinstance(args[0], list) and args[0] and isinstance(args[0][0], str)
                else ""
            )
            label = f"[{code}] " if code and code.isupper() else ""
            print(f"    {took:6.2f} s ({cpu:6.2f} CPU)  {label}{' '.join(sql.split())[:100]}", flush=True)
        return result

    def cursor(self) -> Any:
        return Timed(self.con.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def main() -> None:
    args = sys.argv[1:]
    iocs: tuple[Path, ...] = ()
    if "--ioc" in args:
        at = args.index("--ioc")
        iocs = (Path(args[at + 1]),)
        del args[at : at + 2]
    path = args[0]
    out = Path(args[1] if len(args) > 1 else "/tmp/triage-stages")
    con, options = connect(), Options(iocs=iocs)
    # the inputs hashed in a thread from the start, as `triage scan` does (the manifest waits for it)
    hashes = hash_in_background([Path(path)], sha256_of)
    timed: Any = Timed(con)
    last = (time.monotonic(), time.process_time())

    def stage(name: str) -> None:
        # wall time, and the process's CPU time over it: how many of the cores the stage kept busy
        nonlocal last
        now = (time.monotonic(), time.process_time())
        wall, cpu = now[0] - last[0], now[1] - last[1]
        print(f"{wall:7.2f} s  {name}  (CPU {cpu:.2f} s: {cpu / wall if wall else 0:.2f} cores)", flush=True)
        last = now

    report = load(timed, [path], options, materialise=True)  # as Session.open does
    stage("load")
    annotation = annotate(Case.start(options, timed), report, materialise_events=False)  # as triage scan does
    stage("annotate")
    analyses.build(timed, annotation.split)
    stage("analyses.build")
    write_findings(con, out, options, report, datetime.now(timezone.utc), hashes)
    stage("write_findings")


if __name__ == "__main__":
    main()
