"""The one indicator catalogue (SPEC §4): code, severity, scope, description and the SQL that fires it.

Token-scope SQL returns `(tkey, evidence)` per token subject; row-scope SQL returns
`(source, source_row, tkey, evidence)` per event row (annotate rolls those up to the subject too).
The SQL reads relations annotate prepares: `_tok` (token_claims + token_keys + tkey: nothing of the rows),
`_subject` (per subject: uses, times, IPs, countries, organisation rows), `_ev` (events_base + tok_key
+ tkey), `_params` (one row: consumer tenant, split bounds, replay bound, sign-in coverage),
`_bad_key`, `_ioc`, `_ioc_ip_hit`, `_org_tenant`, `_org_domain`, `_app_name`. `_tok` and `_subject`
are joined on the integer `tok_key` (one per 'sha256:' tkey), not the tkey text (2M subjects: 0.4 → 0.2 s).
Evidence values taken from the data are cut to 120 characters, the last of them `…` when cut (a cut
list of countries or IPs must not read as complete); display makes them inert.
`needs` (`indicator.NEEDS`): a decoded token for those reading `_tok` or joining `token_claims`; a
sign-in record for NO_SIGNIN_RECORD (`_params.signin_start`, from the sign-ins, must be set).
"""

from __future__ import annotations

from tui.engine.indicators.actions import ACTIONS
from tui.engine.indicators.identity_catalogue import IDENTITY
from tui.engine.indicators.indicator import Indicator, Need

SLACK = "INTERVAL 5 MINUTE"
LONG_LIFETIME_HOURS = 28

MACROS = r"""
CREATE OR REPLACE TEMP MACRO _iso(t) AS coalesce(strftime(t, '%Y-%m-%dT%H:%M:%SZ'), 'missing');
CREATE OR REPLACE TEMP MACRO _v(x) AS coalesce(
    CASE WHEN length(CAST(x AS VARCHAR)) > 120 THEN left(CAST(x AS VARCHAR), 119) || '…'
         ELSE CAST(x AS VARCHAR) END,
    'missing');
CREATE OR REPLACE TEMP MACRO _tenant_of(iss) AS
    nullif(lower(regexp_extract(iss, '^https?://[^/]+/([^/?#]+)', 1)), '');
CREATE OR REPLACE TEMP MACRO _is_guid(x) AS
    regexp_full_match(coalesce(x, ''),
                      '[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}');
CREATE OR REPLACE TEMP MACRO _domain_of(x) AS
    nullif(lower(regexp_extract(x, '@([A-Za-z0-9.-]+)[>\s]*$', 1)), '');
"""


_BAD_KEY_AFTER = "(b.not_after IS NULL OR t.iat IS NULL OR t.iat > b.not_after)"

CATALOGUE: tuple[Indicator, ...] = (  # the token part; the identity and action parts follow (SPEC §10)
    Indicator(
        "KNOWN_BAD_KEY",
        "critical",
        "token",
        "signed with a key the intel lists as compromised, and issued after its retirement (or no iat)",
        (
            f"""SELECT t.tkey,
                   format('key {{}} is compromised ({{}}); iat {{}} is after the key retired {{}}',
                   b.ident, _v(b.note), _iso(t.iat), _iso(b.not_after))
            FROM _tok t JOIN _bad_key b ON b.ident = t.kid OR b.ident = t.x5t
            WHERE {_BAD_KEY_AFTER}""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "KNOWN_BAD_KEY_HISTORIC",
        "info",
        "token",
        "signed with the compromised key but issued while it was valid (genuine old tokens look like this)",
        (
            f"""SELECT t.tkey,
                   format('key {{}} is the compromised key, but iat {{}} is before its retirement {{}}',
                   b.ident, _iso(t.iat), _iso(b.not_after))
            FROM _tok t JOIN _bad_key b ON b.ident = t.kid OR b.ident = t.x5t
            WHERE NOT {_BAD_KEY_AFTER}""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "KEY_SCOPE_MISMATCH",
        "critical",
        "token",
        "the signing key's issuer (JWKS `issuer`, {tenantid} := tid) is not the token's iss",
        (
            """SELECT tkey, format('key {} ({}) may only sign for issuer {}, but the token claims iss {}',
                   _v(coalesce(kid, x5t)), _v(jwk_source), _v(expected), _v(iss))
            FROM (SELECT *, replace(jwk_issuer, '{tenantid}', coalesce(tid, '{tenantid}')) AS expected
                  FROM _tok)
            WHERE jwk_issuer IS NOT NULL AND iss IS DISTINCT FROM expected
              AND NOT (_tenant_of(expected) IS NOT NULL
                       AND lower(iss) = 'https://sts.windows.net/' || _tenant_of(expected) || '/')""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "BAD_SIGNATURE",
        "critical",
        "token",
        "a key with the token's kid exists and the signature does not verify",
        (
            """SELECT tkey, format('signature does not verify with key {} from {}', _v(coalesce(kid, x5t)),
                   _v(jwk_source)) FROM _tok WHERE sig = 'invalid'""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "UNKNOWN_KEY",
        "high",
        "token",
        "key lists were given and none has the token's kid",
        (
            """SELECT tkey, format('no key list given has kid {} (alg {})', _v(coalesce(kid, x5t)), _v(alg))
            FROM _tok WHERE sig = 'unknown_key'""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "ALG_NONE",
        "critical",
        "token",
        "the token is unsigned (alg none or missing)",
        (
            """SELECT tkey, format('header alg is {}: the token carries no signature', _v(alg))
            FROM _tok WHERE readable AND (alg IS NULL OR lower(alg) = 'none')""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "WEAK_ALG",
        "high",
        "token",
        "HMAC or any algorithm other than RS256 (Entra signs with RS256)",
        (
            """SELECT tkey, format('header alg is {}, Entra ID signs with RS256', _v(alg))
            FROM _tok WHERE alg IS NOT NULL AND lower(alg) <> 'none' AND alg <> 'RS256'""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "KEY_INJECTION",
        "high",
        "token",
        "the header points at its own key (jku, x5u or an embedded jwk)",
        (
            """SELECT tkey, format('header carries {}', concat_ws(', ',
                   CASE WHEN jku IS NOT NULL THEN 'jku ' || _v(jku) END,
                   CASE WHEN x5u IS NOT NULL THEN 'x5u ' || _v(x5u) END,
                   CASE WHEN has_jwk THEN 'an embedded jwk' END))
            FROM _tok WHERE jku IS NOT NULL OR x5u IS NOT NULL OR has_jwk""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "CONSUMER_TOKEN_ENTERPRISE",
        "high",
        "token",
        "a consumer (MSA) tenant token used by or against the organisation's users or mailboxes",
        (
            """SELECT t.tkey, format('tid {} / iss {} is the consumer tenant, but it was used for {}',
                   _v(t.tid), _v(t.iss), _v(coalesce(s.org_address, t.upn)))
            FROM _tok t LEFT JOIN _subject s ON s.tok_key = t.tok_key, _params p
            WHERE (lower(t.tid) = p.consumer OR _tenant_of(t.iss) = p.consumer)
              AND (s.org_address IS NOT NULL OR _domain_of(t.upn) IN (SELECT domain FROM _org_domain))""",
            """SELECT s.tkey, format('TokenTenantId {} is the consumer tenant, but it was used for {}',
                   _v(s.row_tid), _v(s.org_address))
            FROM _subject s, _params p
            WHERE s.tkey LIKE 'uti:%' AND lower(s.row_tid) = p.consumer AND s.org_address IS NOT NULL""",
        ),
    ),
    Indicator(
        "ISS_TID_MISMATCH",
        "high",
        "token",
        "tid is not a GUID or not the tenant segment of iss",
        (
            """SELECT tkey, format('tid {} but iss {} names tenant {}', _v(tid), _v(iss), _v(_tenant_of(iss)))
            FROM _tok WHERE tid IS NOT NULL AND iss IS NOT NULL
              AND (NOT _is_guid(tid) OR _tenant_of(iss) IS DISTINCT FROM lower(tid))""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "FOREIGN_TENANT",
        "low",
        "token",
        "tid is neither the organisation's tenant nor the consumer tenant",
        (
            """SELECT s.tkey, format('tenant {} is not the organisation''s ({})', _v(tid),
                   (SELECT string_agg(tid, ', ') FROM _org_tenant))
            FROM (SELECT s.tkey, lower(coalesce(t.tid, s.row_tid)) AS tid
                  FROM _subject s LEFT JOIN _tok t ON t.tok_key = s.tok_key) s, _params p
            WHERE tid IS NOT NULL AND tid <> p.consumer AND (SELECT count(*) FROM _org_tenant) > 0
              AND tid NOT IN (SELECT tid FROM _org_tenant)""",
        ),
    ),
    Indicator(
        "LONG_LIFETIME",
        "medium",
        "token",
        f"exp − iat is over {LONG_LIFETIME_HOURS} hours",
        (
            f"""SELECT tkey, format('lifetime {{}} h (iat {{}}, exp {{}}) is over {LONG_LIFETIME_HOURS} h',
                   round(epoch(exp - iat) / 3600, 1), _iso(iat), _iso(exp))
            FROM _tok WHERE exp - iat > INTERVAL {LONG_LIFETIME_HOURS} HOUR""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "USED_EXPIRED",
        "medium",
        "row",
        "the row's time is more than 5 minutes after the token's exp",
        (
            f"""SELECT e.source, e.source_row, e.tkey,
                    format('used at {{}}, token expired at {{}}', _iso(e.ts),
                    _iso(t.exp))
             FROM _ev e JOIN token_claims t ON t.tok_key = e.tok_key WHERE e.ts > t.exp + {SLACK}""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "USED_BEFORE_NBF",
        "medium",
        "row",
        "the row's time is more than 5 minutes before the token's nbf",
        (
            f"""SELECT e.source, e.source_row, e.tkey, format('used at {{}}, token not valid before {{}}',
                    _iso(e.ts), _iso(t.nbf))
             FROM _ev e JOIN token_claims t ON t.tok_key = e.tok_key WHERE e.ts < t.nbf - {SLACK}""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "SUBJECT_MISMATCH",
        "medium",
        "row",
        "the token's user (upn/oid) is not the row's user",
        (
            """SELECT e.source, e.source_row, e.tkey,
                   format('row user {} but token upn {} / oid {}', _v(e."user"),
                   _v(t.upn), _v(t.oid))
            FROM _ev e JOIN token_claims t ON t.tok_key = e.tok_key
            WHERE e."user" IS NOT NULL AND (t.upn IS NOT NULL OR t.oid IS NOT NULL)
              AND lower(trim(e."user")) IS DISTINCT FROM lower(regexp_replace(t.upn, '^.*#', ''))
              AND lower(trim(e."user")) IS DISTINCT FROM lower(t.oid)""",
        ),
        needs=(Need.TOKENS,),
    ),
    Indicator(
        "NO_SIGNIN_RECORD",
        "high",
        "token",
        "loaded sign-in logs cover the token's time and none records its uti",
        (
            """SELECT s.tkey, CASE WHEN s.uti IS NULL
                   THEN format('token has no uti, so no sign-in can record it; sign-ins cover {} to {}',
                               _iso(p.signin_start), _iso(p.signin_end))
                   ELSE format('uti {} (issued {}) is in no loaded sign-in, though sign-ins cover {} to {}',
                               _v(s.uti), _iso(s.issued), _iso(p.signin_start), _iso(p.signin_end)) END
            FROM (SELECT s.tkey, coalesce(t.uti, s.row_uti) AS uti,
                         coalesce(t.iat, s.row_iat, s.first_ts) AS issued,
                         lower(coalesce(t.tid, s.row_tid)) AS tid, s.use_rows,
                         t.tok_key IS NULL OR t.readable AS decodable
                  FROM _subject s LEFT JOIN _tok t ON t.tok_key = s.tok_key) s, _params p
            WHERE p.signin_start IS NOT NULL AND s.use_rows > 0 AND s.decodable
              AND s.issued BETWEEN p.signin_start AND p.signin_end
              AND (s.tid IS NULL OR (s.tid <> p.consumer AND ((SELECT count(*) FROM _org_tenant) = 0
                                                             OR s.tid IN (SELECT tid FROM _org_tenant))))
              AND (s.uti IS NULL OR s.uti NOT IN (SELECT uti FROM _signin_uti))""",
        ),
        needs=(Need.SIGNINS,),
    ),
    Indicator(
        "TOKEN_REPLAY",
        "medium",
        "token",
        "one token used from several countries or more IPs than the bound",
        (
            """SELECT s.tkey, format('used from {} IP{} ({}) in {} countr{} ({})',
                   s.n_ips, CASE WHEN s.n_ips = 1 THEN '' ELSE 's' END, _v(s.ips),
                   s.n_countries, CASE WHEN s.n_countries = 1 THEN 'y' ELSE 'ies' END, _v(s.countries))
            FROM _subject s, _params p WHERE s.n_countries > 1 OR s.n_ips > p.replay_bound""",
        ),
    ),
    Indicator(
        "IOC_IP",
        "high",
        "row",
        "the client IP is a Storm-0558 or --ioc indicator",
        (
            """SELECT e.source, e.source_row, e.tkey, format('client IP {} is an indicator: {}', e.client_ip,
                   _v(h.note))
            FROM _ev e JOIN _ioc_ip_hit h ON h.ip = e.client_ip""",
        ),
    ),
    Indicator(
        "IOC_UA",
        "high",
        "row",
        "the user agent is a Storm-0558 or --ioc indicator",
        (
            """SELECT e.source, e.source_row, e.tkey,
                   format('user agent {} is an indicator: {}', _v(e.user_agent), _v(i.note))
            FROM _ev e JOIN _ioc i ON i.kind = 'ua' AND i.value = trim(e.user_agent)""",
        ),
    ),
    Indicator(
        "IOC_APP",
        "high",
        "row",
        "the app id (AppId, ClientAppId or the token's appid) is an --ioc indicator",
        (
            """SELECT e.source, e.source_row, e.tkey,
                   format('app {} is an indicator: {}', i.value, _v(i.note))
            FROM _ev e JOIN _ioc i ON i.kind = 'app'
                 AND (i.value = lower(e.app_id) OR i.value = lower(e.client_app_id))""",
            """SELECT e.source, e.source_row, e.tkey, format('token appid {} is an indicator: {}', i.value,
                   _v(i.note))
            FROM _ev e JOIN token_claims t ON t.tok_key = e.tok_key
                 JOIN _ioc i ON i.kind = 'app' AND i.value = lower(t.appid)""",
        ),
    ),
    Indicator(
        "NEW_APP_FOR_MAILBOX",
        "medium",
        "row",
        "an AppId/ClientAppId reads a mailbox (MailItemsAccessed) in the hunt window, never in the baseline",
        (
            """WITH mia AS (
                SELECT source, source_row, tkey, ts, mbx, unnest(apps) AS app
                FROM (SELECT source, source_row, tkey, ts, lower(trim(coalesce(mailbox, "user"))) AS mbx,
                             list_distinct(list_filter([lower(app_id), lower(client_app_id)],
                                                       lambda a: a IS NOT NULL AND a <> '')) AS apps
                      FROM _ev WHERE lower(operation) = 'mailitemsaccessed')
                WHERE mbx IS NOT NULL
            ), base AS (
                SELECT m.* FROM mia m, _params p WHERE m.ts >= p.baseline_start AND m.ts < p.baseline_end
            ), seen AS (SELECT mbx, count(*) AS n FROM base GROUP BY mbx)
            SELECT m.source, m.source_row, m.tkey,
                   format('app {}{} read mailbox {} at {}; not once in the baseline {} to {} ({} read{})',
                          m.app, coalesce(' (' || a.name || ')', ''), _v(m.mbx), _iso(m.ts),
                          _iso(p.baseline_start), _iso(p.baseline_end), s.n,
                          CASE WHEN s.n = 1 THEN '' ELSE 's' END)
            FROM mia m JOIN seen s USING (mbx) CROSS JOIN _params p LEFT JOIN _app_name a ON a.app = m.app
            WHERE m.ts >= p.window_start AND m.ts <= p.window_end
              AND NOT EXISTS (SELECT 1 FROM base b WHERE b.mbx = m.mbx AND b.app = m.app)""",
        ),
    ),
    Indicator(
        "MALFORMED",
        "low",
        "token",
        "the bearer value is not a decodable JWT (opaque MSA ticket, garbage)",
        (
            """SELECT tkey, format('bearer value is not a decodable JWT: {} ({} characters)', decode_error,
                   token_length)
            FROM _tok WHERE decode_error IS NOT NULL""",
        ),
        needs=(Need.TOKENS,),
    ),
)

CATALOGUE += IDENTITY + ACTIONS
BY_CODE = {ind.code: ind for ind in CATALOGUE}

# The indicators that read nothing but a token's claims, header, signature and key (`_tok`, `_bad_key`):
# they give the same hits before the rows are stored (`tui.engine.case.preview`) as after
# (tests/test_preview.py).
CLAIM_CODES = (
    "KNOWN_BAD_KEY",
    "KNOWN_BAD_KEY_HISTORIC",
    "KEY_SCOPE_MISMATCH",
    "BAD_SIGNATURE",
    "UNKNOWN_KEY",
    "ALG_NONE",
    "WEAK_ALG",
    "KEY_INJECTION",
    "ISS_TID_MISMATCH",
    "LONG_LIFETIME",
    "MALFORMED",
)
assert set(CLAIM_CODES) <= {ind.code for ind in CATALOGUE}


def catalogue_rows() -> list[tuple[str, str, int, str, str]]:
    """The catalogue as rows (code, severity, rank, scope, description) for display and export."""
    return [(i.code, i.severity, i.rank, i.scope, i.description) for i in CATALOGUE]
