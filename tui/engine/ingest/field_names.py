"""The names an event field goes by in each kind of export: the vocabulary of `tui.engine.ingest.detect`."""

from __future__ import annotations

import re

from tui.engine.core.schema import Kind

# Candidate sources per field, best first; a dotted name is a JSON path inside a column.
# Names are compared after `norm()`, so `Unique token identifier` matches `uniqueTokenIdentifier`.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "ts": (
        "CreationTime",
        "CreationDate",
        "createdDateTime",
        "Date (UTC)",
        "TimeGenerated",
        "Timestamp",
        "time",
        "@timestamp",
        "startedDateTime",
        "EventTime",
        "datetime",
        "date",
        "timestamp_utc",
        "ts",
    ),
    "user": (
        "UserPrincipalName",
        "UserId",
        "UserIds",
        "AccountUpn",
        "InitiatingProcessAccountUpn",
        "Username",
        "user",
        "upn",
        "user_name",
        "cs-username",
        "InitiatedBy.user.userPrincipalName",
        # Search-MailboxAuditLog names who read a mailbox by display name and SID only
        "LogonUserDisplayName",
    ),
    "mailbox": (
        "MailboxOwnerUPN",
        "X-AnchorMailbox",
        "x_anchormailbox",
        "request_header_x_anchormailbox",
        "anchor_mailbox",
        "mailbox",
    ),
    "operation": ("Operation", "Operations", "OperationName", "ActionType", "action", "Activity"),
    "client_ip": (
        "ClientIPAddress",
        "Client_IPAddress",
        "ClientIP",
        "IPAddress",
        "IP address",
        "ActorIpAddress",
        "client_ip",
        "c-ip",
        "remote_addr",
        "src_ip",
        "source_ip",
        "client",
        "CallerIpAddress",
        "InitiatedBy.user.ipAddress",
    ),
    "user_agent": (
        "UserAgent",
        "User agent",
        "user_agent",
        "http_user_agent",
        "cs(User-Agent)",
        "ClientInfoString",
        "UserAgent_string",
    ),
    "app_id": ("AppId", "Application ID", "app_id"),
    "client_app_id": ("ClientAppId", "AppAccessContext.ClientAppId", "OAuthAppId", "client_app_id"),
    "session_id": ("SessionId", "Session ID", "AppAccessContext.AADSessionId", "session_id"),
    "token_id": (
        "AppAccessContext.UniqueTokenId",
        "UniqueTokenIdentifier",
        "Unique token identifier",
        "SignInActivityId",
        "UniqueTokenId",
        "token_id",
        "uti",
    ),
    "token_tenant_id": (
        "TokenTenantId",
        "ResourceTenantId",
        "Resource tenant ID",
        "HomeTenantId",
        "Home tenant ID",
        "token_tenant_id",
    ),
    "token_object_id": ("TokenObjectId", "token_object_id"),
    "token_iat": ("AppAccessContext.IssuedAtTime", "TokenIssuedAt", "token_iat"),
    "items": ("OperationCount", "AuditOperationsCountInAggregatedRecord", "items"),
    "access_type": ("OperationProperties", "MailAccessType", "access_type"),
    # Management Activity / Purview `Folders` (JSON objects with `Path`), Sentinel OfficeActivity's
    # `Folders` JSON string, Search-MailboxAuditLog's single `FolderPathName`
    "folders": ("Folders", "FolderPathName", "folders"),
    "status": (
        "ResultStatus",
        "status.errorCode",
        "Sign-in error code",
        "ResultType",
        "ResponseStatusCode",
        "status",
        "sc-status",
        "Result",
    ),
    # SPEC §10's identity fields. Sign-ins: Graph (beta) camelCase, Sentinel PascalCase (there the
    # nested ones are dynamic in SigninLogs and JSON strings in AADNonInteractiveUserSignInLogs), the
    # portal CSV's titles; `DeviceDetail.deviceId` is `""` for an unregistered device (read as NULL).
    "category": ("category", "Category", "signInEventTypes", "SignInEventTypes", "category_name"),
    "device_id": (
        "deviceDetail.deviceId",
        "DeviceDetail.deviceId",
        "Device ID",
        "DeviceId",
        "device_id",
    ),
    "request_id": ("IntraSystemId", "request_id"),
    "target": ("ObjectId", "OfficeObjectId", "target"),
    "params": ("Parameters", "ModifiedProperties", "params"),
    "auth_requirement": ("authenticationRequirement", "Authentication requirement", "auth_requirement"),
    "auth_steps": ("authenticationDetails", "Authentication details", "auth_steps"),
    "incoming_token_type": ("incomingTokenType", "Incoming token type", "incoming_token_type"),
    "transfer_method": ("originalTransferMethod", "Original transfer method", "transfer_method"),
    "auth_protocol": ("authenticationProtocol", "Authentication Protocol", "auth_protocol"),
    "token_protection": (
        "signInTokenProtectionStatus",
        "TokenProtectionStatusDetails.signInSessionStatus",
        "Token protection - sign in session status",
        "token_protection",
    ),
    "client_app_used": ("clientAppUsed", "Client app", "client_app_used"),
    "interactive": ("isInteractive", "Is Interactive", "interactive"),
    "ca_status": ("conditionalAccessStatus", "Conditional Access", "ca_status"),
    # not a column anyone maps: the hints a sign-in's `mfa` falls back on when it lists no steps
    "mfa": (
        "status.additionalDetails",
        "Status.additionalDetails",
        "Additional Details",
        "mfaDetail.authMethod",
    ),
    "token": (
        "Authorization",
        "request_header_authorization",
        "http_authorization",
        "cs(Authorization)",
        "bearer",
        "access_token",
        "token",
    ),
}

# Where a kind's names mean something else: in sign-in logs `userId` is the object id (oid),
# `resourceTenantId` is the token's `tid` (the tenant that issued it; `homeTenantId` is the
# user's home tenant and only a fallback); in Graph activity `TenantId` is the token's tenant.
OVERRIDES: dict[str, dict[str, tuple[str, ...]]] = {
    Kind.SIGNIN: {
        "user": ("userPrincipalName", "Username", "User principal name"),
        "token_object_id": ("userId", "User ID"),
        "app_id": ("appId", "Application ID"),
        "client_ip": ("ipAddress", "IP address"),
        "status": ("status.errorCode", "Sign-in error code", "ResultType", "Status"),
        "operation": (),
        # a sign-in's `id` is its request id (what a risk detection's `requestId` names)
        "request_id": ("id", "Request ID", "originalRequestId"),
        # Sentinel's `Category` (`SignInLogs`…) and `Type` (`SigninLogs`, `AADNonInteractive…`) both
        # name the sign-in category; `signInEventTypes` is Graph beta's
        "category": ("signInEventTypes", "category", "Type"),
    },
    Kind.GRAPH_ACTIVITY: {
        "user": ("UserPrincipalName", "UserId", "ServicePrincipalId"),
        "token_object_id": ("UserId",),
        "token_tenant_id": ("TenantId",),
        # the log's own IP and HTTP status (a diagnostic record's `callerIpAddress` and
        # `resultType` belong to its envelope)
        "client_ip": ("IPAddress",),
        "status": ("ResponseStatusCode",),
        "operation": (),
    },
    Kind.HTTP: {"operation": (), "user": ()},
    Kind.HAR: {"operation": (), "user": (), "client_ip": ()},
}

URL_COLUMNS = ("url", "request_url", "RequestUri", "uri", "cs-uri-stem", "request", "path")
METHOD_COLUMNS = ("method", "RequestMethod", "http_method", "cs-method")
ROOT_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
GUID_FIELDS = ("app_id", "client_app_id", "token_tenant_id", "token_object_id")
# The JSON column whose members a kind's records keep their fields in. Azure Monitor's diagnostic
# records (a storage account's `PT1H.json`, an event hub's `{"records": […]}`) hold a log's row in
# `properties` under `time`, `category`, `operationName`, `callerIpAddress`…
ROOTS = {
    Kind.PURVIEW: "AuditData",
    Kind.MGMT_ACTIVITY: "AuditData",
    Kind.CLOUD_APP_EVENTS: "RawEventData",
    Kind.SIGNIN: "properties",
    Kind.GRAPH_ACTIVITY: "properties",
}
# Diagnostic-setting categories (Entra ID's) whose records are sign-ins, by `norm`
SIGNIN_CATEGORIES = frozenset(
    {
        "signinlogs",
        "noninteractiveusersigninlogs",
        "serviceprincipalsigninlogs",
        "managedidentitysigninlogs",
    }
)

__all__ = [
    "CANDIDATES",
    "GUID_FIELDS",
    "METHOD_COLUMNS",
    "OVERRIDES",
    "ROOTS",
    "ROOT_PATH",
    "SIGNIN_CATEGORIES",
    "URL_COLUMNS",
]
