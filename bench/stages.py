"""Where `triage scan`'s time goes: every engine SQL statement that took over 0.2 CPU-seconds (or
$STAGES_THRESHOLD; the process's CPU, DuckDB's threads included: on a shared machine the wall time
follows the load, the CPU much less), with its wall and CPU time and the most DuckDB held in its temp
directory while it ran (sampled every 0.2 s: where a scan's spill comes from, issue 24 §3), and for
each stage its wall time, CPU time and the cores it kept busy.

Usage: python bench/stages.py PARQUET [OUT_DIR] [--ioc FILE]   (runs load → annotate → analyses →
findings in-process; `--ioc` as `triage scan --ioc`, e.g. the dense-hit case's list of every client IP)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tui.engine.analyses import tables as analyses
from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.case.state import hash_in_background, sha256_of
from tui.engine.core.db import connect, tables_on_disk_for
from tui.engine.core.options import Options
from tui.engine.findings.scan import write_findings
from tui.engine.ingest.load import load

THRESHOLD = float(os.environ.get("STAGES_THRESHOLD", "0.2"))


class SpillWatch(threading.Thread):
    """Samples the bytes in DuckDB's temp directory; `peak` is the most seen since the last `reset`."""

    def __init__(self, folder: Path) -> None:
        super().__init__(daemon=True)
        self.folder, self.peak, self.most = folder, 0, 0

    def reset(self) -> None:
        self.peak = 0

    def run(self) -> None:
        while True:
            try:
                size = sum(f.stat().st_size for f in self.folder.rglob("*") if f.is_file())
            except OSError:  # a spill file removed while it was listed
                size = 0
            self.peak, self.most = max(self.peak, size), max(self.most, size)
            time.sleep(0.2)


SPILL = SpillWatch(Path("."))  # pointed at the connection's temp directory in main()


class Timed:
    """A connection whose execute() reports slow statements (the engine's own SQL, unchanged)."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        t, c = time.monotonic(), time.process_time()
        SPILL.reset()
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
            spilled = f"  spill {SPILL.peak / 2**30:.1f} GiB" if SPILL.peak >= 2**26 else ""
            text = " ".join(sql.split())[:100]
            print(f"    {took:6.2f} s ({cpu:6.2f} CPU){spilled}  {label}{text}", flush=True)
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
    con, options = connect(tables_on_disk=tables_on_disk_for([path])), Options(iocs=iocs)
    temp = con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert temp is not None
    SPILL.folder = Path(temp[0])
    SPILL.start()
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
    print(f"most spilled at once: {SPILL.most / 2**30:.1f} GiB", flush=True)
    # what the temp directory holds at the end is mostly tables: the biggest ones, rows x columns
    print("largest tables (rows x columns):")
    for db, schema, name, rows, cols in con.execute(
        "SELECT database_name, schema_name, table_name, estimated_size, column_count FROM duckdb_tables() "
        "ORDER BY estimated_size * column_count DESC LIMIT 15"
    ).fetchall():
        print(f"  {rows:>13,} x {cols:>3}  {db}.{schema}.{name}")


if __name__ == "__main__":
    main()
