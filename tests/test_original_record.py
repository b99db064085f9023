"""The detail panel's "original record" of an event: the row as its file holds it (SPEC §2), JSON
opened leaf by leaf, bearer tokens shown only by their key unless secrets were asked for (SPEC §8)."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import jwt

from tui.engine.analyses import tables as analyses
from tui.engine.analyses.explain import explain
from tui.engine.case.session import Session
from tui.engine.core.options import Options

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_logs"


def _open(path: Path) -> Session:
    session = Session.open([str(path)], Options())
    analyses.build(session.con, session.annotation.split)  # and the panes' views, as the TUI opens
    return session


def _original(session: Session, row: dict, secrets: bool = False) -> dict[str, str]:
    detail = explain(session.con, "events", row, report=session.report, secrets=secrets)
    section = next(s for s in detail.sections if s.title == "original record")
    return {line.label: line.text for line in section.lines}


def _event(session: Session, where: str, params: list[object]) -> dict:
    table = analyses.run(session.con, "events_page", [1, 0], analyses.Where(where, tuple(params)))
    return table.to_pylist()[0]


def test_a_mail_read_shows_its_audit_data_leaf_by_leaf_and_a_request_hides_its_token() -> None:
    session = _open(SAMPLE)
    try:
        read = _event(session, "operation = ? AND kind = ?", ["MailItemsAccessed", "purview_audit"])
        shown = _original(session, read)
        with (SAMPLE / "purview_audit.csv").open(encoding="utf-8-sig", newline="") as fh:
            record = list(csv.DictReader(fh))[read["source_row"] - 1]
        data = json.loads(record["AuditData"])
        assert shown["RecordId"] == record["RecordId"] and shown["Operation"] == "MailItemsAccessed"
        assert shown["AuditData.Folders[0].Path"] == data["Folders"][0]["Path"]
        assert shown["AuditData.OperationProperties[0].Value"] == data["OperationProperties"][0]["Value"]
        assert shown["AuditData.AppAccessContext.UniqueTokenId"] == read["token_id"]

        request = _event(session, "kind = ? AND tkey LIKE 'sha256:%'", ["http"])
        shown = _original(session, request)
        token = session.con.execute(
            "SELECT token FROM token_text JOIN token_claims USING (tok_key)"
            " WHERE 'sha256:' || tok_sha256 = ?",
            [request["tkey"]],
        ).fetchone()[0]
        assert shown["request_header_authorization"] == (
            f"‹token sha256:{request['tkey'][7:23]}… ({len(token):,} characters)›"
        )
        assert not any(token[:40] in text for text in shown.values())
        assert shown["request_header_x_anchormailbox"].lower() == f"smtp:{request['mailbox']}"
        secret = _original(session, request, secrets=True)
        assert secret["request_header_authorization"] == f"Bearer {token}"
    finally:
        session.close()


def test_tokens_elsewhere_in_a_record_and_control_characters_are_shown_inert(tmp_path: Path) -> None:
    """A JWT in another column (a URL's `access_token=`), an opaque bearer value in a header dump and
    an escape sequence in a cell: each shown inert, the tokens by their key only."""
    token = jwt.encode({"upn": "ana@contoso.com", "tid": "t1", "uti": "u1"}, "k" * 32, algorithm="HS256")
    opaque = "EwBwA8l6BAAURSN" + "x" * 60
    with (tmp_path / "proxy.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["time", "client", "url", "authorization", "note"])
        out.writerow(
            [
                "2023-06-01T04:05:03Z",
                "10.0.0.1:443",
                f"https://x.example/cb?access_token={token}&state=1",
                f"Bearer {token}",
                f"\x1b[31mred\x1b[0m Authorization: Bearer {opaque}",
            ]
        )
    session = _open(tmp_path)
    try:
        event = _event(session, "TRUE", [])
        shown = _original(session, event)
        mark = (
            f"‹token sha256:{hashlib.sha256(token.encode()).hexdigest()[:16]}… ({len(token):,} characters)›"
        )
        assert shown["url"] == f"https://x.example/cb?access_token={mark}&state=1"
        assert shown["authorization"] == mark
        opaque_mark = (
            f"‹token sha256:{hashlib.sha256(opaque.encode()).hexdigest()[:16]}… ({len(opaque):,} characters)›"
        )
        assert shown["note"] == f"\\x1b[31mred\\x1b[0m Authorization: Bearer {opaque_mark}"
        assert not any(token in text or opaque in text or "\x1b" in text for text in shown.values())
    finally:
        session.close()


def test_a_file_read_in_a_group_shows_its_own_row(tmp_path: Path) -> None:
    """Alike files are read together (one view for the group): the record is the event's file's row,
    not the same row number of another member."""
    for name, user in (("a.json", "ana@contoso.com"), ("b.json", "bo@contoso.com")):
        records = [
            {
                "CreationTime": f"2023-06-01T04:05:0{n}",
                "Operation": "MailItemsAccessed",
                "UserId": user,
                "N": n,
            }
            for n in range(3)
        ]
        (tmp_path / name).write_text(json.dumps(records))
    session = _open(tmp_path)
    try:
        assert len({f.view for f in session.report.files}) == 1  # one group
        for user in ("ana@contoso.com", "bo@contoso.com"):
            event = _event(session, '"user" = ? AND source_row = 2', [user])
            shown = _original(session, event)
            assert (shown["UserId"], shown["N"]) == (user, "1")
    finally:
        session.close()


def test_oauth_tokens_by_name_are_shown_by_their_key_only() -> None:
    """A token endpoint's response (`refresh_token`, an opaque `access_token`) and an implicit grant's
    `#access_token=` carry tokens no JWT pattern finds: their names give them away."""
    from tui.engine.analyses.original import lines

    refresh, ticket = "0.AXoA" + "r" * 40, "EwBwA8l6BAAU" + "t" * 40
    response = json.dumps({"token_type": "Bearer", "refresh_token": refresh, "access_token": ticket})
    shown = dict(lines({"url": f"https://app/cb#access_token={ticket}&state=7", "body": response}, (), False))

    def mark(token: str) -> str:
        return (
            f"‹token sha256:{hashlib.sha256(token.encode()).hexdigest()[:16]}… ({len(token):,} characters)›"
        )

    assert shown == {
        "url": f"https://app/cb#access_token={mark(ticket)}&state=7",
        "body.token_type": "Bearer",
        "body.refresh_token": mark(refresh),
        "body.access_token": mark(ticket),
    }
    assert dict(lines({"body": response}, (), True))["body.refresh_token"] == refresh


def test_a_token_inside_a_json_member_is_hidden_and_the_rest_of_the_member_shown(tmp_path: Path) -> None:
    """The token read from a JSON path (`request.headers.Authorization`) is shown by its key; the
    other headers beside it stay readable (the whole cell is not hidden)."""
    token = jwt.encode({"upn": "ana@contoso.com", "tid": "t1", "uti": "u1"}, "k" * 32, algorithm="HS256")
    line = {
        "time": "2023-06-01T04:05:03Z",
        "client": "10.0.0.1:443",
        "request": {"headers": {"Authorization": f"Bearer {token}", "Host": "outlook.office.com"}},
    }
    (tmp_path / "proxy.jsonl").write_text(json.dumps(line) + "\n" + json.dumps(line) + "\n")
    session = _open(tmp_path)
    try:
        shown = _original(session, _event(session, "TRUE", []))
        mark = (
            f"‹token sha256:{hashlib.sha256(token.encode()).hexdigest()[:16]}… ({len(token):,} characters)›"
        )
        assert shown["request.headers.Authorization"] == f"Bearer {mark}"
        assert shown["request.headers.Host"] == "outlook.office.com"
        assert not any(token in text for text in shown.values())
    finally:
        session.close()
