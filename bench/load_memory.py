"""Peak memory of `triage inspect` on a large gateway Parquet (issue 2: 5 GB must open under 2 GB RSS).

Usage: python bench/load_memory.py [SIZE_GB] [--keep]
Writes /tmp/triage-bench/gateway-<size>GB.parquet (never inside the repository), runs
`triage inspect` on it in a child process and prints the child's peak RSS and wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

BYTES_PER_ROW = 860  # the JWT-sized authorization header dominates


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("size_gb", nargs="?", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    out_dir = Path("/tmp/triage-bench")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"gateway-{args.size_gb:g}GB.parquet"
    if not path.exists():
        t0 = time.monotonic()
        rows = generate(path, args.size_gb)
        size = path.stat().st_size / 1e9
        print(f"generated {path}: {rows:,} rows, {size:.2f} GB in {time.monotonic() - t0:.0f} s")
    env = dict(os.environ, TRIAGE_CACHE_DIR=str(out_dir / "cache"))
    cmd = [sys.executable, "-m", "tui.cli", "inspect", "--json", str(path)]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    print(f"triage inspect exit {proc.returncode} in {wall:.0f} s; peak RSS {peak_kib / 1024:.0f} MiB")
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])
    else:
        import json

        doc = json.loads(proc.stdout)
        f = doc["files"][0]
        tokens = f["counts"]["tokens"]
        print(f"rows {f['rows']:,}, kind {f['kind']}, tokens {tokens:,}, {f['ts_min']} .. {f['ts_max']}")
    if not args.keep:
        path.unlink(missing_ok=True)
    return 0 if proc.returncode == 0 and peak_kib < 2 * 1024 * 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
