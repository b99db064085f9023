"""The identity mix's benchmark (issue 20): `triage scan` of N rows of sign-ins and audit records.

Usage (from the repository root, venv active):

    python bench/identity.py --rows 10000000
    python bench/identity.py --rows 1000000 --runs 3 --repo /tmp/before --repo .

The input (`bench/generate_identity.py`: three Parquet files in one folder) is generated once under
`--dir`/inputs and reused. Each scan runs in a fresh child process, its peak RSS from `os.wait4`
(`bench.run_child`); with several `--repo`s (checkouts of the code to compare: each is the child's
working directory and its `PYTHONPATH`) the runs alternate, repo after repo, so a shared machine's
load falls on both alike. The findings CSVs of every run are compared with the first repo's first
run's (byte for byte; the manifest, which holds times, is not compared). The table is printed and
written to `--dir`/identity-results.md.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import REPO, check, machine, probe, run_child, table

HERE = Path(__file__).resolve().parent
COMPARED = ("tokens.csv", "mailboxes.csv", "drift.csv", "sessions.csv", "actions.csv")


def inputs(directory: Path, rows: int) -> Path:
    """The identity mix of `rows` rows, generated once (in a child: DuckDB may take 4 GB)."""
    folder = directory / "inputs" / f"identity-{rows}r"
    if not folder.exists():
        t = time.monotonic()
        partial = folder.with_name(folder.name + ".partial")
        subprocess.run(
            [sys.executable, str(HERE / "generate_identity.py"), str(partial), str(rows)], check=True
        )
        partial.rename(folder)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        print(f"generated {folder} ({size:.0f} MB) in {time.monotonic() - t:.0f} s", flush=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--repo", type=Path, action="append", help="a checkout to run (default: this one)")
    parser.add_argument("--dir", type=Path, default=HERE / "out")
    args = parser.parse_args()
    repos = [r.resolve() for r in (args.repo or [REPO])]
    directory = args.dir.resolve()
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = f"python bench/identity.py {' '.join(sys.argv[1:])}".strip()
    print(f"Run {started}; {machine()}\n\nCommand: `{command}`\n", flush=True)
    folder = inputs(directory, args.rows)
    env = dict(
        os.environ,
        TRIAGE_CACHE_DIR=str(directory / "cache"),
        TRIAGE_STATE_DIR=str(directory / "state"),
        TZ="UTC",
    )
    fl = check(run_child(probe("identity_floor", folder), env, logs / "identity-floor.log"), "floor")
    rows: list[tuple[str, str, str, str]] = []

    def add(metric: str, value: str) -> None:
        rows.append((metric, value, "", ""))
        print(f"{metric}: {value}", flush=True)

    size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    add(
        f"input: {folder.name}",
        f"{fl.out['signins']:,} sign-ins ({fl.out['sessions']:,} sessions, {fl.out['users']:,} users, "
        f"{fl.out['ips']:,} addresses), {fl.out['audit']:,} mail reads and changes, {size:,.0f} MB",
    )
    add(
        "floor (bare DuckDB pass, fresh process)",
        f"{float(fl.out['seconds']):.2f} s, peak {fl.peak_mib:,.0f} MiB",
    )  # type: ignore[arg-type]
    times: dict[Path, list[str]] = {r: [] for r in repos}
    first: Path | None = None
    for run in range(args.runs):
        for n, repo in enumerate(repos):
            out = directory / f"scan-identity-{n}-{run}"
            cmd = [sys.executable, "-m", "tui.cli", "scan", str(folder), "--out", str(out)]
            child_env = dict(env, PYTHONPATH=str(repo))
            sc = check(
                run_child(cmd, child_env, logs / f"scan-identity-{n}-{run}.log", cwd=repo), "triage scan"
            )
            times[repo].append(f"{sc.wall:.2f} s / {sc.peak_mib:,.0f} MiB (load {os.getloadavg()[0]:.1f})")
            print(f"  {repo} run {run + 1}: {times[repo][-1]}", flush=True)
            if first is None:
                first = out
            else:
                same = [name for name in COMPARED if filecmp.cmp(first / name, out / name, shallow=False)]
                if len(same) != len(COMPARED):
                    differ = sorted(set(COMPARED) - set(same))
                    print(f"  findings differ from the first run's: {', '.join(differ)}", flush=True)
                    add(
                        f"findings of {repo} run {run + 1}",
                        f"DIFFER from the first run's: {', '.join(differ)}",
                    )
    for repo in dict.fromkeys(repos):  # a repo given twice (after, before, after) is one line
        add(f"triage scan ({repo}): wall / peak RSS per run", "; ".join(times[repo]))
    if args.runs * len(repos) > 1 and not any("DIFFER" in v for _, v, _, _ in rows):
        add("findings (tokens, mailboxes, drift, sessions, actions CSVs)", "byte-identical across every run")
    text = f"Run {started}; {machine()}\n\nCommand: `{command}`\n\n{table(rows)}\n"
    (directory / "identity-results.md").write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
