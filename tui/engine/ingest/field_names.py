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
        # a UAL sign-in (UserLoggedIn / UserLoginFailed): `ExtendedProperties` is a {Name, Value} list
        "ExtendedProperties[Name=UserAgent]",
    ),
    # a UAL sign-in's `ApplicationId` (RecordType 15; a SharePoint record's is left unread, as before)
    "app_id": (
        "AppId",
        "Application ID",
        "app_id",
        "ApplicationId{RecordType=15|AzureActiveDirectoryStsLogon}",
    ),
    "client_app_id": ("ClientAppId", "AppAccessContext.ClientAppId", "OAuthAppId", "client_app_id"),
    # Graph activity logs' raw records name the token's `sid` claim-style (`c_sid`, `C_Sid`); a UAL
    # sign-in keeps it in `DeviceProperties`
    "session_id": (
        "SessionId",
        "Session ID",
        "AppAccessContext.AADSessionId",
        "session_id",
        "c_sid",
        "DeviceProperties[Name=SessionId]",
    ),
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
        # a UAL sign-in's AADSTS code (`50126`): its ResultStatus only says the call went through
        "ErrorNumber",
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
    # The portal's "Download" CSV (Entra admin centre > Sign-in logs; `InteractiveSignIns_<from>_<to>
    # .csv`, `NonInteractiveSignIns_…`, `ApplicationSignIns_…`, `MSISignIns_…`) titles its 56 columns
    # `Date (UTC)`, `Request ID`, `User agent`, `Correlation ID`, `User ID`, `User`, `Username`, …,
    # `Incoming token type` (twice: the first is read), `Authentication Protocol`, `Unique token
    # identifier`, `Original transfer method`, `Token Protection - Sign In Session`, `Application ID `
    # (a trailing space), `Resource tenant ID`, `Home tenant ID`, `IP address`, `Status`, `Sign-in error
    # code`, `Client app`, `Device ID`, `Multifactor authentication result`, `Multifactor authentication
    # auth method`, `Multifactor authentication auth detail`, `Authentication requirement`, `Session ID`,
    # `Token issuer type`, `Conditional Access`: the header line as public parsers of those downloads
    # match it verbatim (a PowerShell converter that compares the whole line, a Python schema registry
    # and its tests, an incident-review column map; found with the code search, 2025-26 exports).
    "category": ("category", "Category", "signInEventTypes", "SignInEventTypes", "category_name"),
    "device_id": (
        "deviceDetail.deviceId",
        "DeviceDetail.deviceId",
        "Device ID",
        "DeviceId",
        "C_DeviceId",
        "device_id",
        "DeviceProperties[Name=Id]",
    ),
    "request_id": ("IntraSystemId", "request_id"),
    "target": ("ObjectId", "OfficeObjectId", "target"),
    # an Exchange cmdlet's `Parameters`, a directory change's `ModifiedProperties`, and an Outlook rule
    # change's `OperationProperties` (RuleName, RuleActions…: UpdateInboxRules records only, where a mail
    # read's are its access type)
    "params": (
        "Parameters",
        "ModifiedProperties",
        "OperationProperties{Operation=UpdateInboxRules}",
        "params",
    ),
    "auth_requirement": ("authenticationRequirement", "Authentication requirement", "auth_requirement"),
    # a UAL sign-in's steps are named, not listed: `RequestType` (`SAS:ProcessAuth` is the second
    # factor), `ResultStatusDetail`, `UserAuthenticationMethod` (a bit field of primary methods); the
    # portal CSV names the MFA step's method and result (`PORTAL_STEP_COLUMNS`: shown by title)
    "auth_steps": (
        "authenticationDetails",
        "Authentication details",
        "auth_steps",
        "ExtendedProperties[Name=RequestType]",
        "ExtendedProperties[Name=ResultStatusDetail]",
        "ExtendedProperties[Name=UserAuthenticationMethod]",
        "Multifactor authentication auth method",
        "Multifactor authentication result",
    ),
    "incoming_token_type": ("incomingTokenType", "Incoming token type", "incoming_token_type"),
    "transfer_method": ("originalTransferMethod", "Original transfer method", "transfer_method"),
    "auth_protocol": ("authenticationProtocol", "Authentication Protocol", "auth_protocol"),
    "token_protection": (
        "signInTokenProtectionStatus",
        "TokenProtectionStatusDetails.signInSessionStatus",
        "Token Protection - Sign In Session",  # the portal CSV (its `… StatusCode` column is a code)
        "Token protection - sign in session status",
        "token_protection",
    ),
    "client_app_used": ("clientAppUsed", "Client app", "client_app_used"),
    "interactive": ("isInteractive", "Is Interactive", "interactive"),
    "ca_status": ("conditionalAccessStatus", "Conditional Access", "ca_status"),
    # not a column anyone maps: the hints a sign-in's `mfa` falls back on when it lists no steps
    # (the portal CSV's result says `MFA successfully completed`, `MFA requirement satisfied by claim
    # in the token`…, as `status.additionalDetails` does)
    "mfa": (
        "status.additionalDetails",
        "Status.additionalDetails",
        "Additional Details",
        "Multifactor authentication result",
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


def claim(name: str) -> tuple[str, ...]:
    """Where an Azure Activity record keeps one claim of its caller's token: `claims` (REST and portal
    JSON), `identity.claims` (the storage account / event hub form), Sentinel's `Claims_d` (dynamic)
    and `Claims` (its text twin). Claim names are URIs with dots: a quoted step."""
    step = f'"{name}"' if "." in name or "/" in name else name
    return tuple(f"{where}.{step}" for where in ("claims", "identity.claims", "Claims_d"))


UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
NAME_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
TENANT_CLAIM = "http://schemas.microsoft.com/identity/claims/tenantid"
OID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
DEVICE_CLAIM = "http://schemas.microsoft.com/2012/01/devicecontext/claims/identifier"
AMR_CLAIM = "http://schemas.microsoft.com/claims/authnmethodsreferences"

# Where a kind's names mean something else: in sign-in logs `userId` is the object id (oid),
# `resourceTenantId` is the token's `tid` (the tenant that issued it; `homeTenantId` is the
# user's home tenant and only a fallback); in Graph activity `TenantId` is the token's tenant.
OVERRIDES: dict[str, dict[str, tuple[str, ...]]] = {
    Kind.SIGNIN: {
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
        # a service principal's or managed identity's sign-in names no user: the principal is its actor
        "user": (
            "userPrincipalName",
            "Username",
            "User principal name",
            "servicePrincipalName",
            "Service principal name",
            "servicePrincipalId",
            "Service principal ID",
        ),
    },
    # Graph `directoryAudits`, Sentinel `AuditLogs`, an event hub's `AuditLogs` records (in `properties`,
    # whose own `category`, `UserManagement`…, is the record's; the envelope's is `AuditLogs`).
    # `request_id` is the `correlationId` (an audit record has no request id; the correlation id is
    # what joins it to the sign-in and the other records of one operation). `target` is the first
    # target resource; `params` every target's `modifiedProperties`, as JSON text.
    Kind.ENTRA_AUDIT: {
        "ts": ("properties.activityDateTime", "activityDateTime", "TimeGenerated", "time"),
        "user": ("initiatedBy.user.userPrincipalName",),
        "client_ip": ("initiatedBy.user.ipAddress",),
        "app_id": ("initiatedBy.app.appId",),
        "operation": ("properties.activityDisplayName", "activityDisplayName", "OperationName"),
        "category": ("properties.category", "category"),
        "request_id": ("properties.correlationId", "correlationId"),
        "target": ("targetResources.0.userPrincipalName", "targetResources.0.displayName"),
        "params": ("targetResources.*.modifiedProperties.*",),
        "status": ("properties.result", "result"),
        "token_object_id": ("initiatedBy.user.id",),
    },
    # Graph `riskDetections` (JSON, or the portal's CSV with the same names), Sentinel
    # `AADUserRiskEvents`, an event hub's `UserRiskEvents`: the detection's type is its operation and
    # its level its status; `params` is an object of riskState, riskDetail, source, detectionTimingType.
    Kind.RISK: {
        "ts": ("properties.activityDateTime", "activityDateTime", "TimeGenerated", "time"),
        "user": ("userPrincipalName",),
        "client_ip": ("ipAddress",),
        "request_id": ("requestId",),
        "operation": ("riskEventType",),
        "status": ("riskLevel",),
        "token_object_id": ("userId",),
        "params": ("riskState", "riskDetail", "source", "detectionTimingType"),
        "user_agent": (),
    },
    # Azure Activity: the `claims` are the caller's decoded token (user, uti, tid, oid, iat, appid,
    # device id, amr); `authorization` is an RBAC action and scope, never a bearer token (no `token`).
    Kind.AZURE_ACTIVITY: {
        "ts": ("eventTimestamp", "time", "TimeGenerated"),
        "user": (*claim(UPN_CLAIM), *claim(NAME_CLAIM), "caller"),
        "token_id": claim("uti"),
        "token_tenant_id": claim(TENANT_CLAIM),
        "token_object_id": claim(OID_CLAIM),
        "token_iat": claim("iat"),
        "app_id": claim("appid"),
        "device_id": claim(DEVICE_CLAIM),
        "auth_steps": claim(AMR_CLAIM),
        "client_ip": ("callerIpAddress", "httpRequest.clientIpAddress", *claim("ipaddr")),
        "operation": ("operationName.value", "OperationNameValue", "operationName"),
        "status": ("status.value", "ActivityStatusValue", "resultType"),
        "category": ("category.value", "CategoryValue", "category"),
        "request_id": ("correlationId",),
        "target": ("resourceId", "_ResourceId"),
        "token": (),
        "user_agent": (),
        "session_id": (),
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

# The portal CSV's MFA columns, by `detect.norm`: an `auth_steps` of their titled values, not JSON
PORTAL_STEP_COLUMNS = {
    "multifactorauthenticationauthmethod": "MFA method",
    "multifactorauthenticationresult": "MFA result",
}
URL_COLUMNS = ("url", "request_url", "RequestUri", "uri", "cs-uri-stem", "request", "path")
METHOD_COLUMNS = ("method", "RequestMethod", "http_method", "cs-method")
ROOT_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_.*]*$")  # `*`: each element of a list
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
    Kind.ENTRA_AUDIT: "properties",
    Kind.RISK: "properties",
}
# Kinds that never carry a bearer token, whatever a column is called (Azure Activity's `authorization`)
NO_TOKEN_KINDS = frozenset({Kind.AZURE_ACTIVITY, Kind.ENTRA_AUDIT, Kind.RISK})
# A record's kind by its own name for its table: a diagnostic record's `category`, a Sentinel
# table's `Type` (by `detect.norm`). A file that mixes them is read one kind at a time
# (`tui.engine.ingest.record_kinds`).
RECORD_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "signinlogs",
            "noninteractiveusersigninlogs",
            "serviceprincipalsigninlogs",
            "managedidentitysigninlogs",
            "aadnoninteractiveusersigninlogs",
            "aadserviceprincipalsigninlogs",
            "aadmanagedidentitysigninlogs",
        ),
        Kind.SIGNIN,
    ),
    "auditlogs": Kind.ENTRA_AUDIT,
    "microsoftgraphactivitylogs": Kind.GRAPH_ACTIVITY,
    "userriskevents": Kind.RISK,
    "aaduserriskevents": Kind.RISK,
    "officeactivity": Kind.OFFICE_ACTIVITY,
    "cloudappevents": Kind.CLOUD_APP_EVENTS,
    "azureactivity": Kind.AZURE_ACTIVITY,
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
    "NO_TOKEN_KINDS",
    "OVERRIDES",
    "PORTAL_STEP_COLUMNS",
    "RECORD_KINDS",
    "ROOTS",
    "ROOT_PATH",
    "SIGNIN_CATEGORIES",
    "URL_COLUMNS",
]
