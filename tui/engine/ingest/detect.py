"""Name the kind of a table and map its columns to event fields, from column names and sample values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tui.engine.core.schema import DETECTED_FIELDS, Kind
from tui.engine.ingest.field_names import (
    CANDIDATES,
    GUID_FIELDS,
    METHOD_COLUMNS,
    NO_TOKEN_KINDS,
    OVERRIDES,
    RECORD_KINDS,
    ROOT_PATH,
    ROOTS,
    SIGNIN_CATEGORIES,
    URL_COLUMNS,
)

SAMPLE_ROWS = 500

JWT_VALUE = re.compile(r"^\s*(?:bearer\s+)?eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_.-]*\s*$", re.I)
BEARER_VALUE = re.compile(r"^\s*bearer\s+\S+", re.I)
SMTP_VALUE = re.compile(r"^\s*smtp:[^@\s]+@\S+$", re.I)
# A JWT or an anchor-mailbox value inside a longer cell: a header list or JSON cell (API Management's
# `BackendRequestHeaders`, a logged header dump) or a URL query (`access_token=eyJ…`).
EMBEDDED_JWT = r"(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"
EMBEDDED_SMTP = r"(?i)smtp:([^\s\"',;&]+@[^\s\"',;&]+)"
GUID_VALUE = re.compile(r"^\s*\{?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}?\s*$", re.I)
IP_VALUE = re.compile(
    r"^\s*(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?|\[[0-9a-f:.]+\](?::\d+)?|[0-9a-f]*:[0-9a-f:.]+)\s*$", re.I
)
TIME_VALUE = re.compile(
    r"^\s*(?:\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}"  # ISO 8601
    r"|\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d{2}"  # Purview, Log Analytics
    r"|\d{1,2}\.\d{1,2}\.\d{4} \d{1,2}:\d{2}"  # Excel in a German-style locale
    r"|/Date\(-?\d+)"  # Windows PowerShell's ConvertTo-Json
)
UNIT_SUFFIX = re.compile(r"\s*\[(UTC|Local Time)\]\s*$", re.IGNORECASE)
LOCAL_TIME = re.compile(r"\[Local Time\]\s*$", re.IGNORECASE)


def norm(name: str) -> str:
    """Compare names the way an analyst would: case, spaces, `_` and `-` do not matter."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


@dataclass(frozen=True)
class Source:
    """A column, or a JSON path inside a column's text, that feeds one event field.

    `named`: the value is the `Value` of the `{Name, Value}` entry of that name in the list there (a
    UAL record's `ExtendedProperties[Name=UserAgent]`). `when`: the value counts only where a sibling
    member (column, path) holds one of the values (`ApplicationId` of a record whose RecordType is
    15, a sign-in: the same member of a SharePoint record is left as it was read before)."""

    column: str
    path: str | None = None
    extract: str | None = None  # a regex (a constant of this module) whose first group is the value
    named: str | None = None
    when: tuple[str, str | None, tuple[str, ...]] | None = None

    def label(self) -> str:
        """How the mapping is shown: `AuditData.AppAccessContext.UniqueTokenId`."""
        base = self.column if self.path is None else f"{self.column}.{self.path}"
        if self.named is not None:
            base += f"[Name={self.named}]"
        if self.when is not None:
            member = self.when[0] if self.when[1] is None else f"{self.when[0]}.{self.when[1]}"
            base += f" (where {member} is {' or '.join(self.when[2])})"
        return base if self.extract is None else f"{base} (embedded)"


# A candidate's suffixes: `List[Name=Key]` (a name/value list's entry), `Member{Sibling=a|b}` (a guard)
_NAMED = re.compile(r"^(.*)\[Name=([^\]]+)\]$")
_WHEN = re.compile(r"^(.*)\{([A-Za-z0-9_]+)=([^}]+)\}$")


def parse_candidate(cand: str) -> tuple[str, str | None, tuple[str, tuple[str, ...]] | None]:
    """`ExtendedProperties[Name=UserAgent]` → (`ExtendedProperties`, `UserAgent`, None);
    `ApplicationId{RecordType=15|X}` → (`ApplicationId`, None, (`RecordType`, (`15`, `X`)))."""
    when = None
    guarded = _WHEN.match(cand)
    if guarded:
        cand, when = guarded.group(1), (guarded.group(2), tuple(guarded.group(3).split("|")))
    named = _NAMED.match(cand)
    if named:
        return named.group(1), named.group(2), when
    return cand, None, when


@dataclass(frozen=True)
class Detection:
    """The kind and, per event field, its sources in coalesce order."""

    kind: str
    fields: Mapping[str, tuple[Source, ...]]
    url: Source | None = None  # for operation from a request URL
    method: Source | None = None
    constants: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def mapping(self) -> dict[str, str]:
        """field → column(s) as shown to the analyst."""
        out = {f: " | ".join(s.label() for s in srcs) for f, srcs in self.fields.items() if srcs}
        if self.url is not None and "operation" not in out:
            out["operation"] = (
                f"{self.method.label()} + " if self.method else ""
            ) + f"{self.url.label()} (action= or path)"
        for name, value in self.constants.items():
            out.setdefault(name, f"'{value}' (constant)")
        return out


class _Columns:
    """Columns by normalised name; of duplicates the first wins (`Incoming token type_1` is the 2nd)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.by_norm: dict[str, str] = {}
        for name in names:
            self.by_norm.setdefault(norm(name), name)
        # Log Analytics exports name a time column `TimeGenerated [UTC]` (`[Local Time]` when the
        # portal showed local times)
        for name in names:
            self.by_norm.setdefault(norm(UNIT_SUFFIX.sub("", name)), name)

    def resolve(self, candidate: str, root: str | None = None) -> Source | None:
        base, named, when = parse_candidate(candidate)
        src = self._resolve(base)
        if src is None or (named is None and when is None):
            return src
        guard = None
        if when is not None:
            sibling = self._resolve(when[0]) if src.path is None else None
            if src.path is None and sibling is None:
                return None
            guard = (
                (sibling.column, None, when[1])
                if sibling is not None
                else (src.column, _sibling(src.path or "", when[0]), when[1])
            )
        return Source(src.column, src.path, named=named, when=guard)

    def _resolve(self, candidate: str) -> Source | None:
        exact = self.by_norm.get(norm(candidate))
        if exact is not None:
            return Source(exact)
        if "." in candidate:
            head, rest = candidate.split(".", 1)
            column = self.by_norm.get(norm(head))
            if column is not None:
                return Source(column, rest)
        return None

    def has(self, *names: str) -> bool:
        return all(norm(n) in self.by_norm for n in names)


class _Texts(dict[str, list[str]]):
    """A column's non-empty sample values as text, made once per column: the value checks below ask
    for them up to six times a column (half of `detect`'s time went to making them again)."""

    def __init__(self, values: Mapping[str, list[object]]) -> None:
        super().__init__()
        self.sample = values

    def __missing__(self, col: str) -> list[str]:
        texts = [t for t in (str(v) for v in self.sample.get(col, []) if v is not None) if t.strip()]
        self[col] = texts
        return texts


def _embedded(text_cols: Sequence[str], texts: _Texts, regex: str) -> list[str]:
    """Text columns where at least half the non-empty sample values contain the pattern somewhere."""
    pattern = re.compile(regex)
    return [col for col in text_cols if _enough(texts[col], pattern.search, 0.5)]


def _enough(texts: list[str], test: Callable[[str], object], share: float) -> bool:
    """Whether `passed / len(texts) >= share` for the non-empty values (`_Texts`) that pass `test`
    (a pattern's `match` or `search`); never true of no values. Stops as soon as the count decides
    it (the same comparison, on what has passed so far and on what still could)."""
    n = len(texts)
    passed = failed = 0
    for t in texts:
        if test(t):
            passed += 1
            if passed / n >= share:
                return True
        else:
            failed += 1
            if (n - failed) / n < share:
                return False
    return bool(n) and passed / n >= share


def detect(
    columns: Sequence[tuple[str, str]],
    sample: Sequence[Sequence[object]],
    mapping: Mapping[str, str] | None = None,
    har: bool = False,
    kind: str | None = None,
) -> Detection:
    """Kind and field sources for one table, given its (name, type) columns and a few sample rows.

    `kind`: the kind its rows were chosen by (one kind's records of a file that mixes them,
    `tui.engine.ingest.record_kinds`), instead of naming it from the sample."""
    names = [c for c, _ in columns]
    cols = _Columns(names)
    values = {name: [row[n] for row in sample] for n, name in enumerate(names)}
    text_cols = [c for c, t in columns if t.upper() in ("VARCHAR", "JSON")]
    texts = _Texts(values)
    token_cols = [c for c in text_cols if _enough(texts[c], JWT_VALUE.match, 0.5)]
    if not token_cols:
        token_cols = [
            c for c in text_cols if "auth" in norm(c) and _enough(texts[c], BEARER_VALUE.match, 0.5)
        ]
    mailbox_cols = [c for c in text_cols if _enough(texts[c], SMTP_VALUE.match, 0.5)]
    embedded_token = [] if token_cols else _embedded(text_cols, texts, EMBEDDED_JWT)
    embedded_mailbox = [] if mailbox_cols else _embedded(text_cols, texts, EMBEDDED_SMTP)

    if kind is None:
        kind = Kind.HAR if har else _kind(cols, values, bool(token_cols or embedded_token))
    root = ROOTS.get(kind) if kind in ROOTS and cols.has(ROOTS[kind]) else None
    candidates = {**CANDIDATES, **OVERRIDES.get(kind, {})}
    root_keys = _json_keys(values.get(cols.by_norm[norm(root)], [])) if root else {}
    types = dict(columns)
    fields: dict[str, tuple[Source, ...]] = {}
    for name in DETECTED_FIELDS:
        found: list[Source] = []
        for cand in candidates.get(name, ()):
            src = cols.resolve(cand)
            if src is not None and src not in found and _plausible(name, src, texts, types):
                found.append(src)
        if root is not None:
            for cand in candidates.get(name, ()):
                base, named, when = parse_candidate(cand)
                head, _, rest = base.partition(".")
                if not ROOT_PATH.match(base) or (root_keys and norm(head) not in root_keys):
                    continue
                path = root_keys.get(norm(head), head) + (f".{rest}" if rest else "")
                guard = None
                if when is not None:
                    member = root_keys.get(norm(when[0]), when[0])
                    guard = (cols.by_norm[norm(root)], _sibling(path, member), when[1])
                src = Source(cols.by_norm[norm(root)], path, named=named, when=guard)
                if src not in found:
                    found.append(src)
        fields[name] = tuple(found)
    if kind != Kind.SIGNIN:  # the hints of a sign-in's MFA mean nothing in another kind's records
        fields["mfa"] = ()
    if kind in NO_TOKEN_KINDS:  # an RBAC `authorization` object, a decoded token's claims: no bearer
        fields["token"] = ()
    elif token_cols:
        fields["token"] = (Source(token_cols[0]),)
    elif embedded_token:
        fields["token"] = (Source(embedded_token[0], extract=EMBEDDED_JWT),)
    if mailbox_cols and not any(s.path is None for s in fields["mailbox"]):
        fields["mailbox"] = (Source(mailbox_cols[0]), *fields["mailbox"])
    elif embedded_mailbox and not fields["mailbox"]:
        fields["mailbox"] = (Source(embedded_mailbox[0], extract=EMBEDDED_SMTP),)
    if kind in (Kind.GENERIC, Kind.HTTP):  # proxy logs name their columns anything
        fields = _generic_fallbacks(fields, text_cols, texts)

    url = next((s for s in (cols.resolve(c) for c in URL_COLUMNS) if s is not None), None)
    method = next((s for s in (cols.resolve(c) for c in METHOD_COLUMNS) if s is not None), None)
    if root is not None:  # a diagnostic record's `properties.requestUri`
        in_root = [(names, root_keys.get(norm(c))) for names in (URL_COLUMNS, METHOD_COLUMNS) for c in names]
        url = url or next(
            (Source(cols.by_norm[norm(root)], k) for n, k in in_root if k and n is URL_COLUMNS), None
        )
        method = method or next(
            (Source(cols.by_norm[norm(root)], k) for n, k in in_root if k and n is METHOD_COLUMNS), None
        )
    constants = {"operation": "SignIn"} if kind == Kind.SIGNIN and not fields["operation"] else {}
    if fields["operation"]:
        url = method = None

    notes: list[str] = []
    for fname, column in (mapping or {}).items():
        src = cols.resolve(column)
        if src is None:
            notes.append(f"--map {fname}={column}: no such column")
            continue
        fields[fname] = (src,)
        if fname == "operation":
            url = method = None
            constants.pop("operation", None)
    ts = fields.get("ts") or ()
    if ts and ts[0].path is None and LOCAL_TIME.search(ts[0].column):
        notes.append(
            f"{ts[0].column}: exported in the portal's local time, read as UTC; "
            "export with the display time zone set to UTC"
        )
    return Detection(kind, fields, url if kind != Kind.SIGNIN else None, method, constants, tuple(notes))


def _json_keys(values: list[object]) -> dict[str, str]:
    """Member names (normalised → as written) in a sample of a JSON-text column (at most SAMPLE_ROWS)."""
    keys: dict[str, str] = {}
    for value in values:
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                obj = json.loads(value)
            except (ValueError, RecursionError):  # RecursionError: a cell nested thousands of levels deep
                continue
            if isinstance(obj, dict):
                for key in obj:
                    keys.setdefault(norm(key), key)
    return keys


def _sibling(path: str, member: str) -> str:
    """The path of `member` beside the last step of `path` (`a.b` → `a.member`)."""
    head, _, _ = path.rpartition(".")
    return f"{head}.{member}" if head else member


def _plausible(name: str, src: Source, texts: _Texts, types: Mapping[str, str]) -> bool:
    """Paths need JSON text (most sample values an object or a list: not the portal CSV's `Status`
    of `Success` for `Status.additionalDetails`) or nested data; identifier fields must hold GUIDs
    (not Defender's numbers); a column named like a token header (`Authorization`) holding JSON
    objects is no bearer token (an Azure Activity record's RBAC `authorization` object)."""
    if src.path is not None:
        typ = types.get(src.column, "VARCHAR").upper()
        if typ == "VARCHAR":
            texts_of = texts[src.column]
            return not texts_of or _enough(texts_of, lambda t: t.lstrip()[:1] in ("{", "["), 0.5)
        return typ == "JSON" or typ.startswith(("STRUCT", "MAP", "UNION"))
    typ = types.get(src.column, "VARCHAR").upper()
    if name == "token" and (
        typ.startswith(("STRUCT", "MAP")) or _enough(texts[src.column], lambda t: t.lstrip()[:1] == "{", 0.5)
    ):
        return False
    if name not in GUID_FIELDS:
        return True
    return not texts[src.column] or _enough(texts[src.column], GUID_VALUE.match, 0.5)


def _kind(cols: _Columns, values: Mapping[str, list[object]], has_token: bool) -> str:
    types = {norm(str(v)) for v in values.get(cols.by_norm.get("type", ""), []) if v is not None}
    if cols.has("category", "properties"):  # an Azure Monitor diagnostic record
        categories = {norm(str(v)) for v in values.get(cols.by_norm["category"], []) if v is not None}
        if categories & SIGNIN_CATEGORIES:
            return Kind.SIGNIN
        for category in sorted(categories):  # the first named kind (a file that mixes them is split later)
            if RECORD_KINDS.get(category) is not None:
                return RECORD_KINDS[category]
    raw = {n.strip().lower() for n in cols.names}
    if "officeactivity" in types:
        return Kind.OFFICE_ACTIVITY
    if types & {
        "signinlogs",
        "aadnoninteractiveusersigninlogs",
        "aadserviceprincipalsigninlogs",
        "aadmanagedidentitysigninlogs",
    }:
        return Kind.SIGNIN
    if "microsoftgraphactivitylogs" in types:
        return Kind.GRAPH_ACTIVITY
    if "cloudappevents" in types:
        return Kind.CLOUD_APP_EVENTS
    for typ in sorted(types):
        if RECORD_KINDS.get(typ) in (Kind.ENTRA_AUDIT, Kind.RISK, Kind.AZURE_ACTIVITY):
            return RECORD_KINDS[typ]
    if _azure_activity(cols, values):
        return Kind.AZURE_ACTIVITY
    if cols.has("activityDisplayName", "activityDateTime"):  # Graph directoryAudits, Sentinel AuditLogs
        return Kind.ENTRA_AUDIT
    if cols.has("riskEventType") and (cols.has("activityDateTime") or cols.has("detectedDateTime")):
        return Kind.RISK
    if cols.has("AuditData"):
        return Kind.PURVIEW if cols.has("CreationDate") else Kind.MGMT_ACTIVITY
    if cols.has("RawEventData", "ActionType"):
        return Kind.CLOUD_APP_EVENTS
    if cols.has("SignInActivityId", "RequestUri"):
        return Kind.GRAPH_ACTIVITY
    if raw & {"client_ipaddress", "officeworkload", "officeid"}:
        return Kind.OFFICE_ACTIVITY
    if (
        cols.has("UniqueTokenIdentifier")
        or cols.has("createdDateTime", "userPrincipalName", "appId")
        or cols.has("Date (UTC)", "Request ID")
    ):
        return Kind.SIGNIN
    if cols.has("CreationTime", "Operation") and (cols.has("Workload") or cols.has("RecordType")):
        return Kind.MGMT_ACTIVITY
    if has_token:
        return Kind.HTTP
    return Kind.GENERIC


def _azure_activity(cols: _Columns, values: Mapping[str, list[object]]) -> bool:
    """An Azure Activity record: the caller's `claims` beside an RBAC `authorization` (REST and portal
    JSON, Sentinel's AzureActivity with `Claims_d`), or both inside the storage form's `identity`."""
    if (cols.has("claims") or cols.has("Claims_d")) and (
        cols.has("authorization") or cols.has("caller") or cols.has("Authorization_d")
    ):
        return True
    identity = cols.by_norm.get("identity")
    if identity is None or not cols.has("operationName"):
        return False
    keys = _json_keys(values.get(identity, []))
    return "claims" in keys or "authorization" in keys


def _generic_fallbacks(
    fields: dict[str, tuple[Source, ...]], text_cols: list[str], texts: _Texts
) -> dict[str, tuple[Source, ...]]:
    """For a table we cannot name (or a free-form proxy log), find time and IP columns by their values."""
    used = {s.column for srcs in fields.values() for s in srcs}
    for fname, pattern in (("ts", TIME_VALUE), ("client_ip", IP_VALUE)):
        if fields[fname]:
            continue
        for col in text_cols:
            if col not in used and _enough(texts[col], pattern.match, 0.8):
                fields[fname] = (Source(col),)
                used.add(col)
                break
    return fields
