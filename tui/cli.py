"""The `triage` command line (SPEC §1).

Textual is imported only inside `open`, so `triage --help` and the headless commands start
fast. Every command turns its flags into one `Options` and hands it to the engine; the
engine returns text that has already been made inert, and an exit code.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, Optional

import typer

from tui import __version__
from tui.engine.core.options import Options, parse_mapping
from tui.engine.core.safe import inert_cell

SHARED_HELP = """Shared options (open, scan, inspect, decode): --jwks FILE (repeatable; offline key lists),
--tenant TID and --domain DOMAIN (repeatable; the organisation, inferred from the data when absent),
--ioc FILE (extra indicators), --baseline-until DATE / --window DAYS (drift split; default: the last
14 days are the hunt window), --map FIELD=COLUMN (repeatable; overrides detection), --tz ZONE
(display only; everything is stored in UTC). Exit codes: 0 ok, 2 usage or unreadable input, 1 out
of memory (raise TRIAGE_MEMORY_LIMIT), 130 interrupted (Ctrl-C), 143 stopped by SIGTERM, 129 by
SIGHUP."""

app = typer.Typer(
    name="triage",
    help="Find forged and abused access tokens in Microsoft 365 / Entra ID / proxy log exports.\n\n"
    + SHARED_HELP,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Paths = Annotated[list[str], typer.Argument(help="Files, directories or globs.", show_default=False)]
Jwks = Annotated[
    Optional[list[Path]], typer.Option("--jwks", help="JWKS file to verify signatures against (repeatable).")
]
Tenant = Annotated[
    Optional[list[str]], typer.Option("--tenant", help="The organisation's tenant id (repeatable).")
]
Domain = Annotated[
    Optional[list[str]], typer.Option("--domain", help="The organisation's mail domain (repeatable).")
]
Ioc = Annotated[
    Optional[list[Path]], typer.Option("--ioc", help="Extra indicators file (repeatable; see README).")
]
BaselineUntil = Annotated[
    Optional[str], typer.Option("--baseline-until", help="End of the drift baseline (ISO date, UTC).")
]
Window = Annotated[int, typer.Option("--window", help="Days in the drift hunt window.", min=1)]
Map = Annotated[
    Optional[list[str]], typer.Option("--map", help="FIELD=COLUMN, overrides detection (repeatable).")
]
Tz = Annotated[str, typer.Option("--tz", help="Zone for displayed times (stored times stay UTC).")]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress on stderr (none is drawn unless stderr is a terminal)."),
]
# SPEC §10's sign-in indicator bounds and SPEC §11's model bounds, one flag for all:
# `--bound spray-users=3` (the defaults are Options')
BOUNDS = {
    "aitm-seconds": "aitm_seconds",
    "spray-users": "spray_users",
    "spray-minutes": "spray_minutes",
    "travel-kmh": "travel_kmh",
    "history-days": "history_days",
    "model-top-k": "model_top_k",
    "model-prior": "model_prior",
    "model-min-events": "model_min_events",
}
Bound = Annotated[
    Optional[list[str]],
    typer.Option(
        "--bound",
        help="A sign-in indicator bound NAME=VALUE (repeatable): aitm-seconds (30), spray-users (5), "
        "spray-minutes (60), travel-kmh (900), history-days (7); the behaviour model's model-top-k (3), "
        "model-prior (5), model-min-events (30).",
    ),
]


def _options(
    jwks: list[Path] | None,
    tenant: list[str] | None,
    domain: list[str] | None,
    ioc: list[Path] | None,
    baseline_until: str | None,
    window: int,
    mapping: list[str] | None,
    tz: str,
    include_secrets: bool = False,
    bound: list[str] | None = None,
) -> Options:
    """Validate the shared flags once, failing with exit code 2 on anything unusable."""
    try:
        bounds = _bounds(bound or [])
        parsed_map = parse_mapping(mapping or [])
        until = None
        if baseline_until:
            until = datetime.fromisoformat(baseline_until)
            if until.tzinfo is not None:
                until = until.astimezone(timezone.utc).replace(tzinfo=None)
        _check_zone(tz)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    for path in [*(jwks or []), *(ioc or [])]:
        if not path.is_file():
            raise typer.BadParameter(f"no such file: {path}")
    options = Options(
        jwks=tuple(jwks or ()),
        tenants=tuple(t.lower() for t in tenant or ()),
        domains=tuple(d.lower().lstrip("@") for d in domain or ()),
        iocs=tuple(ioc or ()),
        baseline_until=until,
        window_days=window,
        mapping=parsed_map,
        tz=tz,
        include_secrets=include_secrets,
    )
    return dataclasses.replace(options, **bounds)


def _bounds(pairs: list[str]) -> dict[str, Any]:
    """`--bound NAME=VALUE` pairs as Options fields; a positive number each."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        field = BOUNDS.get(name.strip().lower().replace("_", "-"))
        if not sep or field is None:
            raise ValueError(f"--bound {pair!r}: expected NAME=VALUE with NAME one of {', '.join(BOUNDS)}")
        try:
            number = float(value) if field in ("travel_kmh", "model_prior") else int(value)
        except ValueError:
            raise ValueError(f"--bound {pair!r}: {value!r} is not a number") from None
        if number <= 0:
            raise ValueError(f"--bound {pair!r}: must be more than 0")
        out[field] = number
    return out


def _check_zone(tz: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


def _finish(text: str, code: int) -> None:
    if text:
        typer.echo(text)
    raise typer.Exit(code)


INTERRUPTED = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C
# How a run ends when it is asked to stop: the code a shell reports for a command the signal ended
# (128 + its number) and the one line said on stderr. SIGTERM (`kill`, a service manager, a batch
# scheduler's time limit) and SIGHUP (the terminal or the ssh connection closed) stop it as cleanly
# as Ctrl-C: the copies of inputs and the spill files are removed, no findings file is left half
# written, no traceback.
STOPS: dict[int, tuple[int, str]] = {
    signal.SIGINT: (INTERRUPTED, "interrupted"),
    signal.SIGTERM: (128 + signal.SIGTERM, "stopped by SIGTERM"),
}
if hasattr(signal, "SIGHUP"):  # POSIX
    STOPS[signal.SIGHUP] = (128 + signal.SIGHUP, "stopped by SIGHUP")


OUT_OF_MEMORY = 1  # the analysis could not finish under DuckDB's memory cap


def _out_of_memory(exc: BaseException) -> str:
    """For DuckDB's out-of-memory error, the one line said instead of its traceback ("" otherwise):
    the cap it ran into and how to raise it (bench/RESULTS.md, Session 13, for what needs more)."""
    if type(exc).__name__ != "OutOfMemoryException" or not type(exc).__module__.startswith(
        ("duckdb", "_duckdb")
    ):
        return ""
    from tui.engine.core.db import DEFAULT_MEMORY_LIMIT

    cap = os.environ.get("TRIAGE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
    return (
        f"out of memory: DuckDB needed more than its {cap} cap for these inputs "
        f"(set TRIAGE_MEMORY_LIMIT higher, e.g. TRIAGE_MEMORY_LIMIT=4GB, on a machine that has it)"
    )


def _stoppable(
    what: str, run: Callable[[Callable[[str, float], None] | None], tuple[str, int]], quiet: bool = True
) -> None:
    """Run a headless command; Ctrl-C, SIGTERM or SIGHUP stop it with one line on stderr and the
    signal's exit code (`STOPS`: 130, 143, 129).

    `run` is given a `(stage, fraction)` progress callback (`tui.progress`), or None: with `quiet`,
    or when stderr is not a terminal. The progress line is gone before anything is printed.

    DuckDB turns the signal into its own errors mid-query (`Query interrupted`, or a connection
    left busy when the KeyboardInterrupt landed between two fetches and a cleanup query followed),
    so whatever is raised after a stop is the stop, and no traceback is printed for it. The
    findings are written as a set (`tui.engine.findings.scan.write_findings`): none is left half
    written, and an old set is never mixed with a new one."""
    stopped: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in STOPS}

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stopped.append(signum)
        signal.default_int_handler(signum, frame)  # KeyboardInterrupt, which DuckDB checks for

    for signum in STOPS:
        signal.signal(signum, on_stop)
    from tui.progress import terminal_progress

    try:
        with terminal_progress(quiet) as say:
            result = run(say)
    except BaseException as exc:
        if not stopped:
            if _out_of_memory(exc):
                typer.echo(f"triage {what}: {_out_of_memory(exc)}", err=True)
                raise typer.Exit(OUT_OF_MEMORY) from None
            raise
        code, said = STOPS[stopped[0]]
        typer.echo(f"triage {what}: {said}", err=True)
        raise typer.Exit(code) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    _finish(*result)


@app.command("open")
def open_(
    paths: Paths,
    jwks: Jwks = None,
    tenant: Tenant = None,
    domain: Domain = None,
    ioc: Ioc = None,
    baseline_until: BaselineUntil = None,
    window: Window = 14,
    mapping: Map = None,
    tz: Tz = "UTC",
    bound: Bound = None,
) -> None:
    """Open the inputs in the terminal UI."""
    options = _options(jwks, tenant, domain, ioc, baseline_until, window, mapping, tz, bound=bound)
    from tui.app import run_app  # Textual is imported here and nowhere earlier

    raise typer.Exit(run_app(paths, options))


@app.command()
def scan(
    paths: Paths,
    out: Annotated[Path, typer.Option("--out", help="Directory for the findings files.")],
    include_secrets: Annotated[
        bool, typer.Option("--include-secrets", help="Also write raw tokens (evidence handling!).")
    ] = False,
    jwks: Jwks = None,
    tenant: Tenant = None,
    domain: Domain = None,
    ioc: Ioc = None,
    baseline_until: BaselineUntil = None,
    window: Window = 14,
    mapping: Map = None,
    tz: Tz = "UTC",
    bound: Bound = None,
    quiet: Quiet = False,
    engine: Annotated[
        str,
        typer.Option("--engine", help="duckdb (one machine) or spark (SPEC §9; the spark extra and Java)."),
    ] = "duckdb",
    spark_master: Annotated[
        str,
        typer.Option("--spark-master", help="Spark master for --engine spark (spark://host:7077, yarn…)."),
    ] = "local[*]",
) -> None:
    """Analyse headless: write the findings files (tokens, mailboxes, drift, sessions), manifest, summary."""
    options = _options(jwks, tenant, domain, ioc, baseline_until, window, mapping, tz, include_secrets, bound)
    if engine not in ("duckdb", "spark"):
        typer.echo(f"triage scan: --engine {inert_cell(engine)}: choose duckdb or spark", err=True)
        raise typer.Exit(2)
    if engine == "spark":
        from tui.engine.spark.scan import run_scan as run_spark_scan

        _stoppable("scan", lambda say: run_spark_scan(paths, out, options, spark_master, say), quiet)
        return
    from tui.engine.findings.scan import run_scan

    _stoppable("scan", lambda say: run_scan(paths, out, options, say), quiet)


@app.command()
def inspect(
    paths: Paths,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    jwks: Jwks = None,
    tenant: Tenant = None,
    domain: Domain = None,
    ioc: Ioc = None,
    baseline_until: BaselineUntil = None,
    window: Window = 14,
    mapping: Map = None,
    tz: Tz = "UTC",
    quiet: Quiet = False,
) -> None:
    """Pre-flight: per file the format, kind, mapping, rows, time range and what the evidence can answer."""
    options = _options(jwks, tenant, domain, ioc, baseline_until, window, mapping, tz)
    from tui.engine.findings.inspect import run_inspect

    _stoppable("inspect", lambda say: run_inspect(paths, options, as_json, say), quiet)


@app.command()
def decode(
    token: Annotated[
        Optional[str], typer.Argument(help="A JWT; omit to read one per line from stdin.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    jwks: Jwks = None,
    tenant: Tenant = None,
    domain: Domain = None,
    ioc: Ioc = None,
    baseline_until: BaselineUntil = None,
    window: Window = 14,
    mapping: Map = None,
    tz: Tz = "UTC",
) -> None:
    """Decode tokens: header, claims with UTC times, signature status (with --jwks) and indicators."""
    options = _options(jwks, tenant, domain, ioc, baseline_until, window, mapping, tz)

    def run(_: object) -> tuple[str, int]:
        # Read inside `_stoppable`: a Ctrl-C while it waits on stdin is a stop like any other.
        tokens = [token] if token is not None else [line.strip() for line in sys.stdin if line.strip()]
        if not tokens:
            raise typer.BadParameter("no token given (argument or one per line on stdin)")
        from tui.engine.findings.decode import run_decode

        return run_decode(tokens, options, as_json)

    _stoppable("decode", run)


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the synthetic incident into.")],
    rows: Annotated[int, typer.Option("--rows", help="Approximate gateway rows.", min=100)] = 20000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 7,
    tenant: Tenant = None,
    domain: Domain = None,
) -> None:
    """Write a realistic synthetic Storm-0558-style incident, with truth.json naming what was planted."""
    from tui.engine.sample.incident import run_sample

    _stoppable("sample", lambda _: run_sample(out_dir, rows, seed, tuple(tenant or ()), tuple(domain or ())))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Find forged and abused access tokens in Microsoft 365 / Entra ID / proxy log exports."""
    if any(arg in ("--help", "-h") for arg in sys.argv[1:]):
        return  # help needs no cache folder
    from tui.engine.core.db import cache_dir, prune_dead

    try:  # the spill files and work database live there: say so instead of a traceback later
        cache_dir()
        prune_dead()  # what runs killed before their exit left there (copies with raw tokens)
    except OSError as exc:
        where = exc.filename or os.environ.get("TRIAGE_CACHE_DIR", "")
        reason = exc.strerror or type(exc).__name__
        _finish(
            inert_cell(f"triage: the cache folder {where} cannot be used ({reason}); set TRIAGE_CACHE_DIR"), 2
        )


if __name__ == "__main__":  # pragma: no cover
    app()
