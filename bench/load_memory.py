"""Peak memory of `triage inspect`, `triage scan` and `triage open` on a large gateway Parquet.

Usage: python bench/load_memory.py [SIZE_GB] [--keep] [--commands inspect,scan,open] [--file PATH]

Writes /tmp/triage-bench/gateway-<size>GB.parquet (never inside the repository; `--file` measures
another file instead, e.g. one of `bench/generate.py`), then runs each command on it in a child
process of its own and prints the child's wall time and peak RSS (`os.wait4`: that child's own, not
the largest of every child so far):

- `inspect`: `python -m tui.cli inspect --json FILE`;
- `scan`: `python -m tui.cli scan FILE --out /tmp/triage-bench-findings`;
- `open`: `TriageApp([FILE])` under Textual's `App.run_test` (headless, 160×48), the peak so far
  (`getrusage(RUSAGE_SELF)` in the child) read when the Tokens pane first shows rows (the first pane),
  when it is complete, and when the whole app is ready (every pane built, the events stored for the
  Events pane, no worker running); the child's peak from `wait4` is the last.

issue 2 asked for a 5 GB Parquet under 2 GB peak; the README's figure comes from here (Session 13 in
bench/RESULTS.md). The generated file is deleted afterwards unless `--keep` is given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

BYTES_PER_ROW = 860  # the JWT-sized authorization header dominates
REPO = Path(__file__).resolve().parents[1]
OUT_DIR = Path("/tmp/triage-bench")


def generate(path: Path, size_gb: float) -> int:
    """Write a gateway-shaped Parquet of about size_gb GB; returns the row count."""
    rows = int(size_gb * 1e9 / BYTES_PER_ROW)
    con = duckdb.connect()
    con.execute("SET memory_limit = '2GB'")
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""COPY (SELECT
              TIMESTAMPTZ '2023-05-01 00:00:00+00' + to_milliseconds(i * 3) AS time,
              '203.0.' || (i % 200) || '.' || (i // 200 % 250) || ':' || (40000 + i % 20000) AS client,
              CASE WHEN i % 3 = 0 THEN 'GET' ELSE 'POST' END AS method,
              'https://outlook.office.com/owa/service.svc?action=' ||
                  (['GetItem', 'FindItem', 'GetConversationItems'])[1 + i % 3] || '&n=' || i AS url,
              200 AS status,
              'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/114.0' AS user_agent,
              'Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.' || repeat(md5((i // 50)::VARCHAR), 20) ||
                  '.' || md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS request_header_authorization,
              'SMTP:user' || (i % 500) || '@contoso.gov' AS request_header_x_anchormailbox,
              (i % 100000)::BIGINT AS bytes
            FROM range({rows}) t(i))
           TO '{path}' (FORMAT parquet, COMPRESSION uncompressed, ROW_GROUP_SIZE 122880)"""
    )
    con.close()
    return rows


def run(cmd: list[str], env: dict[str, str]) -> tuple[int, float, float, str]:
    """Run one child; its exit code, wall seconds, peak RSS in MiB (its own, `wait4`) and stdout."""
    if hasattr(os, "sync"):
        os.sync()  # the previous child's writes are not this one's to pay for
    t0 = time.monotonic()
    log = OUT_DIR / "child.log"
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak (communicate() would reap it)
    code = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    if code not in (0, 2):
        print(out[-2000:], log.read_text()[-2000:], file=sys.stderr)
    log.replace(log.with_name(f"child-{cmd[3] if cmd[1] == '-m' else 'open'}.log"))
    return code, wall, usage.ru_maxrss / 1024, out


def open_child(path: str, timeout: float) -> None:
    """The `open` measurement, run in its own process (`--child-open`): one JSON line of
    (seconds since start, peak RSS MiB so far) at the first pane, the complete Tokens pane and ready."""
    import asyncio
    import resource

    t0 = time.monotonic()
    from tui.app import TriageApp
    from tui.engine.core.options import Options
    from tui.screens.main import MainScreen
    from tui.widgets.pane_view import PaneView

    def mark() -> dict[str, float]:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {"seconds": round(time.monotonic() - t0, 2), "peak_mib": round(peak)}

    async def main() -> None:
        app = TriageApp([path], Options())
        seen: dict[str, dict[str, float]] = {}
        said, deadline = "", time.monotonic() + timeout
        async with app.run_test(size=(160, 48)) as pilot:
            while "ready" not in seen:
                await pilot.pause(0.1)  # every pause walks the DOM: 0.1 s keeps that off the engine
                screen = app.screen
                if not isinstance(screen, MainScreen):
                    continue
                views = list(screen.query(PaneView))
                tokens = screen.query_one("#pane-tokens", PaneView)
                state = " | ".join(
                    [str(screen.query_one("#header").render()).splitlines()[0][-60:]]
                    + [f"{v.id} ready={v.ready} total={v.total} pending={v.pending}" for v in views]
                    + [f"error: {n.message}" for n in app._notifications if n.severity == "error"]
                )
                if state != said:  # what the app is doing, on stderr (the child's log)
                    print(f"{time.monotonic() - t0:7.1f} s {mark()['peak_mib']} MiB {state}", file=sys.stderr)
                    said = state
                if time.monotonic() > deadline:
                    print(json.dumps({**seen, "timeout": mark()}), flush=True)
                    os._exit(3)
                if "first_pane" not in seen and tokens.ready and tokens.shown:
                    seen["first_pane"] = {**mark(), "rows": tokens.total}
                if "first_pane" in seen and "tokens_complete" not in seen and not tokens.pending:
                    if tokens.ready and not tokens.has_class("-querying"):
                        seen["tokens_complete"] = {**mark(), "rows": tokens.total}
                header = str(screen.query_one("#header").render())
                settled = all(v.ready and not v.has_class("-querying") for v in views)
                if "tokens_complete" in seen and settled and "● ready" in header:
                    if not any(w.is_running for w in app.workers):
                        seen["ready"] = mark()
            print(json.dumps(seen), flush=True)
            os._exit(0)  # the measurement is taken; the app's teardown is not part of it

    asyncio.run(main())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("size_gb", nargs="?", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--commands", default="inspect,scan,open", help="which to measure, comma-separated")
    parser.add_argument("--file", type=Path, help="measure this Parquet instead of generating one")
    parser.add_argument("--open-timeout", type=float, default=3600, help="give up on open after this (s)")
    parser.add_argument("--child-open", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_open:
        open_child(args.child_open, args.open_timeout)
        return 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = args.file or OUT_DIR / f"gateway-{args.size_gb:g}GB.parquet"
    if not path.exists():
        t0 = time.monotonic()
        rows = generate(path, args.size_gb)
        size = path.stat().st_size / 1e9
        print(f"generated {path}: {rows:,} rows, {size:.2f} GB in {time.monotonic() - t0:.0f} s", flush=True)
    rows = duckdb.sql(f"SELECT count(*) FROM read_parquet('{path}')").fetchall()[0][0]
    print(f"{path}: {path.stat().st_size / 1e9:.2f} GB, {rows:,} rows", flush=True)
    cache = OUT_DIR / "cache"
    env = dict(os.environ, TRIAGE_CACHE_DIR=str(cache), TRIAGE_STATE_DIR=str(OUT_DIR / "state"))
    env["PYTHONPATH"] = str(REPO)
    worst = 0.0
    for command in args.commands.split(","):
        if command == "inspect":
            code, wall, peak, out = run(
                [sys.executable, "-m", "tui.cli", "inspect", "--json", str(path)], env
            )
            detail = ""
            if code == 0:
                f = json.loads(out)["files"][0]
                detail = f"; rows {f['rows']:,}, kind {f['kind']}, raw tokens {f['counts']['tokens']:,}"
        elif command == "scan":
            out_dir = OUT_DIR.with_name("triage-bench-findings")  # never inside the evidence's folder
            cmd = [sys.executable, "-m", "tui.cli", "scan", str(path), "--out", str(out_dir)]
            code, wall, peak, out = run(cmd, env)
            detail = "".join(f"; {line}" for line in out.splitlines() if line.startswith("tokens: "))
        elif command == "open":
            cmd = [
                sys.executable,
                __file__,
                "--child-open",
                str(path),
                "--open-timeout",
                str(args.open_timeout),
            ]
            code, wall, peak, out = run(cmd, env)
            stages = json.loads(out.strip().splitlines()[-1]) if code in (0, 3) else {}
            detail = "".join(
                f"; {name} at {s['seconds']} s, peak so far {s['peak_mib']:,} MiB"
                for name, s in stages.items()
            )
        else:
            raise SystemExit(f"unknown command {command!r}")
        worst = max(worst, peak)
        print(f"triage {command}: exit {code} in {wall:.0f} s; peak RSS {peak:,.0f} MiB{detail}", flush=True)
    if not args.keep and not args.file:
        path.unlink(missing_ok=True)
    return 0 if worst < 2048 else 1


if __name__ == "__main__":
    raise SystemExit(main())
