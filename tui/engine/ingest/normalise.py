"""SQL expressions that turn one source table into event rows (SPEC §2): UTC times, bare IPs, counts.

Only identifiers (quoted) and constants from code enter the SQL text; every row is handled by
DuckDB, never by Python.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tui.engine.core.schema import EVENT_COLUMNS, Kind
from tui.engine.core.sql import ident, literal
from tui.engine.ingest.auth_facts import (
    category_sql,
    file_category,
    file_category_sql,
    interactive_sql,
    signin_category_sql,
)
from tui.engine.ingest.auth_fields import auth_steps_field, mfa_field_sql
from tui.engine.ingest.detect import Detection, Source
from tui.engine.ingest.json_reads import JsonReads
from tui.engine.ingest.signin_values import ENUM_FIELDS, canonical_sql
from tui.engine.ingest.source_sql import (
    NUMBER_TYPES,
    TEXT_TYPES,
    TIMESTAMP_TYPES,
    TimeProfile,
    json_path,
    json_text_sql,
    long_text_sql,
    source_sql,
    text_sql,
    type_in,
)


def time_from_text(s: str, dayfirst: bool = False) -> str:
    """ISO with or without offset (none = UTC), Purview locale dates, epoch seconds or milliseconds,
    PowerShell's `/Date(ms)/`."""
    md = "%d/%m" if dayfirst else "%m/%d"
    locale = ", ".join(
        f"try_strptime({s}, '{md}/%Y{fmt}')"
        for fmt in (" %I:%M:%S %p", " %H:%M:%S", " %I:%M %p", " %H:%M")
        # Log Analytics (Sentinel) CSV exports: `6/1/2023, 4:05:03.000 AM` in a `TimeGenerated [UTC]`
        # column (a 24-hour locale writes `01/06/2023, 04:05:03.000`)
        + (", %I:%M:%S.%f %p", ", %I:%M:%S %p", ", %H:%M:%S.%f", ", %H:%M:%S")
    )
    # a CSV saved by Excel in a German-style locale: `01.06.2023 04:05:03` (always day first)
    dotted = ", ".join(f"try_strptime({s}, '%d.%m.%Y {fmt}')" for fmt in ("%H:%M:%S", "%H:%M"))
    return (
        f"CASE WHEN regexp_full_match({s}, '\\d{{13}}') THEN make_timestamp(CAST({s} AS BIGINT) * 1000) "
        f"WHEN regexp_full_match({s}, '\\d{{9,10}}(\\.\\d+)?') "
        f"THEN make_timestamp(CAST(CAST({s} AS DOUBLE) * 1000000 AS BIGINT)) "
        # Windows PowerShell's ConvertTo-Json writes a date as `/Date(1685592303000)/` (UTC
        # milliseconds; an offset after them, `/Date(…+0200)/`, only says the writer's zone)
        f"WHEN starts_with({s}, '/Date(') "
        f"THEN try(make_timestamp(CAST(regexp_extract({s}, '^/Date\\((-?\\d{{1,15}})', 1) AS BIGINT)"
        " * 1000)) "
        f"ELSE coalesce(timezone('UTC', try_cast({s} AS TIMESTAMPTZ)), {locale}, {dotted}) END"
    )


def time_sql(
    src: Source, types: Mapping[str, str], dayfirst: bool = False, reads: JsonReads | None = None
) -> str:
    typ = types.get(src.column, "VARCHAR") if src.path is None else "VARCHAR"
    value = source_sql(src, types, reads)
    if typ.upper().startswith("TIMESTAMP WITH TIME ZONE") or typ.upper() == "TIMESTAMPTZ":
        # the instant's microseconds as a UTC wall time: exact, and ~6× cheaper than ICU's timezone()
        return f"make_timestamp(epoch_us({value}))"
    if type_in(typ, TIMESTAMP_TYPES):
        return f"CAST({value} AS TIMESTAMP)"
    if type_in(typ, NUMBER_TYPES):
        return (
            f"CASE WHEN abs({value}) >= 1e11 THEN make_timestamp(CAST({value} * 1000 AS BIGINT)) "
            f"ELSE make_timestamp(CAST({value} * 1000000 AS BIGINT)) END"
        )
    return time_from_text(text_sql(value), dayfirst)


def time_of_day_sql(
    sources: Sequence[Source], types: Mapping[str, str], profile: TimeProfile, reads: JsonReads | None = None
) -> str:
    """A time of day (the first source) on the date of the record's next time column, the nearest
    day to that column's time (an ingestion time a few minutes after an event can cross midnight)."""
    if len(sources) < 2:
        return "CAST(NULL AS TIMESTAMP)"
    text = text_sql(source_sql(sources[0], types, reads))
    parsed = ", ".join(
        f"try_strptime({text}, '{fmt}')"
        for fmt in ("%I:%M:%S.%f %p", "%I:%M:%S %p", "%I:%M %p", "%H:%M:%S.%f", "%H:%M:%S", "%H:%M")
    )
    day = f"(coalesce({parsed}) - date_trunc('day', coalesce({parsed})))"
    other = time_sql(sources[1], types, profile.dayfirst, reads)
    base = f"(date_trunc('day', {other}) + {day})"
    return (
        f"CASE WHEN {base} - {other} > INTERVAL 12 HOUR THEN {base} - INTERVAL 1 DAY "
        f"WHEN {other} - {base} > INTERVAL 12 HOUR THEN {base} + INTERVAL 1 DAY ELSE {base} END"
    )


def ip_sql(s: str) -> str:
    """Strip the port: `a.b.c.d:port` → `a.b.c.d`, `[v6]:port` → `v6`; lower-case (IPv6 hex digits).

    The usual `a.b.c.d:port` is one regex extraction outside any CASE (`coalesce` evaluates the
    rest only for rows it leaves NULL): 1.15 s instead of 1.76 s over 10M gateway rows.
    """
    v4 = f"nullif(regexp_extract({s}, '^(\\d{{1,3}}(?:\\.\\d{{1,3}}){{3}}):\\d+$', 1), '')"
    rest = (
        f"lower(CASE WHEN {s} LIKE '[%' THEN nullif(regexp_extract({s}, '^\\[([^\\]]+)\\]', 1), '') "
        f"WHEN {s} IN ('-', '::') THEN NULL ELSE {s} END)"
    )
    return f"coalesce({v4}, {rest})"


def access_type_sql(s: str) -> str:
    """MailAccessType from OperationProperties: JSON {Name, Value} objects or `@{Value=Bind; Name=…}`."""
    patterns = (
        r'(?i)"Name"\s*:\s*"MailAccessType"\s*,\s*"Value"\s*:\s*"([A-Za-z]+)"',
        r'(?i)"Value"\s*:\s*"([A-Za-z]+)"\s*,\s*"Name"\s*:\s*"MailAccessType"',
        r"(?i)Value=([A-Za-z]+);\s*Name=MailAccessType",
        r"(?i)Name=MailAccessType;\s*Value=([A-Za-z]+)",
        # Search-MailboxAuditLog: `MailAccessType:Bind` (Microsoft's own examples filter on
        # `-like "*MailAccessType:Bind*"`), in a PowerShell list `{MailAccessType:Bind, IsThrottled:False}`
        r"(?i)\bMailAccessType:\s*([A-Za-z]+)",
    )
    found = ", ".join(f"nullif(regexp_extract({s}, {literal(p)}, 1), '')" for p in patterns)
    return f"coalesce({found}, CASE WHEN regexp_full_match({s}, '[A-Za-z]+') THEN {s} END)"


def folders_sql(s: str) -> str:
    """The folder paths a mail-access record names, sorted and `; `-joined, from text `s`.

    `Folders` is JSON (`[{"Path": "\\\\Inbox", "FolderItems": […]}]`) in audit records and Sentinel's
    OfficeActivity, PowerShell's `@{Path=\\Inbox; FolderItems=…}` in some Defender copies, and a
    single path in Search-MailboxAuditLog's `FolderPathName`. The text can be kilobytes of message
    ids: only its first characters are trimmed (DuckDB's `trim` over all of it cost ~12 µs a row)."""
    head = f"ltrim(left({s}, 16))"
    paths = (
        f"CASE WHEN starts_with({head}, '[') THEN try(json_extract_string({s}, '$[*].Path')) "
        f"WHEN contains({s}, 'Path=') THEN regexp_extract_all({s}, 'Path=([^;}}]+)', 1) "
        f"ELSE [trim({s})] END"
    )
    return _joined(paths)


def _joined(paths: str) -> str:
    named = f"list_filter({paths}, lambda p: p <> '')"
    return f"nullif(array_to_string(list_sort(list_distinct({named})), '; '), '')"


def folders_source_sql(src: Source, types: Mapping[str, str], reads: JsonReads | None = None) -> str:
    """`folders_sql` of one source; a member of a JSON column (`AuditData.Folders`) is read with one
    path to its folders' `Path`s, and as text only when it is not an array of objects (PowerShell's
    `@{Path=…}` in a Defender copy)."""
    if src.path is None or src.extract is not None:
        return folders_sql(f"CAST({source_sql(src, types, reads)} AS VARCHAR)")
    typ = types.get(src.column, "VARCHAR").upper()
    text = ident(src.column) if typ in TEXT_TYPES else f"to_json({ident(src.column)})"
    listed = _joined(f"try(json_extract_string({text}, {literal(json_path(src.path) + '[*].Path')}))")
    # as text only where PowerShell's `Path=` can be: reading the member again for every record
    # without folders cost more than the path itself
    shell = f"CASE WHEN contains({text}, 'Path=') THEN {folders_sql(source_sql(src, types, reads))} END"
    return f"coalesce({listed}, {shell})"


def url_operation_sql(url: str, method: str | None) -> str:
    """OWA's `action=` parameter, else the request path (with the method when known)."""
    # The path regex is written once (no `nullif(x, '')`, which repeats `x`): a repeated expression is
    # computed for every row by DuckDB's common-subexpression pass, although `coalesce` needs it only
    # for the rare URL without `action=`.
    regex = f"regexp_extract({url}, '^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)', 1)"
    path = f"list_filter([{regex}], lambda p: p <> '')[1]"
    if method is not None:
        path = f"list_filter([concat_ws(' ', upper({method}), {path})], lambda p: p <> '')[1]"
    # The regex costs ~0.6 µs a row; string functions find the first `?action=`/`&action=` instead and
    # the regex only runs when that first value is empty (a later one may still match). No CASE around
    # the common path: DuckDB's CASE made this 4x slower at 10M rows (9.7 s -> 2.5 s without it);
    # `coalesce` evaluates each later argument only for the rows still NULL.
    a, b = f"instr({url}, '?action=')", f"instr({url}, '&action=')"
    pos = f"least(nullif({a}, 0), nullif({b}, 0))"  # NULL when neither occurs
    fast = f"nullif(split_part(split_part(substr({url}, {pos} + 8), '&', 1), '#', 1), '')"
    slow = f"nullif(regexp_extract({url}, '[?&]action=([^&#]+)', 1), '')"
    return f"coalesce({fast}, CASE WHEN {pos} > 0 THEN {slow} END, {path})"


def strip_bearer_sql(value: str) -> str:
    """The bearer value without its `Bearer ` prefix (run on distinct values: it copies the text)."""
    return f"nullif(trim(regexp_replace({value}, '^\\s*bearer\\s+', '', 'i')), '')"


def bearer_token_sql(raw: str) -> str:
    """`strip_bearer_sql(text_sql(raw))`, without the regex for the usual `Bearer <token>` value.

    When `raw` starts with `Bearer ` and the characters after it and at its end are neither
    whitespace nor Unicode spaces (code points 33–159), trimming changes nothing and the prefix is
    exactly those 7 characters; the regex (~1 µs on a 1.3 KB token) runs only for the others.
    """
    after, last = f"ord(substr({raw}, 8, 1))", f"ord(substr({raw}, -1))"
    plain = f"starts_with({raw}, 'Bearer ') AND {after} BETWEEN 33 AND 159 AND {last} BETWEEN 33 AND 159"
    return f"CASE WHEN {plain} THEN substr({raw}, 8) ELSE {strip_bearer_sql(text_sql(raw))} END"


def token_raw_sql(det: Detection, types: Mapping[str, str], reads: JsonReads | None = None) -> str:
    """The bearer field before the prefix is stripped: the plain column when there is one.

    Rows are grouped on a hash of this raw value, so the (kilobyte-long) text is only trimmed and
    stripped once per distinct value; `strip_bearer_sql(text_sql(raw))` equals the `token` field.
    """
    sources = det.fields.get("token", ())
    if len(sources) == 1 and sources[0].path is None and sources[0].extract is None:
        return f"CAST({ident(sources[0].column)} AS VARCHAR)"
    parts = [text_sql(source_sql(s, types, reads)) for s in sources]
    if not parts:
        return "CAST(NULL AS VARCHAR)"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def field_sql(
    name: str, det: Detection, types: Mapping[str, str], profile: TimeProfile, reads: JsonReads | None = None
) -> str:
    """The expression for one event field (NULL when nothing feeds it)."""
    sources = det.fields.get(name, ())
    if name == "ts" and profile.time_only:
        return time_of_day_sql(sources, types, profile, reads)
    if name in ("ts", "token_iat"):
        parts = [
            time_sql(s, types, profile.dayfirst and n == 0 and name == "ts", reads)
            for n, s in enumerate(sources)
        ]
    elif name == "folders":
        parts = [folders_source_sql(s, types, reads) for s in sources]
    elif name == "auth_steps":
        return auth_steps_field(det, sources, types, reads)
    elif name == "params" and det.kind == Kind.RISK:
        return _object_sql(sources, types, reads)
    elif name == "params":
        parts = [json_text_sql(s, types, reads) for s in sources]
    else:
        parts = [text_sql(source_sql(s, types, reads)) for s in sources]
    if not parts:
        if name == "operation" and det.url is not None:
            method = text_sql(source_sql(det.method, types, reads)) if det.method else None
            return url_operation_sql(long_text_sql(source_sql(det.url, types, reads)), method)
        if name in det.constants:
            return literal(det.constants[name])
        return "NULL"
    value = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
    if name == "client_ip":
        return ip_sql(value)
    if name in ("user", "mailbox"):
        # the regex only where an `smtp:` could be (most rows hold a bare address)
        stripped = f"regexp_replace({value}, '^\\s*smtp:', '', 'i')"
        bare = f"CASE WHEN {value} ILIKE '%smtp:%' THEN {stripped} ELSE {value} END"
        return f"nullif(lower({bare}), '')"
    if name == "token":
        return strip_bearer_sql(value)
    if name == "items":
        return f"try_cast(try_cast({value} AS DOUBLE) AS BIGINT)"
    if name == "access_type":
        return access_type_sql(value)
    if name == "category":
        return category_sql(value)
    if name == "interactive":
        return interactive_sql(value)
    if name in ENUM_FIELDS:
        return canonical_sql(name, value)
    return value


def _object_sql(sources: Sequence[Source], types: Mapping[str, str], reads: JsonReads | None) -> str:
    """One JSON object of several sources (a risk detection's riskState, riskDetail, source and
    detectionTimingType), each under its own name; NULL when none has a value."""
    if not sources:
        return "NULL"
    values = [(s.path or s.column).split(".")[-1] for s in sources]
    texts = [text_sql(source_sql(s, types, reads)) for s in sources]
    pairs = ", ".join(f"{literal(k[:1].lower() + k[1:])}, {v}" for k, v in zip(values, texts, strict=True))
    any_value = f"coalesce({', '.join(texts)})"
    return f"CASE WHEN {any_value} IS NOT NULL THEN CAST(json_object({pairs}) AS VARCHAR) END"


def _event_exprs(
    det: Detection,
    source: str | None,
    types: Mapping[str, str],
    profile: TimeProfile,
    reads: JsonReads | None = None,
) -> dict[str, str]:
    """Each event column's expression over the source view (before its CAST)."""
    exprs: dict[str, str] = {}
    for name, _ in EVENT_COLUMNS:
        if name == "source":
            # several files read as one carry each row's path (`tui.engine.ingest.load_groups`)
            exprs[name] = "source_file" if source is None else literal(source)
        elif name == "source_row":
            exprs[name] = "source_row"
        elif name == "kind":
            exprs[name] = literal(det.kind)
        elif name == "country":
            exprs[name] = "NULL"
        elif name == "mfa":
            operation = field_sql("operation", det, types, TimeProfile(""), reads)
            exprs[name] = mfa_field_sql(det, types, operation, reads)
        else:
            exprs[name] = field_sql(name, det, types, profile, reads)
    if det.kind == Kind.SIGNIN and exprs["interactive"] != "NULL":
        exprs["category"] = signin_category_sql(exprs["category"], exprs["interactive"])
    elif det.kind == Kind.SIGNIN and exprs["category"] == "NULL":  # a portal download (`file_category`)
        if source is None:
            exprs["category"] = file_category_sql("source_file")
        else:
            found = file_category(source)
            exprs["category"] = "NULL" if found is None else literal(found)
        if exprs["category"] != "NULL":
            flag = "WHEN 'interactiveUser' THEN true WHEN 'nonInteractiveUser' THEN false"
            exprs["interactive"] = f"CASE {exprs['category']} {flag} END"
    return exprs


def events_select(
    det: Detection, view: str, source: str | None, types: Mapping[str, str], profile: TimeProfile
) -> str:
    """SELECT producing exactly EVENT_COLUMNS from `view` (country is filled later from the IP).

    Members of JSON columns are read once per row into lists (`JsonReads`), under the event columns."""
    reads = JsonReads([*types, "source_row", "source_file"])
    exprs = _event_exprs(det, source, types, profile, reads)
    cols = [f"CAST({exprs[name]} AS {typ}) AS {ident(name)}" for name, typ in EVENT_COLUMNS]
    # not an event column: the token pass keys on it
    cols.append(f"{token_raw_sql(det, types, reads)} AS tok_raw")
    lists = reads.projection()
    rows = f"(SELECT *, {lists} FROM {ident(view)})" if lists else ident(view)
    for layer in reads.layers():  # expressions computed once a row (`JsonReads.once`)
        rows = f"(SELECT *, {layer} FROM {rows})"
    return f"SELECT {', '.join(cols)} FROM {rows}"


_SQL_CONSTANT = re.compile(r"NULL|'(?:[^']|'')*'")


def events_constants(
    det: Detection, source: str | None, types: Mapping[str, str], profile: TimeProfile
) -> dict[str, str]:
    """The event columns this file fills with one constant (NULL, its path, its kind): name → typed SQL.

    `work.materialise` does not store a column that is the same constant in every file (a gateway
    log leaves ten of them NULL); the `events_t` view adds it back. Writing such a column still cost
    DuckDB ~0.15 s per 10M rows. `country` is never one: it is joined from the IP.
    """
    exprs = _event_exprs(det, source, types, profile)
    return {
        name: f"CAST({exprs[name]} AS {typ})"
        for name, typ in EVENT_COLUMNS
        if name not in ("country", "token") and _SQL_CONSTANT.fullmatch(exprs[name])
    }
