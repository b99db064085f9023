"""Known answers for SPEC §10's action indicators: every change operation of DOMAIN §8 in at least two
export shapes (the records of tests/action_records.py), loaded and annotated as `triage scan` does,
with the code, the severity and the parameter its evidence must name; then actions.csv, the roll-ups,
the Events filter `code=` and bad parameters."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from action_records import directory_audit, exchange, ual_directory, write_entra_shapes, write_exchange_shapes
from load_kinds import write_csv
from typer.testing import CliRunner

from tui.cli import app
from tui.engine.analyses import tables as analyses
from tui.engine.analyses.filter import compile_filter
from tui.engine.case.session import Session
from tui.engine.core.options import Options
from tui.engine.indicators.action_facts import ACTION_OPS

OPTIONS = Options(domains=("contoso.com",))
GUID_PATH = (
    "APCPR03A010.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations/contoso.onmicrosoft.com/311b45d6"
)

# (the record, the code, its severity, a phrase its evidence holds), row n of every Exchange export
UPDATE_INBOX_RULES = {
    **{k: v for k, v in exchange("UpdateInboxRules", 12, []).items() if k != "Parameters"},
    "RecordType": 2,
    "MailboxOwnerUPN": "DebraB@Contoso.com",
    "OperationProperties": [
        {"Name": "RuleOperation", "Value": "AddMailboxRule"},
        {"Name": "RuleId", "Value": "-4412630970188955647"},
        {"Name": "RuleState"},  # an entry without a Value, as real exports have
        {"Name": "RuleName", "Value": "Outlook fwd"},
        {
            "Name": "RuleActions",
            "Value": json.dumps([{"ActionType": "Forward", "Recipients": ["x@evil.com"]}]),
        },
    ],
}
EXCHANGE = [
    (
        exchange(
            "New-InboxRule",
            1,
            [("Name", "Fwd"), ("ForwardTo", "attacker@evil.com"), ("DeleteMessage", "True")],
        ),
        "INBOX_RULE",
        "high",
        'inbox rule "Fwd" on debrab@contoso.com: forwards to an external address attacker@evil.com '
        "and deletes",
    ),
    (
        exchange(
            "New-InboxRule",
            2,
            [
                ("AlwaysDeleteOutlookRulesBlob", "False"),
                ("Force", "False"),
                ("From", "flag@ctf.com"),
                ("MoveToFolder", "Conversation History"),
                ("Name", "f"),
                ("MarkAsRead", "True"),
                ("StopProcessingRules", "True"),
            ],
        ),
        "INBOX_RULE",
        "high",
        "moves to Conversation History and marks as read (mail from flag@ctf.com)",
    ),
    (
        exchange(
            "New-InboxRule",
            3,
            [("Name", "News"), ("From", "news@vendor.com"), ("MoveToFolder", "Newsletters")],
        ),
        "INBOX_RULE",
        "medium",
        'inbox rule "News" on debrab@contoso.com: moves to Newsletters (mail from news@vendor.com)',
    ),
    (
        exchange(
            "Set-InboxRule", 4, [("Identity", "debrab@contoso.com\\Fwd"), ("RedirectTo", "bob@contoso.com")]
        ),
        "INBOX_RULE",
        "high",
        'changed inbox rule "Fwd" on debrab@contoso.com: redirects to bob@contoso.com inside the '
        "organisation",
    ),
    (
        exchange(
            "Set-Mailbox",
            5,
            [
                ("Identity", GUID_PATH),
                ("ForwardingSmtpAddress", "smtp:bla@bla.com"),
                ("DeliverToMailboxAndForward", "True"),
            ],
            ObjectId="311b45d6",
        ),
        "MAIL_FORWARDING",
        "high",
        "forwards to an external address bla@bla.com (ForwardingSmtpAddress), keeping a copy",
    ),
    (
        exchange(
            "New-TransportRule", 6, [("Name", "Copy"), ("BlindCopyTo", "drop@evil.net")], ObjectId="Copy"
        ),
        "MAIL_FORWARDING",
        "high",
        'transport rule "Copy": blind-copies to an external address drop@evil.net',
    ),
    (
        exchange(
            "Add-MailboxPermission",
            7,
            [("Identity", "ceo@contoso.com"), ("User", "debrab@contoso.com"), ("AccessRights", "FullAccess")],
        ),
        "MAILBOX_PERMISSION",
        "medium",
        "granted debrab@contoso.com FullAccess on ceo@contoso.com",
    ),
    (
        exchange(
            "Add-RecipientPermission",
            8,
            [("Identity", "ceo@contoso.com"), ("Trustee", "debrab@contoso.com"), ("AccessRights", "SendAs")],
        ),
        "MAILBOX_PERMISSION",
        "medium",
        "granted debrab@contoso.com SendAs on ceo@contoso.com",
    ),
    (
        exchange(
            "Set-AdminAuditLogConfig",
            9,
            [("UnifiedAuditLogIngestionEnabled", "False")],
            ObjectId="Admin Audit Log Settings",
        ),
        "AUDIT_TAMPERING",
        "critical",
        "set UnifiedAuditLogIngestionEnabled False: the unified audit log stops recording on Admin Audit Log "
        "Settings",
    ),
    (
        exchange(
            "Set-MailboxAuditBypassAssociation",
            10,
            [("Identity", "debrab@contoso.com"), ("AuditBypassEnabled", "True")],
        ),
        "AUDIT_TAMPERING",
        "critical",
        "AuditBypassEnabled True",
    ),
    (
        exchange("Set-Mailbox", 11, [("Identity", "Alex@contoso.com"), ("AuditLogAgeLimit", "00:00:00")]),
        "AUDIT_TAMPERING",
        "critical",
        "AuditLogAgeLimit 00:00:00: audit records kept for no time on alex@contoso.com",
    ),
    (
        UPDATE_INBOX_RULES,
        "INBOX_RULE",
        "high",
        'created (in Outlook) inbox rule "Outlook fwd" on debrab@contoso.com: Outlook rule actions Forward',
    ),
]

GA = "62e90394-69f5-4237-9190-012177145e10"
CONSENT = (
    "[] => [[Id: 8w1, ClientId: 0b7, PrincipalId: , ResourceId: 5f2, ConsentType: AllPrincipals, "
    "Scope:  Mail.Read offline_access, CreatedDateTime: , LastModifiedDateTime ]]; "
)
ENTRA = [
    (
        directory_audit(
            "Add member to role",
            1,
            {"id": "0b1a6a83", "type": "User", "userPrincipalName": "deltatango@contoso.com"},
            [("Role.DisplayName", None, '"Global Administrator"'), ("Role.TemplateId", None, f'"{GA}"')],
            "RoleManagement",
        ),
        "ROLE_ADD",
        "high",
        "stinger@contoso.com added deltatango@contoso.com to role Global Administrator",
    ),
    (
        directory_audit(
            "Consent to application",
            2,
            {"id": "5f2", "type": "ServicePrincipal", "displayName": "Mail Sync Pro"},
            [
                ("ConsentContext.IsAdminConsent", None, '"True"'),
                ("ConsentContext.OnBehalfOfAll", None, '"True"'),
                ("ConsentAction.Permissions", None, json.dumps(CONSENT)),
            ],
            "ApplicationManagement",
        ),
        "APP_CONSENT",
        "high",
        "Consent to application Mail Sync Pro: admin consent, for all users, scopes Mail.Read offline_access",
    ),
    (
        directory_audit(
            "Add service principal credentials",
            3,
            {"id": "8c9", "type": "ServicePrincipal", "displayName": "additionalCloudCredSP"},
            [
                (
                    "KeyDescription",
                    "[]",
                    '["[KeyIdentifier=7d2,KeyType=Password,KeyUsage=Verify,DisplayName=x]"]',
                )
            ],
            "ApplicationManagement",
        ),
        "APP_CONSENT",
        "high",
        "key [KeyIdentifier=7d2,KeyType=Password",
    ),
    (
        directory_audit(
            "User registered security info",
            4,
            {"id": "a1", "type": "User", "userPrincipalName": "stinger@contoso.com"},
            [],
            "UserManagement",
        ),
        "AUTH_METHOD_CHANGE",
        "high",
        "User registered security info for stinger@contoso.com",
    ),
    (
        directory_audit(
            "Update user",
            5,
            {"id": "a2", "type": "User", "userPrincipalName": "victim@contoso.com"},
            [
                (
                    "StrongAuthenticationRequirement",
                    '[{"RelyingParty":"*","State":1,"RememberDevicesNotIssuedBefore":"2023-05-23T13:14:45Z"}]',
                    "[]",
                ),
                ("Included Updated Properties", '""', '"StrongAuthenticationRequirement"'),
            ],
            "UserManagement",
        ),
        "AUTH_METHOD_CHANGE",
        "high",
        "per-user MFA disabled (StrongAuthenticationRequirement State 1 → none) for victim@contoso.com",
    ),
    (
        directory_audit(
            "Register device",
            6,
            {"id": "d1", "type": "Device", "displayName": "LAPTOP-EVIL"},
            [("CloudDisplayName", "[]", '["LAPTOP-EVIL"]'), ("CloudDeviceOSType", "[]", '["Windows"]')],
            "Device",
        ),
        "AUTH_METHOD_CHANGE",
        "high",
        "registered device LAPTOP-EVIL (Windows)",
    ),
]
# a change of display name is not a change of authentication methods: nothing fires
NEAR_MISS = directory_audit(
    "Update user",
    7,
    {"id": "a3", "type": "User", "userPrincipalName": "victim@contoso.com"},
    [("DisplayName", '["Vic"]', '["Victoria"]')],
    "UserManagement",
)
UAL_DIRECTORY = [
    (
        ual_directory(
            "Add member to role.",
            1,
            "deltatango@contoso.com",
            [
                ("Role.DisplayName", "", "Global Administrator"),
                ("Role.WellKnownObjectName", "", "TenantAdmins"),
            ],
        ),
        "ROLE_ADD",
        "high",
        "added deltatango@contoso.com to role Global Administrator",
    ),
    (
        ual_directory(
            "Consent to application.",
            2,
            "Mail Sync Pro",
            [("ConsentContext.IsAdminConsent", "", "True"), ("ConsentAction.Permissions", "", CONSENT)],
        ),
        "APP_CONSENT",
        "high",
        "Consent to application Mail Sync Pro: admin consent, scopes Mail.Read offline_access",
    ),
    (
        ual_directory(
            "Update user.",
            3,
            "victim@contoso.com",
            [
                (
                    "StrongAuthenticationRequirement",
                    '[\r\n  {\r\n    "RelyingParty": "*",\r\n    "State": 1\r\n  }\r\n]',
                    "[]",
                )
            ],
        ),
        "AUTH_METHOD_CHANGE",
        "high",
        "per-user MFA disabled (StrongAuthenticationRequirement State 1 → none)",
    ),
    (
        ual_directory("User registered security info.", 4, "stinger@contoso.com", []),
        "AUTH_METHOD_CHANGE",
        "high",
        "User registered security info for stinger@contoso.com",
    ),
    (
        ual_directory("Register device.", 5, "LAPTOP-EVIL", [("CloudDeviceOSType", "", "Windows")]),
        "AUTH_METHOD_CHANGE",
        "high",
        "registered device LAPTOP-EVIL (Windows)",
    ),
    (
        ual_directory(
            "Update application – Certificates and secrets management ",
            6,
            "SimuLandApp",
            [("KeyDescription", "", "[KeyIdentifier=9a1,KeyType=Password,KeyUsage=Verify]")],
        ),
        "APP_CONSENT",
        "high",
        "SimuLandApp: key [KeyIdentifier=9a1",
    ),
]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, Path]]]:
    root = tmp_path_factory.mktemp("actions")
    files = write_exchange_shapes(root / "exchange", [r for r, *_ in EXCHANGE])
    files |= write_entra_shapes(root / "entra", [r for r, *_ in ENTRA] + [NEAR_MISS])
    ual = root / "ual8" / "ual8.json"
    ual.parent.mkdir()
    ual.write_text(json.dumps([r for r, *_ in UAL_DIRECTORY]))
    files["ual8"] = ual
    sual8 = write_csv_ual8(root / "ual8" / "sual8.csv")
    files["sual8"] = sual8
    session = Session.open([str(root)], OPTIONS, materialise_events=False)
    analyses.build(session.con, session.annotation.split)
    yield session.con, files
    session.close()


def write_csv_ual8(path: Path) -> Path:
    header = ["CreationDate", "UserIds", "Operations", "AuditData"]
    rows = [["11/21/2023 11:44:05 PM", r["UserId"], r["Operation"], json.dumps(r)] for r, *_ in UAL_DIRECTORY]
    return write_csv(path, header, rows)


def _hits(con: Any, path: Path) -> dict[int, list[tuple[str, str, str]]]:
    rows = con.execute(
        "SELECT source_row, code, severity, evidence FROM row_indicators WHERE source = ? "
        "AND code IN (SELECT unnest(?)) ORDER BY ALL",
        [
            str(path),
            [
                "INBOX_RULE",
                "MAIL_FORWARDING",
                "MAILBOX_PERMISSION",
                "AUDIT_TAMPERING",
                "AUTH_METHOD_CHANGE",
                "APP_CONSENT",
                "ROLE_ADD",
            ],
        ],
    ).fetchall()
    out: dict[int, list[tuple[str, str, str]]] = {}
    for n, code, sev, ev in rows:
        out.setdefault(n, []).append((code, sev, ev))
    return out


def _check(hits: dict[int, list[tuple[str, str, str]]], expected: list[Any], shape: str) -> None:
    for n, (_record, code, severity, phrase) in enumerate(expected, 1):
        assert [(c, s) for c, s, _ in hits.get(n, [])] == [(code, severity)], (shape, n, hits.get(n))
        assert phrase in hits[n][0][2], (shape, n, hits[n][0][2])


@pytest.mark.parametrize("shape", ["purview", "sual", "mgmt", "office"])
def test_exchange_changes_in_every_export_shape(case: Any, shape: str) -> None:
    con, files = case
    _check(_hits(con, files[shape]), EXCHANGE, shape)


@pytest.mark.parametrize("shape", ["graph", "hub", "sentinel"])
def test_entra_changes_in_every_export_shape(case: Any, shape: str) -> None:
    con, files = case
    hits = _hits(con, files[shape])
    _check(hits, ENTRA, shape)
    assert len(ENTRA) + 1 not in hits  # the display-name change


@pytest.mark.parametrize("shape", ["ual8", "sual8"])
def test_directory_changes_as_the_unified_audit_log_keeps_them(case: Any, shape: str) -> None:
    con, files = case
    _check(_hits(con, files[shape]), UAL_DIRECTORY, shape)


def test_every_operation_is_matched_without_case_or_trailing_dots() -> None:
    import duckdb

    from tui.engine.indicators.action_facts import MACROS
    from tui.engine.indicators.catalogue import MACROS as CATALOGUE_MACROS

    con = duckdb.connect()
    con.execute(CATALOGUE_MACROS)
    con.execute(MACROS)
    spelled = [
        "Add member to role.",
        "ADD MEMBER TO ROLE",
        "new-InboxRule",
        "Update Application-Certificates and secrets management",
        "Update application – Certificates and secrets management ",
    ]
    got = [con.execute("SELECT _op_norm(?)", [s]).fetchone()[0] for s in spelled]
    assert (
        got
        == ["add member to role", "add member to role", "new-inboxrule"]
        + ["update application-certificates and secrets management"] * 2
    )
    assert set(got) - {"add member to role"} <= set(ACTION_OPS)


def test_the_actions_table_mailbox_roll_up_and_drift(case: Any) -> None:
    con, files = case
    n = con.execute("SELECT count(*) FROM actions").fetchone()[0]
    assert n == 4 * len(EXCHANGE) + 3 * len(ENTRA) + 2 * len(UAL_DIRECTORY)
    boxes = dict(con.execute("SELECT mailbox, actions FROM mailboxes WHERE actions <> ''").fetchall())
    assert boxes["ceo@contoso.com"] == "MAILBOX_PERMISSION"
    assert boxes["debrab@contoso.com"] == "AUDIT_TAMPERING;INBOX_RULE"
    assert con.execute("SELECT severity FROM mailboxes WHERE mailbox = 'debrab@contoso.com'").fetchone() == (
        "critical",
    )
    drift = dict(con.execute('SELECT "user", indicators FROM user_identity').fetchall())
    assert drift["stinger@contoso.com"] == "APP_CONSENT;AUTH_METHOD_CHANGE;ROLE_ADD"
    assert drift["debrab@contoso.com"].split(";")[0] == "AUDIT_TAMPERING"
    targets = con.execute(
        "SELECT DISTINCT target FROM actions WHERE code = 'INBOX_RULE' ORDER BY target"
    ).fetchall()
    assert [t for (t,) in targets] == [
        "debrab@contoso.com\\Fwd",
        "debrab@contoso.com\\News",
        "debrab@contoso.com\\Outlook fwd",
        "debrab@contoso.com\\f",
    ]


def test_a_sessions_and_a_mailboxs_detail_list_their_actions(case: Any) -> None:
    from tui.engine.analyses.explain_identity import mailbox_action_rows, session_action_rows

    con, _ = case
    rows = session_action_rows(con, "9dfdecb6-59a0-4714-846e-86c0fc911104")
    assert rows[-1][0] == "more" and "actions.csv" in rows[-1][1]
    assert rows[0][0].endswith("INBOX_RULE") and "attacker@evil.com" in rows[0][1]
    ceo = mailbox_action_rows(con, "CEO@contoso.com")
    assert [(label.split()[-1], style) for label, _, style in ceo] == [("MAILBOX_PERMISSION", "medium")] * 8


def test_code_filter_on_the_events_pane(case: Any) -> None:
    con, _ = case
    cols = analyses.columns(con, "events")
    where = compile_filter("code=INBOX_RULE", cols)
    n = con.execute(f"SELECT count(*) FROM events_rows WHERE {where.where}", list(where.params)).fetchone()[0]
    assert n == 4 * 5  # five rule records in four exports
    where = compile_filter("code=inbox_rule -code=AUDIT_TAMPERING sev=high", cols)
    n = con.execute(f"SELECT count(*) FROM events_rows WHERE {where.where}", list(where.params)).fetchone()[0]
    assert n == 4 * 4
    assert compile_filter("code=INBOX_RULE", cols).terms[0].describe() == "code=INBOX_RULE"


def test_actions_csv_columns_order_and_bytes(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    write_exchange_shapes(evidence, [r for r, *_ in EXCHANGE])
    outs = []
    for k in (1, 2):
        out = tmp_path / f"out{k}"
        result = CliRunner().invoke(
            app, ["scan", str(evidence), "--out", str(out), "--domain", "contoso.com"]
        )
        assert result.exit_code == 0, result.output
        outs.append((out / "actions.csv").read_bytes())
    assert outs[0] == outs[1]
    rows = list(csv.reader(outs[0].decode("utf-8").splitlines()))
    assert rows[0] == (
        "ts,user,operation,code,severity,target,params,client_ip,session_id,evidence,source,source_row"
    ).split(",")
    body = rows[1:]
    assert len(body) == 4 * len(EXCHANGE)
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    first = body[0]
    assert first[:6] == [
        "2023-09-26T01:01:15Z",
        "debrab@contoso.com",
        "New-InboxRule",
        "INBOX_RULE",
        "high",
        "debrab@contoso.com\\Fwd",
    ]
    assert json.loads(first[6])[1] == {"Name": "ForwardTo", "Value": "attacker@evil.com"}
    assert (first[7], first[8]) == ("185.73.124.135", "9dfdecb6-59a0-4714-846e-86c0fc911104")


@pytest.fixture()
def long_cells() -> Iterator[None]:
    """Python's csv module refuses cells over 128 KiB; a 5,000-parameter list is longer."""
    old = csv.field_size_limit(1 << 24)
    yield
    csv.field_size_limit(old)


def test_hostile_rule_names_and_parameters_are_read_inert_and_kept(tmp_path: Path, long_cells: None) -> None:
    """A rule name with a formula prefix and control characters, an actor that is a formula, a list of
    5,000 parameters, and Parameters text that is not JSON (cut short, PowerShell-flattened)."""
    evidence = tmp_path / "evidence"
    huge = [("Name", "big")] + [(f"P{i}", "x" * 40) for i in range(5000)] + [("ForwardTo", "a@evil.com")]
    records = [
        exchange("New-InboxRule", 1, [("Name", '=HYPERLINK("http://x")'), ("MarkAsRead", "True")]),
        exchange(
            "New-InboxRule", 2, [("Name", "red\x1b[31m\x07"), ("DeleteMessage", "True")], UserId="=cmd|x"
        ),
        exchange("New-InboxRule", 3, huge),
    ]
    paths = write_exchange_shapes(evidence, records)
    (evidence / "sual.csv").unlink()
    (evidence / "ual.json").unlink()
    # Sentinel's Parameters is text: a list cut short inside its last value (a spreadsheet's cell
    # limit), PowerShell's flattened `@{Name=…; Value=…}`
    cut = json.dumps(records[0]["Parameters"] + [{"Name": "RedirectTo", "Value": "z@evil.com"}])[:-2]
    flat = "@{Name=Name; Value=ps rule}; @{Name=ForwardTo; Value=ps@evil.com}"
    lines = list(csv.reader(paths["office"].read_text(encoding="utf-8-sig").splitlines()))
    lines[1][9], lines[2][9] = cut, flat
    write_csv(paths["office"], lines[0], lines[1:])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["scan", str(evidence), "--out", str(out), "--domain", "contoso.com"])
    assert result.exit_code == 0, result.output
    raw = (out / "actions.csv").read_bytes()
    assert b"\x1b" not in raw and b"\x07" not in raw
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    at = {(Path(r["source"]).name, int(r["source_row"])): r for r in rows}
    assert len(rows) == 6
    purview, office = at[("purview.csv", 1)], at[("OfficeActivity.csv", 1)]
    assert '"=HYPERLINK("http://x")" on debrab@contoso.com: marks as read' in purview["evidence"]
    assert purview["target"] == 'debrab@contoso.com\\=HYPERLINK("http://x")'
    assert "red\\x1b[31m\\x07" in at[("purview.csv", 2)]["evidence"]
    assert at[("purview.csv", 2)]["user"] == "'=cmd|x"
    assert (office["severity"], office["params"]) == ("high", cut)  # kept whole, as the export held it
    assert "redirects to an external address z@evil.com" in office["evidence"]
    assert "not whole JSON" in office["evidence"]
    flat_row = at[("OfficeActivity.csv", 2)]
    assert 'inbox rule "ps rule"' in flat_row["evidence"] and "ps@evil.com" in flat_row["evidence"]
    big = at[("purview.csv", 3)]
    assert big["severity"] == "high" and "a@evil.com" in big["evidence"]
    assert len(json.loads(big["params"])) == 5002
