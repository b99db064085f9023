"""`triage scan` over a folder of many small JSON files, read as groups and one file at a time.

    python bench/many_files.py [--files 1000] [--records 500] [--format json|mixed|csv|parquet]
                               [--dir bench/out]

Writes (once) `<dir>/inputs/blobs-<files>x<records>/`: Management Activity API content blobs, each a
JSON array of Exchange audit records (MailItemsAccessed, Send…; with `--format mixed` each
operation with its own members, as real blobs mix them), or with `--format csv`
`<dir>/inputs/purview-<files>x<records>/`: Purview audit search exports of the same records (UTF-8
with a byte-order mark, CreationDate, UserIds, Operations, AuditData), or with `--format parquet`
`<dir>/inputs/parts-<files>x<records>/`: a gateway table's Parquet part files (as Spark or an export
job writes one; time, client, url, bearer token, X-AnchorMailbox), then runs `triage scan` on the
folder twice, each in a fresh child: as the product does (alike files read together,
`tui.engine.ingest.load_groups`), and with every file read alone (`GROUP_MAX_FILES = 1`, what the loader did
before). Prints wall time and peak RSS of each, and whether the three findings files are
byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from pathlib import Path
from tui.engine.ingest import load_groups
if sys.argv[1] == "alone":
    load_groups.GROUP_MAX_FILES = 1
from tui.engine.core.options import Options
from tui.engine.findings.scan import run_scan
run_scan([sys.argv[2]], Path(sys.argv[3]), Options())
"""
OPERATIONS = ("MailItemsAccessed", "Send", "MailItemsAccessed", "Update", "MoveToDeletedItems")


# With --format mixed, each record is one of these Exchange operations with its own members (as a
# content blob mixes them): blobs then start with different records and fall into several groups.
MIXED = (
    {
        "Operation": "Send",
        "Item": {"Subject": "x", "Id": "i"},
        "ClientInfoString": "Client=OWA",
        "LogonType": 0,
    },
    {"Operation": "Update", "Item": {"Id": "i"}, "ModifiedProperties": ["Body"], "LogonType": 0},
    {"Operation": "MailboxLogin", "ClientInfoString": "Client=Outlook", "LogonType": 0, "MailboxGuid": "g"},
    {"Operation": "MoveToDeletedItems", "AffectedItems": [{"Id": "i"}], "Folder": {"Path": "\\Inbox"}},
)


def generate(folder: Path, files: int, records: int, fmt: str) -> None:
    suffix = "json" if fmt == "mixed" else fmt
    if folder.is_dir() and len(list(folder.glob(f"*.{suffix}"))) == files:
        return
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        _parts(folder, files, records)
        return
    for f in range(files):
        blob = []
        for r in range(records):
            n = f * records + r
            blob.append(
                {
                    "CreationTime": f"2023-06-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:03",
                    "Id": f"{f}-{r}",
                    "Operation": OPERATIONS[n % len(OPERATIONS)],
                    "OrganizationId": "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97",
                    "RecordType": 50,
                    "Workload": "Exchange",
                    "UserId": f"u{n % 300}@contoso.com",
                    "ClientIPAddress": f"203.0.{n % 200}.{n % 250}",
                    "MailboxOwnerUPN": f"u{(n * 7) % 300}@contoso.com",
                    "ClientInfoString": "Client=REST;;",
                    "AppId": "00000002-0000-0ff1-ce00-000000000000",
                    "OperationCount": n % 9 + 1,
                    "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}],
                }
            )
            pick = (n + 3 * f) % 5  # blobs start with different operations
            if fmt == "mixed" and pick:  # four in five records are another operation
                shape = MIXED[pick - 1]
                for member in ("AppId", "OperationCount", "OperationProperties"):
                    del blob[-1][member]
                blob[-1].update(shape)
        if fmt in ("json", "mixed"):
            (folder / f"blob{f:05d}.json").write_text(json.dumps(blob))
            continue
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(["CreationDate", "UserIds", "Operations", "AuditData"])
        for rec in blob:
            writer.writerow([f"{rec['CreationTime']}Z", rec["UserId"], rec["Operation"], json.dumps(rec)])
        (folder / f"audit{f:05d}.csv").write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode())


def _parts(folder: Path, files: int, records: int) -> None:
    import duckdb

    token = (
        "'Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.' || "
        'to_base64((\'{"uti":"\' || (n % 997) || \'","tid":"t"}\')::BLOB) || \'.c2ln\''
    )
    for f in range(files):
        target = folder / f"part-{f:05d}.parquet"
        duckdb.sql(
            f"""COPY (SELECT TIMESTAMPTZ '2023-06-01 00:00:00+00' + INTERVAL (n) SECOND AS time,
                       '203.0.' || (n % 200) || '.' || (n % 250) || ':443' AS client,
                       'https://outlook.office.com/owa/service.svc?action=GetItem' AS url,
                       {token} AS request_header_authorization,
                       'SMTP:u' || (n % 300) || '@contoso.com' AS request_header_x_anchormailbox
                FROM (SELECT range + {f * records} AS n FROM range({records})))
            TO '{target}' (FORMAT parquet)"""
        )


def scan(how: str, folder: Path, out: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one `triage scan` child."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", CHILD, how, str(folder), str(out)], env=env)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"triage scan ({how}) failed")
    return seconds, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--format", choices=("json", "mixed", "csv", "parquet"), default="json")
    parser.add_argument("--dir", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    name = {"json": "blobs", "mixed": "mixed", "csv": "purview", "parquet": "parts"}[args.format]
    folder = args.dir / "inputs" / f"{name}-{args.files}x{args.records}"
    generate(folder, args.files, args.records, args.format)
    results = {}
    for how in ("grouped", "alone"):
        out = args.dir / f"many-{how}"
        results[how] = scan(how, folder, out)
        print(f"{how:8} {results[how][0]:7.2f} s  peak RSS {results[how][1]:,} MiB", flush=True)
    same = all(
        filecmp.cmp(args.dir / "many-grouped" / name, args.dir / "many-alone" / name, shallow=False)
        for name in ("tokens.csv", "mailboxes.csv", "drift.csv")
    )
    print(f"{args.files} {args.format} files x {args.records} records; findings byte-identical: {same}")


if __name__ == "__main__":
    main()
