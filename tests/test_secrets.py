"""Raw bearer values are withheld by what they are, not by the name of their column (issue 26,
point 3): in every findings file, every saved view, and on screen.

The inputs hide tokens in columns named innocuously (`note` holds a JWT, alone or inside a sentence,
`x` an opaque `EwB…` MSA ticket), mapped onto fields that reach the findings (`--map
user_agent=note --map session_id=x`: a user agent and a session id are shown and written
everywhere). The expected marks are computed here with hashlib, not with the code under test.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
import re
from pathlib import Path

import duckdb
import pytest
import tui_pilot
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.engine.core.options import Options, parse_mapping

REPO = Path(__file__).resolve().parents[1]
MAPPING = ["user_agent=note", "session_id=x"]
# A raw token on screen or in a file: a JWT (`eyJ` and two dot-separated segments), or a piece of
# one or of an MSA ticket long enough to be one cut short by a column's width.
JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
PIECE_RE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}|Ew[A-D][A-Za-z0-9+/_-]{20,}")


def b64(doc: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).rstrip(b"=").decode()


def jwt(upn: str, uti: str) -> str:
    claims = {
        "aud": "https://outlook.office.com",
        "iss": "https://sts.windows.net/8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97/",
        "tid": "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97",
        "upn": upn,
        "uti": uti,
        "iat": 1685590000,
        "exp": 1685593600,
    }
    return f"{b64({'alg': 'RS256', 'kid': 'k1', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJlc2lnbmF0dXJl"


BEARER = jwt("ines.quiet@contoso-agency.gov", "uti-bearer")  # the real token column's
HIDDEN = jwt("someone.else@contoso-agency.gov", "uti-hidden")  # in `note`
TICKET = "EwBwA8l6BAAUkj1" + "Qz9" * 70 + "+/x="  # in `x`


def mark(token: str) -> str:
    return f"‹token sha256:{hashlib.sha256(token.encode()).hexdigest()[:16]}… ({len(token):,} characters)›"


def innocuous(folder: Path) -> Path:
    """A proxy log whose `note` and `x` columns hold raw tokens."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "proxy.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["time", "client", "authorization", "note", "x"])
        for i in range(12):
            note = f"seen {HIDDEN} here" if i % 2 else HIDDEN
            out.writerow([f"2023-06-01T04:{i:02d}:00Z", f"10.0.0.{i % 3}", f"Bearer {BEARER}", note, TICKET])
    return folder


def raw_tokens_in(text: str) -> list[str]:
    found = [m for m in JWT_RE.findall(text)] + [m for m in PIECE_RE.findall(text)]
    return found + [t for t in (BEARER, HIDDEN, TICKET) if t in text]


def test_redacted_masks_every_token_in_text_and_lists_and_keeps_the_rest() -> None:
    from tui.engine.core.secrets import redacted

    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR, b VARCHAR[], n BIGINT, s STRUCT(k VARCHAR), ts TIMESTAMP)")
    rows = [
        (f"seen {HIDDEN} and Bearer {TICKET}, done", [TICKET, "ok"], 1, {"k": HIDDEN}, "2023-06-01 04:05:03"),
        ("https://app/cb#access_token=0.AXoAr&state=7", None, -2, {"k": "plain"}, None),
        ("plain text, eyJ not a token, EwB neither", ["a", None], None, None, None),
        (None, [], 3, {"k": None}, None),
    ]
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?)", rows)
    got = redacted(con.table("t")).fetchall()
    assert [str(t) for t in redacted(con.table("t")).types] == [
        "VARCHAR",
        "VARCHAR[]",
        "BIGINT",
        "STRUCT(k VARCHAR)",
        "TIMESTAMP",
    ]
    assert got[0][:3] == (f"seen {mark(HIDDEN)} and Bearer {mark(TICKET)}, done", [mark(TICKET), "ok"], 1)
    assert got[0][3] is None  # a struct holding a token is withheld whole
    assert str(got[0][4]) == "2023-06-01 04:05:03"
    assert got[1][:4] == (f"https://app/cb#access_token={mark('0.AXoAr')}&state=7", None, -2, {"k": "plain"})
    assert got[2][:2] == ("plain text, eyJ not a token, EwB neither", ["a", None])
    assert got[3][:4] == (None, [], 3, {"k": None})


def _scan(inputs: list[Path], out: Path, *more: str) -> None:
    from typer.testing import CliRunner

    from tui.cli import app

    args = ["scan", *map(str, inputs), "--out", str(out), *[f"--map={m}" for m in MAPPING], *more]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert not raw_tokens_in(result.output)  # the summary too


@pytest.fixture()
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("TRIAGE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def test_findings_withhold_tokens_in_any_column_unless_secrets_are_asked_for(dirs: Path) -> None:
    evidence = innocuous(dirs / "evidence")
    _scan([evidence], dirs / "out")
    files = {p.name: p.read_text(encoding="utf-8") for p in (dirs / "out").iterdir() if p.is_file()}
    assert sorted(files) == [
        "actions.csv",
        "drift.csv",
        "mailboxes.csv",
        "manifest.json",
        "sessions.csv",
        "tokens.csv",
    ]
    for name, text in files.items():
        assert raw_tokens_in(text) == [], name
    case = case_text(dirs / "out" / "case")  # the folder `triage open` reads: every cell of every table
    assert raw_tokens_in(case) == []
    assert mark(HIDDEN) in case and mark(TICKET) in case  # the columns are there, each token by its key
    sessions = list(csv.DictReader((dirs / "out" / "sessions.csv").open(encoding="utf-8")))
    assert [r["session_id"] for r in sessions] == [mark(TICKET)]
    assert set(sessions[0]["user_agents"].split(";")) == {mark(HIDDEN), f"seen {mark(HIDDEN)} here"}
    tokens = list(csv.DictReader((dirs / "out" / "tokens.csv").open(encoding="utf-8")))
    assert [(r["upn"], r["session_id"]) for r in tokens] == [("ines.quiet@contoso-agency.gov", mark(TICKET))]
    assert tokens[0]["tok_sha256"] == hashlib.sha256(BEARER.encode()).hexdigest()
    assert mark(HIDDEN) in files["drift.csv"]  # the user's new user agents

    _scan([evidence], dirs / "secret", "--include-secrets")
    sessions = list(csv.DictReader((dirs / "secret" / "sessions.csv").open(encoding="utf-8")))
    assert [r["session_id"] for r in sessions] == [TICKET]
    tokens = list(csv.DictReader((dirs / "secret" / "tokens.csv").open(encoding="utf-8")))
    assert (tokens[0]["token"], tokens[0]["session_id"]) == (BEARER, TICKET)
    # case/ holds no raw token even then: the TUI shows none, so the folder needs none
    secret_case = case_text(dirs / "secret" / "case")
    assert raw_tokens_in(secret_case) == [] and mark(TICKET) in secret_case


def case_text(folder: Path) -> str:
    """Every cell of every Parquet file in a findings folder's case/ as text, and its case.json."""
    con = duckdb.connect()
    tables = sorted(folder.glob("*.parquet"))
    assert len(tables) > 20
    cells = [str(con.execute("SELECT * FROM read_parquet(?)", [str(p)]).fetchall()) for p in tables]
    return "\n".join([*cells, (folder / "case.json").read_text(encoding="utf-8")])


def test_a_saved_view_withholds_tokens_in_any_column(dirs: Path) -> None:
    from tui.engine.analyses import tables as analyses
    from tui.engine.analyses.pane_specs import PANE_BY_NAME
    from tui.engine.analyses.tables import Where
    from tui.engine.case.session import Session
    from tui.engine.findings.save_view import manifest_path, save_view

    options = Options(mapping=parse_mapping(MAPPING))
    session = Session.open([str(innocuous(dirs / "evidence"))], options)
    try:
        analyses.build(session.con, session.annotation.split)
        for pane in ("events", "sessions", "tokens", "drift"):
            target = dirs / f"{pane}.csv"
            saved = save_view(
                session.con,
                PANE_BY_NAME[pane],
                Where("TRUE", ()),
                f"session_id={TICKET}",  # as `f` on the cell would have put it
                [],
                target,
                inputs=[],
                options=options,
            )
            assert saved.rows > 0
            text = target.read_text(encoding="utf-8")
            manifest = manifest_path(target).read_text(encoding="utf-8")
            assert raw_tokens_in(text) == [] and raw_tokens_in(manifest) == [], pane
            assert json.loads(manifest)["view"]["filter"] == f"session_id={mark(TICKET)}"
            assert json.loads(manifest)["filters"] == {pane: f"session_id={mark(TICKET)}"}
            assert (mark(HIDDEN) in text) == (pane != "tokens"), pane  # a user agent: not on Tokens
            assert (mark(TICKET) in text) == (pane != "drift"), pane  # a session id: not on Drift
        events = list(csv.DictReader((dirs / "events.csv").open(encoding="utf-8")))
        assert len(events) == 12
        assert {(r["session_id"], r["user_agent"]) for r in events} == {
            (mark(TICKET), mark(HIDDEN)),
            (mark(TICKET), f"seen {mark(HIDDEN)} here"),
        }
    finally:
        session.close()


def screen_text(app: object) -> str:
    """The screen as plain text, line by line, through Textual's public screenshot (SVG): runs of
    one style are one `<text>` element each (`simplify`), joined per line."""
    svg = app.export_screenshot(simplify=True)  # type: ignore[attr-defined]
    lines: dict[float, list[str]] = {}
    for y, body in re.findall(r'<text[^>]*? y="([\d.]+)"[^>]*>(.*?)</text>', svg, re.S):
        lines.setdefault(float(y), []).append(html.unescape(body).replace("\xa0", " "))
    return "\n".join("".join(parts) for _, parts in sorted(lines.items()))


@tui_pilot.needs_sample
@pytest.mark.timeout(180)
async def test_no_pane_of_the_sample_shows_a_raw_token(dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pane of the sample incident (with the innocuous log beside it), unfiltered and narrowed
    to the rows of the innocuous log, with its detail panel: no raw token on screen."""
    from tui.app import TriageApp
    from tui.widgets.filter_bar import FilterBar

    monkeypatch.chdir(REPO)
    evidence = innocuous(dirs / "evidence")
    app = TriageApp(["sample_logs", str(evidence)], Options(mapping=parse_mapping(MAPPING)))
    screens: list[str] = []
    narrowed = {
        "tokens": "upn=ines.quiet@contoso-agency.gov",
        "sessions": "user=ines.quiet@contoso-agency.gov",
        "drift": "user=ines.quiet@contoso-agency.gov",
        "events": "source:proxy.csv",
    }
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await tui_pilot.settle(pilot, app, 120)
        for key, pane in enumerate(("tokens", "mailboxes", "drift", "events", "sessions"), start=1):
            await pilot.press(str(key))
            await tui_pilot.settle(pilot, app, 60)
            screens.append(screen_text(app))
            if pane in narrowed:
                await pilot.press("slash")
                screen.query_one(FilterBar).input.value = narrowed[pane]
                await pilot.press("enter")
                await tui_pilot.settle(pilot, app, 60)
                assert screen.pane(pane).shown > 0, pane
                screens.append(screen_text(app))
                await pilot.press("z")  # the detail panel wide: long values unwrapped
                await tui_pilot.settle(pilot, app, 60)
                screens.append(screen_text(app))
                await pilot.press("z")
    shown = "\n".join(screens)
    assert "[1 Tokens" in shown and "ines.quiet@contoso-agency.gov" in shown
    assert "‹token sha256:" in shown  # the hidden tokens are there, by their key
    assert raw_tokens_in(shown) == []


_FRAGMENTS = [
    *("eyJhbGc", "eyJ", ".", "..", "Bearer ", "bearer\t", "BEARER  ", "?access_token=", "&ID_TOKEN=", "EwB"),
    *("EwA", "Ew", "x" * 20, "Q9z" * 10, "A" * 45, " ", "\n", "ü", "+/=", "_-", "'", '"', "&", "#", "\u00a0"),
]
_ONE = duckdb.connect()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=14).map("".join))
def test_files_and_screen_withhold_the_same_text_alike(text: str) -> None:
    """The findings' SQL (`redacted`) and the screen's Python (`mask_text`) give the same text, and
    neither leaves a JWT behind."""
    from tui.engine.core.secrets import mask_text, redacted

    in_sql = redacted(
        _ONE.sql("SELECT ?::VARCHAR AS c, [?::VARCHAR, 'x'] AS l", params=[text, text])
    ).fetchall()
    shown = mask_text(text)
    assert in_sql == [(shown, [shown, "x"])]
    assert JWT_RE.search(shown) is None


def test_keep_or_exclude_refuses_a_cell_holding_a_token() -> None:
    """`f` / `x` would put the cell's value in the filter bar, on screen and in a saved manifest."""
    from tui.engine.analyses.panes import cell_term, display_value

    assert cell_term("session_id", TICKET) == "session_id holds a raw token; filter it with session_id:text"
    assert cell_term("user_agent", f"seen {HIDDEN} here") == (
        "user_agent holds a raw token; filter it with user_agent:text"
    )
    assert cell_term("user_agent", "Mozilla/5.0") == ("user_agent", "Mozilla/5.0")
    assert display_value([TICKET, "ok"]) == f"{mark(TICKET)}, ok"
