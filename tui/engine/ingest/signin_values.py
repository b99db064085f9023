"""The value sets of a sign-in's authentication facts (SPEC §10), and what a load counts of values
outside them: a sign-in is read as far as it goes, never refused for an odd value.

Known values come from Microsoft Graph's enumerations (microsoft-graph-docs, `api-reference/beta/
resources/enums.md`: `conditionalAccessStatus`, `incomingTokenType`, `protocolType`,
`originalTransferMethods`, `tokenProtectionStatus`), the `authenticationRequirement` values of the
Log Analytics `SigninLogs` schema, and for `clientAppUsed` (a string, not an enumeration) the names
the sign-in logs' "Client app" filter and public legacy-authentication queries use. `unknownFutureValue`
is Graph's placeholder for a member newer than the caller asked for (`Prefer:
include-unknown-enum-members`): it hides the real value, so it counts as unknown. Defender's
`AADSignInEventsBeta` writes `ConditionalAccessStatus` as 0, 1, 2 (applied, failed, not applied).

Values are compared the way an analyst reads them: case, spaces, `-` and `_` do not matter (a
portal download that writes `Not Applied` or `Primary Refresh Token` means Graph's `notApplied`,
`primaryRefreshToken`). A known value is stored in Graph's spelling, so the indicators and the
filter language see one value whatever the export wrote; any other value is kept exactly as
written, and counted per file (`odd_sql`) with an example, for `inspect` and the load's notes.

A session id that is not a GUID (an anonymised export's `session-1`, a hash) is kept as written and
sessions still group by it; it is counted too (`odd_session_sql`).
"""

from __future__ import annotations

import re

from tui.engine.core.sql import literal

# Graph's spelling of each known value, per event field; `norm` finds it from any other spelling
KNOWN: dict[str, tuple[str, ...]] = {
    "ca_status": ("success", "failure", "notApplied", "0", "1", "2"),
    "auth_requirement": ("singleFactorAuthentication", "multiFactorAuthentication"),
    "incoming_token_type": (
        "none",
        "primaryRefreshToken",
        "saml11",
        "saml20",
        "remoteDesktopToken",
        "refreshToken",
    ),
    "transfer_method": ("none", "deviceCodeFlow", "authenticationTransfer"),
    "token_protection": ("none", "bound", "unbound"),
    "auth_protocol": (
        "none",
        "oAuth2",
        "ropc",
        "wsFederation",
        "saml20",
        "deviceCode",
        "authenticationTransfer",
        "nativeAuth",
        "implicitAccessTokenAndGetResponseMode",
        "implicitIdTokenAndGetResponseMode",
        "implicitAccessTokenAndPostResponseMode",
        "implicitIdTokenAndPostResponseMode",
        "authorizationCodeWithoutPkce",
        "authorizationCodeWithPkce",
        "clientCredentials",
        "refreshTokenGrant",
        "encryptedAuthorizeResponse",
        "directUserGrant",
        "kerberos",
        "prtGrant",
        "seamlessSso",
        "prtBrokerBased",
        "prtNonBrokerBased",
        "onBehalfOf",
        "samlOnBehalfOf",
    ),
    "client_app_used": (
        "Browser",
        "Mobile Apps and Desktop clients",
        "Exchange ActiveSync",
        "Exchange ActiveSync (Supported)",
        "Exchange ActiveSync (Unsupported)",
        "Exchange Web Services",
        "Exchange Online PowerShell",
        "AutoDiscover",
        "IMAP4",
        "IMAP",
        "POP3",
        "POP",
        "SMTP",
        "Authenticated SMTP",
        "MAPI Over HTTP",
        "Offline Address Book",
        "Outlook Anywhere (RPC over HTTP)",
        "Reporting Web Services",
        "Other clients",
        "Other clients; Older Office clients",
        "Other clients; IMAP",
        "Other clients; POP",
        "Other clients; SMTP",
        "Other clients; MAPI",
    ),
}
ENUM_FIELDS = tuple(KNOWN)


def norm_value(value: str) -> str:
    """A value as compared: lower case, without spaces, `-` and `_`."""
    return re.sub(r"[\s_\-]+", "", value.lower())


def _norm_sql(value: str) -> str:
    return f"lower(regexp_replace({value}, '[\\s_\\-]+', '', 'g'))"


def canonical_sql(name: str, value: str) -> str:
    """`value` of enumerated field `name` in Graph's spelling when it is a known value, else as
    written (NULL for an empty string). The usual spellings skip the rewrite (no regex per row)."""
    known = KNOWN[name]
    exact = ", ".join(literal(v) for v in known)
    cases = " ".join(f"WHEN {literal(norm_value(v))} THEN {literal(v)}" for v in known)
    return (
        f"CASE WHEN {value} IS NULL OR {value} IN ({exact}) THEN {value} WHEN trim({value}) = '' THEN NULL "
        f"ELSE CASE {_norm_sql(value)} {cases} ELSE {value} END END"
    )


def odd_sql(name: str, column: str) -> str:
    """A stored value of field `name` (already in Graph's spelling when known) that is not known."""
    return f"({column} IS NOT NULL AND {column} NOT IN ({', '.join(literal(v) for v in KNOWN[name])}))"


def odd_session_sql(column: str = "session_id") -> str:
    """A session id that is not a GUID (with or without hyphens or braces, any case)."""
    return f"({column} IS NOT NULL AND try_cast({column} AS UUID) IS NULL)"


# What `load_report` counts of each: the enumerated fields, then the session id
ODD_FIELDS = (*ENUM_FIELDS, "session_id")


def odd_field_sql(name: str) -> str:
    """`odd_sql` of an enumerated field, `odd_session_sql` of `session_id`."""
    return odd_session_sql(name) if name == "session_id" else odd_sql(name, name)


__all__ = [
    "ENUM_FIELDS",
    "KNOWN",
    "ODD_FIELDS",
    "canonical_sql",
    "norm_value",
    "odd_field_sql",
    "odd_session_sql",
    "odd_sql",
]
