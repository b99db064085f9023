"""Microsoft's own record of the sample incident: the Purview audit export (sign-ins: sample_signins)."""

from __future__ import annotations

import csv
import json
import random
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from tui.engine.sample.gateway import Request
from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import (
    APP_EXCHANGE,
    APP_GRAPH,
    APP_NAMES,
    APP_OFFICE,
    APP_OWA,
    IOC_CLIENT_INFO,
    b64id,
    rand_uuid,
)

PURVIEW_HEADER = (
    "RecordId",
    "CreationDate",
    "RecordType",
    "Operation",
    "UserId",
    "AuditData",
    "AssociatedAdminUnits",
    "AssociatedAdminUnitsNames",
)
CLIENT_INFO = {APP_OWA: "Client=OWA;Action=ViaProxy", APP_OFFICE: "Client=REST;;"}
SERVERS = ("SA1PR09MB8123", "BN8PR09MB3356", "PH0PR09MB7741", "SJ0PR09MB6690")


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _locale(epoch_s: float) -> str:
    """Purview's `CreationDate`: US locale, 12-hour clock, no leading zeros (`6/15/2023 4:05:03 AM`)."""
    d = datetime.fromtimestamp(epoch_s, timezone.utc)
    hour = d.hour % 12 or 12
    return f"{d.month}/{d.day}/{d.year} {hour}:{d.minute:02d}:{d.second:02d} {'AM' if d.hour < 12 else 'PM'}"


def _audit_ip(ip: str, rng: random.Random) -> str:
    """Exchange sometimes logs the client port too, IPv6 then in brackets."""
    if ":" in ip:
        return f"[{ip}]:{rng.randrange(1025, 65535)}" if rng.random() < 0.5 else ip
    return f"{ip}:{rng.randrange(1025, 65535)}" if rng.random() < 0.25 else ip


def _message_id(rng: random.Random) -> str:
    server = rng.choice(SERVERS)
    return f"<{server}{rng.getrandbits(40):010X}@{server}.namprd09.prod.outlook.com>"


class PurviewBuilder:
    """Collects audit records (time, CSV row) and writes them newest first, as the portal exports them."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tenant: str, domain: str) -> None:
        self.con = con
        self.tenant = tenant
        self.org_name = domain.split(".")[0].replace("-", "") + ".onmicrosoft.com"
        self.records: list[tuple[int, str, tuple[str, ...]]] = []
        self.count: dict[str, int] = {}
        self.total = 0
        cols = ", ".join(f"c{i} VARCHAR" for i in range(len(PURVIEW_HEADER)))
        con.execute(f"CREATE TEMP TABLE p (t_ms BIGINT, id VARCHAR, {cols})")

    def base(
        self, rng: random.Random, when_s: float, op: str, record_type: int, upn: str, puid: str, workload: str
    ) -> dict[str, object]:
        """The members every AuditData record starts with (a fresh `Id`)."""
        return {
            "CreationTime": _iso(when_s),
            "Id": rand_uuid(rng),
            "Operation": op,
            "OrganizationId": self.tenant,
            "RecordType": record_type,
            "ResultStatus": "Succeeded",
            "UserKey": puid,
            "UserType": 0,
            "Version": 1,
            "Workload": workload,
            "UserId": upn,
        }

    def add(self, when_s: float, csv_type: str, audit: dict[str, object]) -> None:
        """One record, its CSV `RecordType` as the export names it (`ExchangeItem`, …)."""
        op = str(audit["Operation"])
        self.count[op] = self.count.get(op, 0) + 1
        data = json.dumps(audit, separators=(",", ":"), ensure_ascii=False)
        row = (str(audit["Id"]), _locale(when_s), csv_type, op, str(audit["UserId"]), data, "", "")
        self.records.append((int(when_s * 1000), str(audit["Id"]), row))
        self.total += 1
        if len(self.records) >= 20_000:
            self._flush()

    def _flush(self) -> None:
        """Park records in DuckDB so a million-row sample never holds them all in Python."""
        columns: dict[str, list[object]] = {
            "t_ms": [r[0] for r in self.records],
            "id": [r[1] for r in self.records],
        }
        for i in range(len(PURVIEW_HEADER)):
            columns[f"c{i}"] = [r[2][i] for r in self.records]
        self.con.register("chunk_p", pa.table(columns))
        self.con.execute("INSERT INTO p SELECT * FROM chunk_p")
        self.con.unregister("chunk_p")
        self.records = []

    def mail_access(
        self,
        rng: random.Random,
        tok: Issued,
        reqs: list[Request],
        ip: str,
        client_info: str,
        app_id: str,
        client_app_id: str,
        per_record: int,
    ) -> None:
        """MailItemsAccessed: Bind records aggregating reads, and a Sync when a session starts."""
        reads = [r for r in reqs if r.read]
        if tok.interactive and tok.forged is None and rng.random() < 0.3 and reqs:
            self._mail_record(
                rng,
                tok,
                reqs[0].t_ms / 1000,
                ip,
                client_info,
                app_id,
                client_app_id,
                "Sync",
                [("\\Inbox", [])],
            )
        for i in range(0, len(reads), per_record):
            group = reads[i : i + per_record]
            folders: dict[str, list[str]] = {}
            for r in group:
                folders.setdefault(str(r.read), []).append(_message_id(rng))
            self._mail_record(
                rng,
                tok,
                group[-1].t_ms / 1000 + rng.uniform(1, 90),
                ip,
                client_info,
                app_id,
                client_app_id,
                "Bind",
                sorted(folders.items()),
            )

    def _mail_record(
        self,
        rng: random.Random,
        tok: Issued,
        when_s: float,
        ip: str,
        client_info: str,
        app_id: str,
        client_app_id: str,
        access: str,
        folders: list[tuple[str, list[str]]],
    ) -> None:
        u = tok.user
        audit = self.base(rng, when_s, "MailItemsAccessed", 50, u.upn, u.puid, "Exchange")
        context: dict[str, object] = {
            "UniqueTokenId": tok.uti,
            "IssuedAtTime": _iso(tok.iat),
            "ClientAppId": client_app_id,
        }
        if tok.sid:
            context = {"AADSessionId": tok.sid, **context}
        audit.update(
            {
                "AppId": app_id,
                "ClientAppId": client_app_id,
                "ClientIPAddress": _audit_ip(ip, rng),
                "ClientInfoString": client_info,
                "LogonType": 0,
                "MailboxGuid": u.mailbox_guid,
                "MailboxOwnerUPN": u.upn,
                "OperationProperties": [
                    {"Name": "MailAccessType", "Value": access},
                    {"Name": "IsThrottled", "Value": "False"},
                ],
                "SessionId": tok.sid or "",
                "TokenObjectId": tok.oid,
                "TokenTenantId": tok.tid,
                "AppAccessContext": context,
                "Folders": [
                    {"FolderItems": [{"InternetMessageId": m} for m in items], "Path": path}
                    for path, items in folders
                ],
                "OperationCount": max(1, sum(len(items) for _, items in folders)),
            }
        )
        self.add(when_s, "ExchangeItemAggregated", audit)

    def exchange_admin(
        self,
        rng: random.Random,
        when_s: float,
        op: str,
        tok: Issued,
        ip: str,
        params: list[tuple[str, str]],
        object_id: str,
        app_id: str,
        user_type: int,
    ) -> dict[str, object]:
        """An Exchange admin cmdlet (UAL RecordType 1, `ExchangeAdmin`) run with the token `tok` in its
        session: `Parameters` name/value strings, `ClientIP` with the client's port, `ResultStatus`
        "True", the session and the token in `SessionId` / `AppAccessContext` (research §9.1)."""
        u = tok.user
        audit = self.base(rng, when_s, op, 1, u.upn, u.puid, "Exchange")
        audit.update(
            {
                "ResultStatus": "True",
                "UserType": user_type,
                "ClientIP": f"{ip}:{rng.randrange(1025, 65535)}",
                "ObjectId": object_id,
                "AppId": app_id,
                "ClientAppId": "",
                "ExternalAccess": False,
                "OrganizationName": self.org_name,
                "OriginatingServer": f"{rng.choice(SERVERS)} (15.20.6455.030)",
                "Parameters": [{"Name": k, "Value": v} for k, v in params],
                "SessionId": tok.sid or "",
                "AppAccessContext": {"IssuedAtTime": _iso(tok.iat), "UniqueTokenId": tok.uti},
            }
        )
        self.add(when_s, "ExchangeAdmin", audit)
        return audit

    def genuine(self, rng: random.Random, tok: Issued, reqs: list[Request], sharepoint_host: str) -> None:
        """Every audit record a genuine token leaves: mail reads, logins, sends and file access."""
        u = tok.user
        if not u.guest:
            app_id = APP_OWA if tok.app == APP_OWA else APP_GRAPH
            self.mail_access(rng, tok, reqs, tok.place.ip, CLIENT_INFO[tok.app], app_id, tok.app, 16)
            if tok.interactive and rng.random() < 0.35:
                self._login(rng, tok, tok.iat + rng.uniform(1, 20))
        for r in reqs:
            if r.op in ("Send", "CreateItem") and rng.random() < 0.12:
                self._send(rng, tok, r.t_ms / 1000 + rng.uniform(0.5, 5))
            elif r.op == "FileAccessed" and rng.random() < (0.5 if u.guest else 0.3):
                self._file(rng, tok, r.t_ms / 1000 + rng.uniform(0.5, 5), sharepoint_host)

    def forged(self, rng: random.Random, tok: Issued, reqs: list[Request], ip: str) -> None:
        """MailItemsAccessed for one session of the actor's reads: a new AppId, the forged uti, its IP."""
        self.mail_access(rng, tok, reqs, ip, IOC_CLIENT_INFO, APP_EXCHANGE, APP_EXCHANGE, 25)

    def _login(self, rng: random.Random, tok: Issued, when_s: float) -> None:
        u = tok.user
        audit = self.base(rng, when_s, "MailboxLogin", 2, u.upn, u.puid, "Exchange")
        audit.update(
            {
                "ClientIPAddress": _audit_ip(tok.place.ip, rng),
                "ClientInfoString": CLIENT_INFO[tok.app],
                "ExternalAccess": False,
                "InternalLogonType": 0,
                "LogonType": 0,
                "MailboxGuid": u.mailbox_guid,
                "MailboxOwnerUPN": u.upn,
                "OrganizationName": self.org_name,
                "SessionId": tok.sid or "",
            }
        )
        self.add(when_s, "ExchangeItem", audit)

    def _send(self, rng: random.Random, tok: Issued, when_s: float) -> None:
        u = tok.user
        audit = self.base(rng, when_s, "Send", 2, u.upn, u.puid, "Exchange")
        audit.update(
            {
                "AppId": APP_OWA if tok.app == APP_OWA else APP_GRAPH,
                "ClientAppId": tok.app,
                "ClientIPAddress": _audit_ip(tok.place.ip, rng),
                "ClientInfoString": CLIENT_INFO[tok.app],
                "ExternalAccess": False,
                "InternalLogonType": 0,
                "LogonType": 0,
                "MailboxGuid": u.mailbox_guid,
                "MailboxOwnerUPN": u.upn,
                "OrganizationName": self.org_name,
                "SessionId": tok.sid or "",
                "TokenObjectId": tok.oid,
                "TokenTenantId": tok.tid,
                "AppAccessContext": {
                    "AADSessionId": tok.sid,
                    "IssuedAtTime": _iso(tok.iat),
                    "UniqueTokenId": tok.uti,
                    "ClientAppId": tok.app,
                },
                "Item": {
                    "Id": "RgAAAA" + b64id(rng, 33),
                    "InternetMessageId": _message_id(rng),
                    "ParentFolder": {"Path": "\\Sent Items"},
                    "SizeInBytes": rng.randrange(4000, 90000),
                },
            }
        )
        self.add(when_s, "ExchangeItem", audit)

    def _file(self, rng: random.Random, tok: Issued, when_s: float, host: str) -> None:
        u = tok.user
        name = rng.choice(
            (
                "Programme plan FY24.docx",
                "Budget draft.xlsx",
                "Minutes 2023-05.docx",
                "Joint statement v3.docx",
                "Travel schedule.xlsx",
            )
        )
        site = f"https://{host}/sites/JointProgramme/"
        audit = self.base(
            rng,
            when_s,
            "FileAccessed",
            6,
            u.upn,
            f"i:0h.f|membership|{u.puid.lower()}@live.com",
            "SharePoint",
        )
        audit.update(
            {
                "ClientIP": tok.place.ip,
                "ObjectId": f"{site}Shared Documents/{name}",
                "UserAgent": tok.ua,
                "SiteUrl": site,
                "SourceFileName": name,
                "SourceRelativeUrl": "Shared Documents",
                "ApplicationId": tok.app,
                "AppAccessContext": {
                    "ClientAppId": tok.app,
                    "ClientAppName": APP_NAMES[tok.app],
                    "CorrelationId": rand_uuid(rng),
                    "UniqueTokenId": tok.uti,
                },
            }
        )
        if u.guest:
            audit["UserType"] = 0
            audit["UserId"] = f"{u.upn.replace('@', '_')}#ext#@{self.org_name}"
        self.add(when_s, "SharePointFileOperation", audit)

    def write(self, path: Path) -> int:
        """UTF-8 with BOM, CRLF, newest first; returns the number of records."""
        self._flush()
        cols = ", ".join(f"c{i}" for i in range(len(PURVIEW_HEADER)))
        cur = self.con.execute(f"SELECT {cols} FROM p ORDER BY t_ms DESC, id")
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(PURVIEW_HEADER)
            while batch := cur.fetchmany(5000):
                writer.writerows(batch)
        return self.total
