"""An identity mix for the benchmark (issue 20): Entra sign-ins of three categories and the unified
audit log's mail reads of the same sessions, plus a few directory changes, N rows in all.

Written into one folder as three Parquet files in the shapes analysts export them:

- `signins.parquet` (~65% of the rows): a Log Analytics union of `SigninLogs`,
  `AADNonInteractiveUserSignInLogs` and `AADServicePrincipalSignInLogs` (its `Type` names each row's
  table), Sentinel's column names; `AuthenticationDetails` and `DeviceDetail` are JSON text, as the
  non-interactive table and every CSV export keep them.
- `purview.parquet` (~35%): Purview's audit search export (`RecordId`, `CreationDate` in US format,
  `RecordType`, `Operation`, `UserId`, `AuditData` JSON with `SessionId` and `AppAccessContext`),
  MailItemsAccessed, Send and a few inbox rules.
- `entra_audit.parquet` (1 row in 2,000): Sentinel `AuditLogs` (`InitiatedBy`, `TargetResources` JSON).

Shape: 50,000 users (`USERS`), each with a home network in one of three countries (US 85%, GB 10%,
DE 5%) and a registered device for 90% of them; one session per ~16 sign-ins (~400,000 sessions at
10M rows): its first sign-in interactive (password and an authenticator app for 80% of users,
password alone for the rest), the rest non-interactive refreshes (`Previously satisfied` by claim,
or an empty `AuthenticationDetails` half the time, as some tenants now export it). 10% of sessions
come from a phone on a cellular network, 3% from abroad (RO, ZA); 1% of interactive sign-ins fail
(50126), one in 500 is a device-code sign-in, one in 1,000 uses IMAP4. 5% of sign-in rows are a
service principal's (no user, no session). Each mail read belongs to a session and is made from its
network at a time inside it. Everything is generated inside DuckDB (md5/hash of the row number): the
same N gives the same files.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

START_EPOCH = 1_682_899_200  # 2023-05-01T00:00:00Z
SPAN_S = 30 * 86_400
TENANT = "8cf9e5e6-8f03-4bbb-9c67-f75d6ac98c97"
DOMAIN = "contoso-agency.gov"
USERS = 50_000
PER_SESSION = 16  # sign-in rows per session
SIGNIN_SHARE = 0.65
AUDIT_EVERY = 2_000  # one directory change per this many rows

EXO = "00000002-0000-0ff1-ce00-000000000000"
OWA = "9199bf20-a13f-4107-85dc-02114787ef48"
OUTLOOK = "d3590ed6-52b3-4102-aeff-aad2292ab01c"


def _uuid(seed: str) -> str:
    """A GUID-formatted string from md5 of a SQL expression."""
    m = f"md5({seed})"
    return (
        f"substr({m},1,8)||'-'||substr({m},9,4)||'-4'||substr({m},14,3)||'-a'||substr({m},18,3)"
        f"||'-'||substr({m},21,12)"
    )


def _uti(seed: str) -> str:
    """A 22-character uniqueTokenIdentifier (base64url of 16 md5 bytes)."""
    return f"rtrim(translate(to_base64(unhex(md5({seed}))), '+/', '-_'), '=')"


# The user's home address (u: the user's number) and the session's network (h: the session's hash)
_HOME = """CASE WHEN u % 20 < 17
          THEN '71.' || (10 + u % 200) || '.' || (u // 200 % 250) || '.' || (10 + u % 97)
     WHEN u % 20 < 19 THEN '86.' || (10 + u % 140) || '.' || (u // 140 % 250) || '.' || (10 + u % 89)
     ELSE '91.64.' || (u // 20 % 250) || '.' || (10 + u % 83) END"""
_NET = f"""CASE WHEN h % 100 < 87 THEN {_HOME}
     WHEN h % 100 < 97 THEN '172.56.' || (h // 100 % 250) || '.' || (h // 25000 % 250)
     WHEN h % 2 = 0 THEN '81.196.' || (h // 100 % 250) || '.' || (h // 25000 % 250)
     ELSE '41.1.' || (h // 100 % 250) || '.' || (h // 25000 % 250) END"""
_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0"
_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"

PASSWORD = (
    '{"authenticationStepDateTime":"%s","authenticationMethod":"Password","authenticationMethodDetail":'
    '"Password in the cloud","succeeded":true,"authenticationStepResultDetail":"Correct password",'
    '"authenticationStepRequirement":"Primary authentication"}'
)
APP = (
    '{"authenticationStepDateTime":"%s","authenticationMethod":"Authenticator App","succeeded":true,'
    '"authenticationStepResultDetail":"MFA successfully completed","authenticationStepRequirement":'
    '"Multifactor authentication"}'
)
BY_CLAIM = (
    '[{"authenticationStepDateTime":"%s","authenticationMethod":"Previously satisfied","succeeded":true,'
    '"authenticationStepResultDetail":"MFA requirement satisfied by claim in the token",'
    '"authenticationStepRequirement":"Multifactor authentication"}]'
)


def _sessions(con: duckdb.DuckDBPyConnection, sessions: int) -> None:
    """`ses`: each session's user, start, network, device and whether its user does MFA."""
    con.execute(
        f"""CREATE TEMP TABLE ses AS
        SELECT k, u, h, {START_EPOCH} + (k * {SPAN_S}) // {sessions} AS t0,
               {_uuid("'sid' || k")} AS sid, {_uuid("'corr' || k")} AS corr,
               {_NET} AS ip, u % 10 < 8 AS mfa_user,
               CASE WHEN u % 10 < 9 AND h % 100 < 87 THEN {_uuid("'dev' || u")} END AS device,
               h % 100 BETWEEN 87 AND 96 AS phone
        FROM (SELECT k, CAST((k * 7919 + hash(k) % 13) % {USERS} AS BIGINT) AS u,
                     CAST(hash('s' || k) >> 1 AS BIGINT) AS h FROM range({sessions}) r(k))"""
    )


def _signins(con: duckdb.DuckDBPyConnection, path: Path, rows: int, sessions: int) -> None:
    ts = "to_timestamp(t)"
    iso = "strftime(to_timestamp(t), '%Y-%m-%dT%H:%M:%SZ')"
    steps = (
        f"CASE WHEN NOT first THEN CASE WHEN x % 2 = 0 THEN '[]' WHEN mfa_user THEN "
        f"replace('{BY_CLAIM}', '%s', {iso}) ELSE '[]' END "
        f"WHEN mfa_user THEN '[' || replace('{PASSWORD}', '%s', {iso}) || ',' "
        f"|| replace('{APP}', '%s', {iso}) || ']' "
        f"ELSE '[' || replace('{PASSWORD}', '%s', {iso}) || ']' END"
    )
    con.execute(
        f"""COPY (
        SELECT {ts} AS TimeGenerated,
               CASE WHEN sp THEN 'AADServicePrincipalSignInLogs' WHEN first THEN 'SigninLogs'
                    ELSE 'AADNonInteractiveUserSignInLogs' END AS Type,
               CASE WHEN sp THEN 'ServicePrincipalSignInLogs' WHEN first THEN 'SignInLogs'
                    ELSE 'NonInteractiveUserSignInLogs' END AS Category,
               {_uuid("'id' || i")} AS Id, corr AS CorrelationId,
               CASE WHEN NOT sp THEN 'user' || u || '@{DOMAIN}' END AS UserPrincipalName,
               CASE WHEN NOT sp THEN {_uuid("'oid' || u")} END AS UserId,
               CASE WHEN sp THEN 'backup-app-' || (x % 40) END AS ServicePrincipalName,
               CASE WHEN sp THEN {_uuid("'spapp' || (x % 40)")} WHEN phone THEN '{OUTLOOK}'
                    ELSE '{OWA}' END AS AppId,
               '{TENANT}' AS ResourceTenantId,
               CASE WHEN sp THEN '20.190.' || (x % 250) || '.' || (x // 250 % 250)
                    WHEN x % 20 = 1 THEN '172.56.' || (x // 20 % 250) || '.' || (x // 5000 % 250)
                    ELSE ip END AS IPAddress,
               CASE WHEN sp THEN NULL WHEN phone THEN '{_IPHONE}' ELSE '{_WINDOWS}' END AS UserAgent,
               CASE WHEN NOT sp THEN sid END AS SessionId,
               {_uti("CASE WHEN sp THEN 'sputi' ELSE 'uti' END || i")} AS UniqueTokenIdentifier,
               CASE WHEN sp THEN 'false' WHEN first THEN 'true' ELSE 'false' END AS IsInteractive,
               CASE WHEN mfa_user AND NOT sp THEN 'multiFactorAuthentication'
                    ELSE 'singleFactorAuthentication' END AS AuthenticationRequirement,
               CASE WHEN sp THEN '[]' ELSE {steps} END AS AuthenticationDetails,
               CASE WHEN sp THEN '{{}}'
                    ELSE '{{"deviceId":"' || coalesce(device, '') || '","operatingSystem":"'
                         || CASE WHEN phone THEN 'Ios' ELSE 'Windows10' END || '","browser":"'
                         || CASE WHEN phone THEN 'Mobile Safari' ELSE 'Chrome 120.0.0' END || '"}}' END
                   AS DeviceDetail,
               CASE WHEN sp OR first THEN 'none'
                    WHEN device IS NOT NULL AND x % 3 = 0 THEN 'primaryRefreshToken'
                    ELSE 'refreshToken' END AS IncomingTokenType,
               CASE WHEN first AND x % 500 = 7 THEN 'deviceCode' ELSE 'none' END AS AuthenticationProtocol,
               CASE WHEN first AND x % 500 = 7 THEN 'deviceCodeFlow' ELSE 'none' END
                   AS OriginalTransferMethod,
               CASE WHEN first AND x % 1000 = 3 THEN 'IMAP4'
                    WHEN phone THEN 'Mobile Apps and Desktop clients' ELSE 'Browser' END AS ClientAppUsed,
               CASE WHEN mfa_user THEN 'success' ELSE 'notApplied' END AS ConditionalAccessStatus,
               CASE WHEN first AND x % 100 = 5 THEN '50126' ELSE '0' END AS ResultType
        FROM (
            SELECT i, s.*, j = 0 AS first, x, x % 20 = 0 AS sp,
                   s.t0 + j * (60 + x % 1800) AS t
            FROM (SELECT i, i // {PER_SESSION} % {sessions} AS k, i % {PER_SESSION} AS j,
                         CAST(hash('r' || i) >> 1 AS BIGINT) AS x FROM range({rows}) r(i)) r
            JOIN ses s USING (k)
        ) ORDER BY TimeGenerated, Id
        ) TO '{path}' (FORMAT parquet)"""
    )


def _purview(con: duckdb.DuckDBPyConnection, path: Path, rows: int, sessions: int) -> None:
    """Mail reads (and a few sends and inbox rules) of the sessions, from their networks."""
    audit = f"""json_object(
        'CreationTime', strftime(to_timestamp(t), '%Y-%m-%dT%H:%M:%S'), 'Id', rid,
        'Operation', op, 'OrganizationId', '{TENANT}', 'RecordType', 50, 'ResultStatus', 'Succeeded',
        'UserType', 0, 'Version', 1, 'Workload', 'Exchange', 'UserId', upn,
        'AppId', '{OWA}', 'ClientAppId', CASE WHEN phone THEN '{OUTLOOK}' ELSE '{OWA}' END,
        'ClientIPAddress', ip, 'ClientInfoString', CASE WHEN phone THEN 'Client=REST;Client=RESTSystem;'
                                                   ELSE 'Client=OWA;Action=ViaProxy' END,
        'MailboxOwnerUPN', CASE WHEN x % 25 = 0 THEN 'shared' || (x % 50) || '@{DOMAIN}' ELSE upn END,
        'OperationProperties', [{{'Name': 'MailAccessType', 'Value': 'Bind'}},
                                {{'Name': 'IsThrottled', 'Value': 'False'}}],
        'SessionId', sid, 'TokenObjectId', {_uuid("'oid' || u")}, 'TokenTenantId', '{TENANT}',
        'AppAccessContext', {{'AADSessionId': sid, 'UniqueTokenId': {_uti("'uti' || (k * 16 + x % 16)")},
                              'IssuedAtTime': strftime(to_timestamp(t0), '%Y-%m-%dT%H:%M:%S')}},
        'OperationCount', 1 + x % 12)::VARCHAR"""
    con.execute(
        f"""COPY (
        SELECT rid AS RecordId,
               strftime(to_timestamp(t), '%-m/%-d/%Y %-I:%M:%S %p') AS CreationDate,
               'ExchangeItemAggregated' AS RecordType, op AS Operation, upn AS UserId, {audit} AS AuditData
        FROM (
            SELECT s.*, x, {_uuid("'rec' || i")} AS rid, 'user' || s.u || '@{DOMAIN}' AS upn,
                   s.t0 + 30 + x % ({PER_SESSION} * 900) AS t,
                   CASE WHEN x % 400 = 0 THEN 'Send' WHEN x % 20000 = 1 THEN 'New-InboxRule'
                        ELSE 'MailItemsAccessed' END AS op
            FROM (SELECT i, CAST(hash('a' || i) >> 1 AS BIGINT) AS x, hash('k' || i) % {sessions} AS k
                  FROM range({rows}) r(i)) r
            JOIN ses s USING (k)
        ) ORDER BY t, rid
        ) TO '{path}' (FORMAT parquet)"""
    )


def _entra_audit(con: duckdb.DuckDBPyConnection, path: Path, rows: int) -> None:
    con.execute(
        f"""COPY (
        SELECT to_timestamp(t) AS TimeGenerated, to_timestamp(t) AS ActivityDateTime, 'AuditLogs' AS Type,
               op AS OperationName, op AS ActivityDisplayName,
               CASE WHEN op = 'Register device' THEN 'Device' ELSE 'UserManagement' END AS Category,
               {_uuid("'acorr' || i")} AS CorrelationId, 'success' AS Result,
               json_object('user', json_object('userPrincipalName', 'user' || u || '@{DOMAIN}',
                           'id', {_uuid("'oid' || u")}, 'ipAddress', '71.' || (10 + u % 200) || '.'
                           || (u // 200 % 250) || '.' || (10 + u % 97)))::VARCHAR AS InitiatedBy,
               json_array(json_object('userPrincipalName', 'user' || ((u + 1) % {USERS}) || '@{DOMAIN}',
                          'displayName', 'LAPTOP-' || (i % 997), 'modifiedProperties', json_array()))::VARCHAR
                   AS TargetResources
        FROM (SELECT i, CAST(hash('e' || i) >> 1 AS BIGINT) % {USERS} AS u,
                     {START_EPOCH} + (i * {SPAN_S}) // {max(rows, 1)} AS t,
                     ['Register device', 'Update user.', 'User registered security info',
                      'Add member to role.'][1 + i % 4] AS op
              FROM range({rows}) r(i))
        ORDER BY TimeGenerated
        ) TO '{path}' (FORMAT parquet)"""
    )


def generate_identity(folder: Path, rows: int, memory_limit: str = "4GB") -> None:
    """Write the three files of an N-row identity mix into `folder` (overwrites them)."""
    folder.mkdir(parents=True, exist_ok=True)
    audit = rows // AUDIT_EVERY
    signins = int((rows - audit) * SIGNIN_SHARE)
    mail = rows - audit - signins
    sessions = max(1, signins // PER_SESSION)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    _sessions(con, sessions)
    _signins(con, folder / "signins.parquet", signins, sessions)
    _purview(con, folder / "purview.parquet", mail, sessions)
    _entra_audit(con, folder / "entra_audit.parquet", audit)
    con.close()


if __name__ == "__main__":  # python bench/generate_identity.py FOLDER ROWS
    import sys

    generate_identity(Path(sys.argv[1]), int(sys.argv[2]))
