"""The normalised event table every later feature queries (SPEC §2).

Each loader turns one input file into a relation with exactly these columns, in this
order and of these DuckDB types; the engine unions them into the `events_base` view.
`ts` and `token_iat` are naive TIMESTAMPs that always mean UTC. `user`, `mailbox` and `client_ip` are
stored lower-case (normalise.py; the token fill uses `lower(upn)`; IPv6 text is case-insensitive), so
the analyses, the marks and the filters compare them as they are, without a `lower()` over every row.
"""

from __future__ import annotations

EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ts", "TIMESTAMP"),
    ("source", "VARCHAR"),
    ("source_row", "BIGINT"),
    ("kind", "VARCHAR"),
    ("user", "VARCHAR"),
    ("mailbox", "VARCHAR"),
    ("operation", "VARCHAR"),
    ("client_ip", "VARCHAR"),
    ("country", "VARCHAR"),
    ("user_agent", "VARCHAR"),
    ("app_id", "VARCHAR"),
    ("client_app_id", "VARCHAR"),
    ("session_id", "VARCHAR"),
    ("token_id", "VARCHAR"),
    ("token_tenant_id", "VARCHAR"),
    ("token_object_id", "VARCHAR"),
    ("token_iat", "TIMESTAMP"),
    ("items", "BIGINT"),
    ("access_type", "VARCHAR"),
    # the mail folders a MailItemsAccessed record names (`Folders[].Path`), `; `-joined: not in SPEC
    # §2's list, but the Mailboxes pane's folders (SPEC §5) are read from it
    ("folders", "VARCHAR"),
    ("status", "VARCHAR"),
    # SPEC §10: the identity behind the token. `category` is a sign-in's event type (`interactiveUser`,
    # `nonInteractiveUser`, `servicePrincipal`, `managedIdentity`, whatever table or file it came
    # from) and any other record's own category; `request_id` the sign-in's id (a risk detection's
    # `requestId`, a UAL logon's `IntraSystemId`); `target` and `params` what a change acted on and
    # with which parameters (JSON text). The authentication facts are read as written (an unknown
    # value is kept, not dropped); `auth_steps` condenses `authenticationDetails` step by step and
    # `mfa` is what the record itself shows of MFA (`tui.engine.ingest.auth_facts`).
    ("category", "VARCHAR"),
    ("device_id", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("target", "VARCHAR"),
    ("params", "VARCHAR"),
    ("auth_requirement", "VARCHAR"),
    ("auth_steps", "VARCHAR"),
    ("mfa", "VARCHAR"),
    ("incoming_token_type", "VARCHAR"),
    ("transfer_method", "VARCHAR"),
    ("auth_protocol", "VARCHAR"),
    ("token_protection", "VARCHAR"),
    ("client_app_used", "VARCHAR"),
    ("interactive", "BOOLEAN"),
    ("ca_status", "VARCHAR"),
    ("token", "VARCHAR"),
)

# Columns stored lower-case, here and in the pane tables that carry them (mailboxes.mailbox, drift.user).
LOWER_CASE_FIELDS: frozenset[str] = frozenset({"user", "mailbox", "client_ip"})

EVENT_FIELDS: tuple[str, ...] = tuple(name for name, _ in EVENT_COLUMNS)

# Fields a user may name in `--map FIELD=COLUMN`; derived ones (source, source_row, kind,
# country, mfa) are the engine's own.
MAPPABLE_FIELDS: tuple[str, ...] = tuple(
    f for f in EVENT_FIELDS if f not in {"source", "source_row", "kind", "country", "mfa"}
)
# What detection looks for in a file: the mappable fields, and the hints `mfa` is derived from
# (`status.additionalDetails`, the deprecated `mfaDetail`) where a sign-in lists no steps.
DETECTED_FIELDS: tuple[str, ...] = (*MAPPABLE_FIELDS, "mfa")


class Kind:
    """The kinds of evidence the detector recognises (stored in `events.kind`)."""

    HTTP = "http"  # gateway / proxy / web-server log with a bearer-token column
    HAR = "har"
    PURVIEW = "purview_audit"  # Purview audit search CSV, classic or new layout
    MGMT_ACTIVITY = "management_activity"  # Management Activity API / Extractor-Suite JSON
    SIGNIN = "entra_signin"  # Graph JSON, portal CSV, Sentinel SigninLogs / AADNonInteractive…
    OFFICE_ACTIVITY = "sentinel_officeactivity"
    GRAPH_ACTIVITY = "sentinel_graphactivity"
    CLOUD_APP_EVENTS = "defender_cloudappevents"
    # SPEC §10: Entra audit records (Graph directoryAudits, Sentinel AuditLogs, Event Hub AuditLogs),
    # Identity Protection risk detections, Azure Activity records (their `claims` are the caller's token)
    ENTRA_AUDIT = "entra_audit"
    RISK = "risk_detection"
    AZURE_ACTIVITY = "azure_activity"
    GENERIC = "generic"  # a table we read but whose kind we could not name

    ALL = (
        HTTP,
        HAR,
        PURVIEW,
        MGMT_ACTIVITY,
        SIGNIN,
        OFFICE_ACTIVITY,
        GRAPH_ACTIVITY,
        CLOUD_APP_EVENTS,
        ENTRA_AUDIT,
        RISK,
        AZURE_ACTIVITY,
        GENERIC,
    )
    # Kinds whose rows are records of a token being issued (for NO_SIGNIN_RECORD).
    ISSUANCE = (SIGNIN,)
