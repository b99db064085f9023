"""The reverse-proxy log of the sample incident: OWA and Graph requests, written to Parquet through DuckDB."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import APP_OWA, b64id

OWA = "https://outlook.office.com/owa/service.svc?action={action}&app=Mail&n={n}"
# (action, weight, is a mail read, typical bytes)
OWA_ACTIONS = (
    ("FindConversation", 22, False, 24000),
    ("GetConversationItems", 16, True, 16000),
    ("GetItem", 10, True, 9000),
    ("GetCalendarView", 10, False, 12000),
    ("UpdateItem", 8, False, 900),
    ("CreateItem", 4, False, 1100),
    ("GetOwaUserConfiguration", 4, False, 30000),
    ("GetAccessTokenforResource", 3, False, 2600),
)
GRAPH_ACTIONS = (
    (
        "GET",
        "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages?$top=25&$select=subject,from,receivedDateTime",
        22,
        False,
        21000,
    ),
    ("GET", "https://graph.microsoft.com/v1.0/me/messages/{mid}", 26, True, 8000),
    ("GET", "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/messages/delta", 12, False, 6000),
    (
        "GET",
        "https://graph.microsoft.com/v1.0/me/calendarView?startDateTime={d}T00:00:00Z&endDateTime={d}T23:59:59Z",
        12,
        False,
        7000,
    ),
    ("GET", "https://graph.microsoft.com/v1.0/me/drive/recent", 8, False, 5000),
    ("POST", "https://graph.microsoft.com/v1.0/me/sendMail", 4, False, 300),
)
GUEST_ACTIONS = (
    ("GET", "https://graph.microsoft.com/v1.0/sites/{host}:/sites/JointProgramme", 15, False, 2000),
    (
        "GET",
        "https://graph.microsoft.com/v1.0/sites/{host}:/sites/JointProgramme:/drive/root/children",
        30,
        False,
        9000,
    ),
    ("GET", "https://graph.microsoft.com/v1.0/drives/{drive}/items/{item}/content", 30, False, 240000),
    ("GET", "https://graph.microsoft.com/v1.0/me", 10, False, 1200),
)
FOLDERS = (
    "\\Inbox",
    "\\Inbox",
    "\\Inbox",
    "\\Sent Items",
    "\\Archive",
    "\\Inbox\\Programme Office",
    "\\Drafts",
)
FORGED_READS = (("GetConversationItems", 3), ("GetItem", 2), ("FindConversation", 1))


@dataclass(frozen=True)
class Request:
    """One gateway row before it is written; `read` names the folder when it reads a mail item."""

    t_ms: int
    method: str
    url: str
    status: int
    nbytes: int
    read: str | None
    op: str  # the action, for audit records (Send, FileAccessed …)


def _times(rng: random.Random, start_s: int, end_s: int, n: int) -> list[int]:
    """`n` sorted millisecond times inside [start_s, end_s]."""
    return sorted(rng.randrange(start_s * 1000, end_s * 1000) for _ in range(n))


def genuine_requests(tok: Issued, rng: random.Random, sharepoint_host: str) -> list[Request]:
    """The requests one genuine token makes, all inside its lifetime (never after exp, never before iat)."""
    end = min(tok.exp - 120, tok.iat + 3000)
    times = _times(rng, tok.iat + 2, end, tok.rows)
    out: list[Request] = []
    for i, t in enumerate(times):
        if rng.random() < 0.01:  # static resources and pre-flights carry no bearer
            out.append(Request(t, "GET", "https://outlook.office.com/owa/favicon.ico", 304, 0, None, "anon"))
        elif tok.user.guest:
            method, tmpl, _, _, size = rng.choices(GUEST_ACTIONS, [a[2] for a in GUEST_ACTIONS])[0]
            url = tmpl.format(
                host=sharepoint_host, drive="b!" + b64id(rng, 24), item="01" + b64id(rng, 18).upper()
            )
            op = "FileAccessed" if "/content" in url else "graph"
            out.append(Request(t, method, url, 200, int(size * rng.uniform(0.3, 2.0)), None, op))
        elif tok.app == APP_OWA:
            if i == 0 and tok.interactive:
                out.append(
                    Request(
                        t,
                        "GET",
                        "https://outlook.office.com/owa/startupdata.ashx?app=Mail&n=0",
                        200,
                        rng.randrange(180000, 260000),
                        None,
                        "startup",
                    )
                )
                continue
            action, _, is_read, size = rng.choices(OWA_ACTIONS, [a[1] for a in OWA_ACTIONS])[0]
            status = 200 if rng.random() > 0.004 else 503
            folder = rng.choice(FOLDERS) if is_read and status == 200 else None
            out.append(
                Request(
                    t,
                    "POST",
                    OWA.format(action=action, n=i + 1),
                    status,
                    int(size * rng.uniform(0.4, 1.8)),
                    folder,
                    action,
                )
            )
        else:
            method, tmpl, _, is_read, size = rng.choices(GRAPH_ACTIONS, [a[2] for a in GRAPH_ACTIONS])[0]
            url = tmpl.format(mid="AAMk" + b64id(rng, 36), d=_day(t))
            op = {"sendMail": "Send", "recent": "FileAccessed"}.get(url.rsplit("/", 1)[-1], "graph")
            folder = rng.choice(FOLDERS) if is_read else None
            out.append(
                Request(
                    t,
                    method,
                    url,
                    200 if method == "GET" else 202,
                    int(size * rng.uniform(0.4, 1.8)),
                    folder,
                    op,
                )
            )
    return out


def forged_requests(tok: Issued, rng: random.Random, start_s: int) -> list[Request]:
    """The actor's script: mint a token with GetAccessTokenForResource, then read mail as fast as it likes."""
    n_reads = tok.rows - 1
    span = min(tok.exp - 300 - start_s, 2400 + n_reads * 2)
    times = _times(rng, start_s + 20, start_s + span, n_reads)
    out = [
        Request(
            start_s * 1000,
            "POST",
            OWA.format(action="GetAccessTokenForResource", n=1),
            200,
            2700,
            None,
            "mint",
        )
    ]
    for i, t in enumerate(times):
        action = rng.choices([a for a, _ in FORGED_READS], [w for _, w in FORGED_READS])[0]
        folder = rng.choice(("\\Inbox", "\\Inbox", "\\Sent Items", "\\Inbox\\Programme Office"))
        out.append(
            Request(
                t,
                "POST",
                OWA.format(action=action, n=i + 2),
                200,
                rng.randrange(6000, 60000),
                folder if action != "FindConversation" else None,
                action,
            )
        )
    return out


def _day(t_ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t_ms / 1000, timezone.utc).strftime("%Y-%m-%d")


def client(ip: str, rng: random.Random) -> str:
    """`ip:port` as the proxy logs it (IPv6 as `[addr]:port`)."""
    port = rng.randrange(1025, 65535)
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


SCHEMA = pa.schema(
    [
        ("t_ms", pa.int64()),
        ("seq", pa.int64()),
        ("client", pa.string()),
        ("method", pa.string()),
        ("url", pa.string()),
        ("status", pa.int32()),
        ("user_agent", pa.string()),
        ("tok", pa.int32()),
        ("anchor", pa.string()),
        ("bytes", pa.int64()),
    ]
)


class GatewayWriter:
    """Buffers rows in small Arrow chunks inside DuckDB (tokens kept once, by index) and sorts at the end."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.cols: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
        self.bearers: list[str] = []
        self.index: dict[str, int] = {}
        self.rows = 0
        con.execute(
            "CREATE TEMP TABLE g (t_ms BIGINT, seq BIGINT, client VARCHAR, method VARCHAR, url VARCHAR, "
            "status INTEGER, user_agent VARCHAR, tok INTEGER, anchor VARCHAR, bytes BIGINT)"
        )

    def add(self, req: Request, client_: str, ua: str, bearer: str | None, anchor: str | None) -> None:
        """Append one row; the bearer value is stored once and referenced by number."""
        tok = -1
        if bearer is not None:
            tok = self.index.setdefault(bearer, len(self.bearers))
            if tok == len(self.bearers):
                self.bearers.append(bearer)
        for name, value in zip(
            SCHEMA.names,
            (req.t_ms, self.rows, client_, req.method, req.url, req.status, ua, tok, anchor, req.nbytes),
            strict=True,
        ):
            self.cols[name].append(value)
        self.rows += 1
        if len(self.cols["seq"]) >= 50_000:
            self._flush()

    def _flush(self) -> None:
        chunk = pa.Table.from_pydict(self.cols, schema=SCHEMA)
        self.con.register("chunk_g", chunk)
        self.con.execute("INSERT INTO g SELECT * FROM chunk_g")
        self.con.unregister("chunk_g")
        self.cols = {name: [] for name in SCHEMA.names}

    def write(self, path: Path) -> None:
        """Sort by time and write the gateway log's columns (SCHEMA), zstd-compressed."""
        self._flush()
        bearers = pa.table({"tok": pa.array(range(len(self.bearers)), pa.int32()), "auth": self.bearers})
        self.con.register("bearers", bearers)
        self.con.execute(
            "COPY (SELECT make_timestamp(g.t_ms * 1000)::TIMESTAMPTZ AS time, g.client, g.method, g.url,"
            " g.status, g.user_agent, b.auth AS request_header_authorization,"
            " g.anchor AS request_header_x_anchormailbox,"
            " g.bytes FROM g LEFT JOIN bearers b ON b.tok = g.tok ORDER BY g.t_ms, g.seq)"
            " TO ? (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)",
            [str(path)],
        )
        self.con.unregister("bearers")
