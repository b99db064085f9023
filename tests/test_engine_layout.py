"""The engine's house: stage packages whose imports run one way, and one case context per open or scan."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "tui" / "engine"
SAMPLE = REPO / "sample_logs"
# The stages in the order data flows; `sample` is the generator beside them and takes only `core`.
# `spark` (SPEC §9: the same analysis on Spark, its SQL transpiled from the stages') is the top layer.
STAGES = ("core", "ingest", "tokens", "indicators", "analyses", "case", "findings", "spark")
ALLOWED = {stage: set(STAGES[: i + 1]) for i, stage in enumerate(STAGES)} | {"sample": {"core", "sample"}}


def _engine_imports(path: Path) -> list[tuple[int, str]]:
    """Every `tui.engine…` module this file imports, anywhere in it (function-level imports too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tui.engine"):
            if node.module == "tui.engine" or node.module.count(".") == 2:  # `from tui.engine.core import x`
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("tui.engine")]
    return found


def _modules() -> dict[str, Path]:
    return {
        ".".join(p.relative_to(ENGINE).with_suffix("").parts): p
        for p in sorted(ENGINE.rglob("*.py"))
        if p.stem != "__init__"
    }


def test_every_module_lives_in_a_stage_package() -> None:
    flat = sorted(p.name for p in ENGINE.glob("*.py") if p.stem != "__init__")
    assert flat == []
    packages = sorted(p.name for p in ENGINE.iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted([*STAGES, "sample"])
    for name in packages:
        doc = ast.get_docstring(ast.parse((ENGINE / name / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc.lower(), f"{name}/__init__.py must say what it owns and may import"


def test_imports_run_from_later_stages_to_earlier_ones() -> None:
    wrong = []
    for name, path in _modules().items():
        stage = name.split(".")[0]
        for line, target in _engine_imports(path):
            parts = target.split(".")
            assert len(parts) >= 3 and parts[2] in ALLOWED, f"{name}:{line} imports {target}"
            if parts[2] not in ALLOWED[stage]:
                wrong.append(f"{name}:{line} ({stage}) imports {target}")
    assert wrong == []


def test_no_module_imports_itself_round_a_circle() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for _, target in _engine_imports(path):
            dotted = target.removeprefix("tui.engine.")
            while dotted and dotted not in modules:  # `from pkg.mod import name` → pkg.mod
                dotted = dotted.rpartition(".")[0]
            if dotted and dotted != name:
                targets.add(dotted)
        graph[name] = targets
    done: set[str] = set()

    def visit(node: str, trail: tuple[str, ...]) -> None:
        assert node not in trail, " → ".join([*trail[trail.index(node) :], node])
        if node in done:
            return
        for nxt in sorted(graph[node]):
            visit(nxt, (*trail, node))
        done.add(node)

    for name in sorted(graph):
        visit(name, ())
    # the circle the flat folder had, gone: marks no longer imports the pane tables
    assert "analyses.tables" not in graph["analyses.marks"]


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times the intel and the key lists are read: every engine module's name for the two
    readers is wrapped (the real functions still run)."""
    import tui.engine.findings.scan  # noqa: F401  (every stage imported, so every alias is seen)
    from tui.engine.case import annotate, preview, session  # noqa: F401
    from tui.engine.tokens import intel, verify

    counts = {"intel": 0, "key lists": 0}
    real = {"intel": intel.load_intel, "key lists": verify.read_key_lists}

    def counting(what: str):  # type: ignore[no-untyped-def]
        def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
            counts[what] += 1
            return real[what](*args, **kwargs)

        return wrapped

    for module in [m for n, m in sys.modules.items() if n.startswith("tui.engine")]:
        for attr, what in (("load_intel", "intel"), ("read_key_lists", "key lists")):
            if getattr(module, attr, None) is real[what]:
                monkeypatch.setattr(module, attr, counting(what))
    return counts


def test_a_scan_reads_the_intel_and_the_key_lists_once(reads: dict[str, int], tmp_path: Path) -> None:
    from tui.engine.core.options import Options
    from tui.engine.findings.scan import run_scan

    text, code = run_scan([str(SAMPLE)], tmp_path / "out", Options())
    assert code == 0
    assert "key lists used for signatures:" in text and "jwks.json" in text  # the sample's key list was used
    assert reads == {"intel": 1, "key lists": 1}


def test_an_open_with_the_preview_reads_them_once_too(reads: dict[str, int]) -> None:
    from tui.engine.case.session import Session
    from tui.engine.core.options import Options

    shown: list[bool] = []
    session = Session.open([str(SAMPLE)], Options(), previewed=shown.append)
    try:
        assert shown and shown[-1] is False  # the preview ran (and finished checking signatures)
        assert session.case.org is not None and session.case.org.tenants == session.annotation.org.tenants
        assert [p.name for p in session.case.key_lists.used] == ["jwks.json"]
    finally:
        session.close()
    assert reads == {"intel": 1, "key lists": 1}
