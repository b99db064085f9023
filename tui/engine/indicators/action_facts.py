"""What the action indicators read (SPEC §10, DOMAIN §8): every change operation's event with its
parameters parsed into one shape, whatever export it came from.

`prepare_actions` builds `action_facts` (a table, not TEMP: the pane builders and the detail panel
read it on their own cursors), one row per event whose operation is a change this module knows:

- `op`: the operation normalised (`_op_norm`): lower case, trailing dots and spaces gone (UAL's
  `Add member to role.` is Graph's `Add member to role`), dashes with or without spaces one `-` (the
  en-dash of `Update application – Certificates and secrets management `), so one spelling
  matches the Exchange cmdlet, the UAL operation and the Graph `activityDisplayName` alike.
- `kv`: the parameters as a list of `{name, old, new}`: an Exchange cmdlet's `Parameters`
  (`Name`/`Value`, every value a string), an Outlook rule change's `OperationProperties`, UAL's
  `ModifiedProperties` (`Name`/`NewValue`/`OldValue`) and an Entra audit record's
  `targetResources[].modifiedProperties` (`displayName`/`newValue`/`oldValue`, each value JSON text:
  `"\\"Global Administrator\\""`, `["9375…"]`, `[true]`: decoded by `_jv`, a list joined with `, `).
  Text that is not JSON (a list cut short by a spreadsheet, PowerShell's flattened `@{Name=…;
  Value=…}`) is read as far as it goes by pattern; `params_ok` says whether it parsed whole.
- `mbx`: the mailbox the change acted on, when the record names it by address (an inbox rule's
  `Mailbox` or `Identity`, else the record's mailbox, else the actor's own: `New-InboxRule` without
  `-Mailbox` acts on the caller's mailbox); `rule`: an inbox rule's name; `tgt`: a clean target
  (`mailbox\\rule` for a rule, else the mailbox, else the last segment of the record's own target,
  an Exchange `ObjectId` being a directory path).

All of it is SQL over the few action rows (the operations are matched on the distinct operation
names first, so a 10M-row export is read once, for its names). Nothing runs per row in Python.
"""

from __future__ import annotations

import duckdb

# Change operations by what they do, normalised as `_op_norm` writes them (DOMAIN §8, SPEC §10)
INBOX_RULE_OPS = ("new-inboxrule", "set-inboxrule", "enable-inboxrule", "updateinboxrules")
FORWARDING_OPS = ("set-mailbox", "new-transportrule", "set-transportrule")
PERMISSION_OPS = (
    "add-mailboxpermission",
    "add-recipientpermission",
    "add-mailboxfolderpermission",
    "set-mailboxfolderpermission",
    "addfolderpermissions",
    "modifyfolderpermissions",
)
AUDIT_OPS = (
    "set-adminauditlogconfig",
    "set-mailboxauditbypassassociation",
    "set-mailbox",
    "set-organizationconfig",
)
AUTH_METHOD_OPS = (
    "user registered security info",
    "user deleted security info",
    "user changed default security info",
    "user registered all required security info",
    "admin registered security info",
    "admin deleted security info",
    "admin updated security info",
    "register device",
    "disable strong authentication",
    "update user",
)
CONSENT_OPS = (
    "consent to application",
    "add delegated permission grant",
    "add app role assignment grant to user",
    "add app role assignment to service principal",
    "add service principal credentials",
    "update application-certificates and secrets management",
)
# `Add member to role`, `Add eligible member to role`, `Add scoped member to role`, and PIM's
# `Add member to role completed (PIM activation)`…: matched as a pattern
ROLE_PATTERN = "add %member to role%"
ACTION_OPS = tuple(
    dict.fromkeys(
        INBOX_RULE_OPS + FORWARDING_OPS + PERMISSION_OPS + AUDIT_OPS + AUTH_METHOD_OPS + CONSENT_OPS
    )
)
# the operations whose target is a mailbox (where an address in its Identity names it)
MAILBOX_OPS = (*FORWARDING_OPS[:1], *PERMISSION_OPS, "set-mailboxauditbypassassociation")

ADDRESS = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_ADDRESS_SQL = ADDRESS.replace("'", "''")
# name/value pairs in text that is not JSON: a JSON list cut short, PowerShell's `@{Name=…; Value=…}`
_JSON_PAIR = (
    r'"(?:Name|name|displayName|DisplayName)"\s*:\s*"([^"]*)"\s*,\s*'
    r'"(?:Value|value|NewValue|newValue)"\s*:\s*"((?:[^"\\]|\\.)*)'
)
_PS_PAIR = r"Name=([^;}]*);\s*(?:New)?Value=([^;}]*)"

MACROS = rf"""
CREATE OR REPLACE TEMP MACRO _op_norm(x) AS regexp_replace(regexp_replace(regexp_replace(
    lower(trim(replace(replace(x, '–', '-'), '—', '-'))), '\s*-\s*', '-', 'g'), '\s+', ' ', 'g'),
    '[\s.]+$', '');
CREATE OR REPLACE TEMP MACRO _jv(x) AS CASE
    WHEN json_valid(x) AND json_type(x::JSON) = 'VARCHAR' THEN x::JSON->>'$'
    WHEN json_valid(x) AND json_type(x::JSON) = 'ARRAY'
        THEN array_to_string(list_transform(json_extract(x::JSON, '$[*]'),
                                            lambda v: coalesce(v->>'$', '')), ', ')
    ELSE x END;
CREATE OR REPLACE TEMP MACRO _vn(x) AS CASE WHEN x IS NOT NULL THEN _v(x) END;
CREATE OR REPLACE TEMP MACRO _p(kv, n) AS list_filter(kv, lambda p: lower(p.name) = lower(n))[1].new;
CREATE OR REPLACE TEMP MACRO _po(kv, n) AS list_filter(kv, lambda p: lower(p.name) = lower(n))[1].old;
CREATE OR REPLACE TEMP MACRO _set(x) AS nullif(trim(coalesce(x, '')), '') IS NOT NULL
    AND lower(trim(x)) NOT IN ('$null', 'null', '[]');
CREATE OR REPLACE TEMP MACRO _on(x) AS lower(trim(coalesce(x, ''))) IN ('true', '$true', '1', 'yes');
CREATE OR REPLACE TEMP MACRO _off(x) AS lower(trim(coalesce(x, ''))) IN ('false', '$false', '0', 'no');
CREATE OR REPLACE TEMP MACRO _addr(x) AS
    nullif(lower(regexp_extract(coalesce(x, ''), '({_ADDRESS_SQL})', 1)), '');
CREATE OR REPLACE TEMP MACRO _addrs(x) AS list_distinct(list_transform(
    regexp_extract_all(coalesce(x, ''), '{_ADDRESS_SQL}'), lambda a: lower(a)));
CREATE OR REPLACE TEMP MACRO _dom(a) AS lower(regexp_extract(a, '@([^@]+)$', 1));
CREATE OR REPLACE TEMP MACRO _external(addrs, org) AS list_filter(addrs, lambda a:
    NOT array_length(list_filter(org, lambda d: _dom(a) = d OR _dom(a) LIKE '%.' || d)) > 0);
CREATE OR REPLACE TEMP MACRO _to(v, org) AS CASE
    WHEN NOT _set(v) THEN NULL
    WHEN array_length(_addrs(v)) = 0 THEN format('recipient {{}}', _v(v))
    WHEN array_length(org) = 0 THEN format('{{}} (the organisation''s domains are not known)',
                                  _v(array_to_string(_addrs(v), ', ')))
    WHEN array_length(_external(_addrs(v), org)) > 0
        THEN format('an external address {{}}', _v(array_to_string(_external(_addrs(v), org), ', ')))
    ELSE format('{{}} inside the organisation', _v(array_to_string(_addrs(v), ', '))) END;
"""


def _kv_sql(params: str) -> str:
    """`params` text → a list of `{name, old, new}` (module docstring)."""
    pair = lambda pattern: (  # noqa: E731
        f"list_transform(regexp_extract_all({params}, '{pattern}'), lambda m: "
        f"{{'name': regexp_extract(m, '{pattern}', 1), 'old': NULL::VARCHAR, "
        f"'new': regexp_extract(m, '{pattern}', 2)}})"
    )
    names = "coalesce(p->>'Name', p->>'name', p->>'displayName', p->>'DisplayName')"
    old = "_jv(coalesce(p->>'OldValue', p->>'oldValue'))"
    new = "_jv(coalesce(p->>'Value', p->>'value', p->>'NewValue', p->>'newValue'))"
    return f"""CASE WHEN {params} IS NULL THEN []
        WHEN json_valid({params}) AND json_type({params}::JSON) = 'ARRAY'
            THEN list_transform(json_extract({params}::JSON, '$[*]'),
                                lambda p: {{'name': {names}, 'old': {old}, 'new': {new}}})
        ELSE list_concat({pair(_JSON_PAIR)}, {pair(_PS_PAIR)}) END"""


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def prepare_actions(con: duckdb.DuckDBPyConnection) -> None:
    """`action_facts` (the module's docstring) from `_ev` and the token claims."""
    con.execute(MACROS)
    rule_ops = _list(INBOX_RULE_OPS)
    con.execute(
        f"""CREATE OR REPLACE TABLE action_facts AS
        WITH ops AS (
            SELECT operation, _op_norm(operation) AS op
            FROM (SELECT DISTINCT operation FROM events_t WHERE operation IS NOT NULL)
            WHERE _op_norm(operation) IN (SELECT unnest({_list(ACTION_OPS)}))
               OR _op_norm(operation) LIKE '{ROLE_PATTERN}'
        ), ev AS (
            SELECT e.source, e.source_row, e.tkey, e.ts, coalesce(e."user", lower(t.upn)) AS usr,
                   coalesce(e.session_id, t.sid) AS sid, e.client_ip AS ip, e.operation, o.op, e.kind,
                   e.status, e.mailbox, e.target, e.params,
                   json_valid(e.params) AS params_ok, {_kv_sql("e.params")} AS kv
            FROM _ev e JOIN ops o USING (operation) LEFT JOIN token_claims t ON t.tok_key = e.tok_key
        ), named AS (
            SELECT *, list_contains({rule_ops}, op) AS is_rule, _p(kv, 'Identity') AS ident,
                   regexp_extract(coalesce(target, ''), '([^/]+)$', 1) AS short
            FROM ev
        ), placed AS (
            SELECT *,
                   CASE WHEN is_rule THEN coalesce(_addr(_p(kv, 'Mailbox')),
                                                   _addr(split_part(ident, '\\', 1)), mailbox, usr)
                        WHEN list_contains({_list(MAILBOX_OPS)}, op)
                            THEN coalesce(_addr(ident), _addr(target), mailbox) END AS mbx,
                   CASE WHEN is_rule THEN nullif(coalesce(
                            nullif(_p(kv, 'Name'), ''), nullif(_p(kv, 'RuleName'), ''),
                            nullif(regexp_extract(coalesce(ident, ''), '\\\\([^\\\\]*)$', 1), ''),
                            regexp_extract(coalesce(target, ''), '\\\\([^\\\\]*)$', 1)), '') END AS rule
            FROM named
        )
        SELECT source, source_row, tkey, ts, usr, sid, ip, operation, op, kind, status, mailbox, target,
               params, params_ok, kv, mbx, rule,
               coalesce(CASE WHEN is_rule THEN concat_ws('\\', mbx, rule) END, mbx, nullif(short, ''),
                        nullif(regexp_extract(coalesce(ident, ''), '([^/]+)$', 1), '')) AS tgt,
               lower(coalesce(status, '')) IN ('false', 'failure', 'failed') AS failed
        FROM placed"""
    )


__all__ = [
    "ACTION_OPS",
    "AUDIT_OPS",
    "AUTH_METHOD_OPS",
    "CONSENT_OPS",
    "FORWARDING_OPS",
    "INBOX_RULE_OPS",
    "MAILBOX_OPS",
    "PERMISSION_OPS",
    "ROLE_PATTERN",
    "prepare_actions",
]
