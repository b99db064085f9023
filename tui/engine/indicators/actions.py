"""SPEC §10's action indicators: what an intruder changed after getting in (DOMAIN §8's persistence
and defence evasion), the third part of the one catalogue (`catalogue.CATALOGUE`).

Each fires on the change's own event row (row scope) and reads `action_facts`
(`tui.engine.indicators.action_facts`: every change operation with its parameters parsed, whatever
export it came from). The evidence names the parameters that decide the severity, as the record
wrote them ("moves to RSS Feeds and marks as read", "UnifiedAuditLogIngestionEnabled False",
"role Global Administrator"). A recipient is called external when its domain is none of the
organisation's (`_org_domain`, or a subdomain of one); when the organisation's domains are not known
the evidence says so rather than guess. A record that says the change failed still fires (an attempt
is evidence too) and its evidence says it failed. A rule that only files mail into an ordinary
folder is INBOX_RULE at medium; forwarding, redirecting, deleting, moving to a folder people do not
look in, or marking as read make it high. Each needs a change operation loaded (`Need.ACTIONS`:
every SELECT reads `action_facts`), so none runs on a log that holds none (a gateway log).
"""

from __future__ import annotations

from tui.engine.indicators.action_facts import (
    AUTH_METHOD_OPS,
    CONSENT_OPS,
    INBOX_RULE_OPS,
    PERMISSION_OPS,
)
from tui.engine.indicators.indicator import Indicator, Need

# Folders a rule hides mail in: nobody reads them (BEC rules move mail to RSS Feeds, Conversation
# History, Archive…; Deleted Items and Junk Email are deletion by another name)
OBSCURE_FOLDERS = (
    "rss feeds",
    "rss subscriptions",
    "archive",
    "conversation history",
    "junk email",
    "junk e-mail",
    "deleted items",
    "notes",
    "sync issues",
    "conflicts",
    "local failures",
    "server failures",
)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


_ORG = "(SELECT coalesce(list(domain), []) AS org FROM _org_domain) o"
_WHO = "_v(coalesce(a.usr, 'an unnamed actor'))"
# said after the evidence: a failed change, parameters that were not whole JSON
_NOTES = """CASE WHEN a.failed THEN format(' (the record says it failed: {})', _v(a.status)) ELSE '' END
    || CASE WHEN a.params IS NOT NULL AND NOT a.params_ok
            THEN '; its parameters are not whole JSON: read as far as they go' ELSE '' END"""
_RULE_OPS = _list(INBOX_RULE_OPS)

_INBOX_RULE = f"""
WITH r AS (
    SELECT a.*,
           _to(_p(a.kv, 'ForwardTo'), o.org) AS fwd, _to(_p(a.kv, 'ForwardAsAttachmentTo'), o.org) AS fwd_att,
           _to(_p(a.kv, 'RedirectTo'), o.org) AS redir,
           _on(_p(a.kv, 'DeleteMessage')) OR _on(_p(a.kv, 'SoftDeleteMessage')) AS del,
           nullif(trim(regexp_extract(coalesce(_p(a.kv, 'MoveToFolder'), ''), '([^\\\\/:]+)$', 1)), '')
               AS folder,
           _on(_p(a.kv, 'MarkAsRead')) AS mark_read,
           -- an Outlook rule change (UpdateInboxRules) names its actions' types in RuleActions
           regexp_extract_all(coalesce(_p(a.kv, 'RuleActions'), ''), '"ActionType"\\s*:\\s*"([^"]*)"', 1)
               AS acts,
           concat_ws(', ',
               CASE WHEN _set(_p(a.kv, 'From')) THEN 'from ' || _v(_p(a.kv, 'From')) END,
               CASE WHEN _set(_p(a.kv, 'SubjectContainsWords'))
                    THEN 'with subject containing ' || _v(_p(a.kv, 'SubjectContainsWords')) END,
               CASE WHEN _set(_p(a.kv, 'SubjectOrBodyContainsWords'))
                    THEN 'with subject or body containing ' || _v(_p(a.kv, 'SubjectOrBodyContainsWords')) END,
               CASE WHEN _set(_p(a.kv, 'BodyContainsWords'))
                    THEN 'with body containing ' || _v(_p(a.kv, 'BodyContainsWords')) END) AS cond
    FROM action_facts a, {_ORG}
    WHERE list_contains({_RULE_OPS}, a.op)
), s AS (
    SELECT *, list_transform(acts, lambda t: lower(t)) AS acts_l,
           list_contains({_list(OBSCURE_FOLDERS)}, lower(folder)) AS obscure
    FROM r
), d AS (
    SELECT *,
           fwd IS NOT NULL OR fwd_att IS NOT NULL OR redir IS NOT NULL OR del OR obscure OR mark_read
           OR list_has_any(acts_l, ['forward', 'forwardasattachment', 'redirect', 'delete',
                                    'permanentdelete', 'markasread']) AS high,
           concat_ws(' and ',
               CASE WHEN fwd IS NOT NULL THEN 'forwards to ' || fwd END,
               CASE WHEN fwd_att IS NOT NULL THEN 'forwards as an attachment to ' || fwd_att END,
               CASE WHEN redir IS NOT NULL THEN 'redirects to ' || redir END,
               CASE WHEN del THEN 'deletes the message' END,
               CASE WHEN folder IS NOT NULL THEN 'moves to ' || _v(folder) END,
               CASE WHEN mark_read THEN 'marks as read' END,
               CASE WHEN array_length(acts) > 0
                    THEN 'Outlook rule actions ' || _v(array_to_string(acts, ', ')) END)
               AS what
    FROM s
)
SELECT a.source, a.source_row, a.tkey,
       format('{{}} {{}} inbox rule {{}} on {{}}: {{}}{{}}{{}}', {_WHO},
              CASE a.op WHEN 'new-inboxrule' THEN 'created' WHEN 'enable-inboxrule' THEN 'enabled'
                        WHEN 'updateinboxrules' THEN
                            CASE _p(a.kv, 'RuleOperation') WHEN 'AddMailboxRule' THEN 'created (in Outlook)'
                                 WHEN 'RemoveMailboxRule' THEN 'removed (in Outlook)'
                                 ELSE 'changed (in Outlook)' END
                        ELSE 'changed' END,
              coalesce('"' || _v(a.rule) || '"', '(no name in the record)'),
              _v(coalesce(a.mbx, 'an unnamed mailbox')),
              CASE WHEN a.what <> '' THEN a.what ELSE 'no action in its parameters' END,
              CASE WHEN a.cond <> '' THEN ' (mail ' || a.cond || ')' ELSE '' END, {_NOTES}),
       CASE WHEN a.high THEN 'high' END
FROM d a"""

_FORWARDING = f"""
SELECT a.source, a.source_row, a.tkey,
       CASE WHEN a.op = 'set-mailbox'
            THEN format('{{}} set mailbox {{}} to forward: {{}}{{}}{{}}', {_WHO},
                        _v(coalesce(a.tgt, 'an unnamed mailbox')),
                        concat_ws(' and ',
                            'forwards to ' || _to(_p(a.kv, 'ForwardingSmtpAddress'), o.org)
                                || ' (ForwardingSmtpAddress)',
                            'forwards to ' || _to(_p(a.kv, 'ForwardingAddress'), o.org)
                                || ' (ForwardingAddress)'),
                        CASE WHEN _on(_p(a.kv, 'DeliverToMailboxAndForward'))
                                 THEN ', keeping a copy (DeliverToMailboxAndForward True)'
                             WHEN _off(_p(a.kv, 'DeliverToMailboxAndForward'))
                                 THEN ', keeping no copy (DeliverToMailboxAndForward False)'
                             ELSE '' END, {_NOTES})
            ELSE format('{{}} {{}} transport rule {{}}: {{}}{{}}', {_WHO},
                        CASE a.op WHEN 'new-transportrule' THEN 'created' ELSE 'changed' END,
                        _v(coalesce('"' || _p(a.kv, 'Name') || '"', a.tgt, '(no name in the record)')),
                        concat_ws(' and ',
                            'redirects to ' || _to(_p(a.kv, 'RedirectMessageTo'), o.org),
                            'blind-copies to ' || _to(_p(a.kv, 'BlindCopyTo'), o.org),
                            'copies to ' || _to(_p(a.kv, 'CopyTo'), o.org),
                            'adds recipient ' || _to(_p(a.kv, 'AddToRecipients'), o.org)), {_NOTES}) END
FROM action_facts a, {_ORG}
WHERE (a.op = 'set-mailbox'
       AND (_set(_p(a.kv, 'ForwardingSmtpAddress')) OR _set(_p(a.kv, 'ForwardingAddress'))))
   OR (a.op IN ('new-transportrule', 'set-transportrule')
       AND (_set(_p(a.kv, 'RedirectMessageTo')) OR _set(_p(a.kv, 'BlindCopyTo'))
            OR _set(_p(a.kv, 'CopyTo')) OR _set(_p(a.kv, 'AddToRecipients'))))"""

_PERMISSION = f"""
SELECT a.source, a.source_row, a.tkey,
       format('{{}} granted {{}} {{}} on {{}}{{}}', {_WHO},
              _v(coalesce(_p(a.kv, 'User'), _p(a.kv, 'Trustee'), '(no grantee in the record)')),
              _v(coalesce(_p(a.kv, 'AccessRights'), 'access')),
              _v(coalesce(CASE WHEN a.op LIKE '%folder%' THEN _p(a.kv, 'Identity') END, a.tgt,
                          'an unnamed mailbox')), {_NOTES})
FROM action_facts a WHERE list_contains({_list(PERMISSION_OPS)}, a.op)"""

_AUDIT = f"""
WITH t AS (
    SELECT a.*, concat_ws(', ',
        CASE WHEN a.op = 'set-adminauditlogconfig' AND _off(_p(a.kv, 'UnifiedAuditLogIngestionEnabled'))
             THEN 'UnifiedAuditLogIngestionEnabled ' || _v(_p(a.kv, 'UnifiedAuditLogIngestionEnabled'))
                  || ': the unified audit log stops recording' END,
        CASE WHEN a.op = 'set-adminauditlogconfig' AND _off(_p(a.kv, 'AdminAuditLogEnabled'))
             THEN 'AdminAuditLogEnabled ' || _v(_p(a.kv, 'AdminAuditLogEnabled')) END,
        CASE WHEN a.op = 'set-mailboxauditbypassassociation' AND _on(_p(a.kv, 'AuditBypassEnabled'))
             THEN 'AuditBypassEnabled ' || _v(_p(a.kv, 'AuditBypassEnabled'))
                  || ': the account''s mailbox actions are no longer audited' END,
        CASE WHEN a.op = 'set-mailbox' AND _off(_p(a.kv, 'AuditEnabled'))
             THEN 'AuditEnabled ' || _v(_p(a.kv, 'AuditEnabled')) || ': mailbox auditing disabled' END,
        CASE WHEN a.op = 'set-mailbox'
                  AND regexp_full_match(trim(coalesce(_p(a.kv, 'AuditLogAgeLimit'), '')), '[0.:]+')
             THEN 'AuditLogAgeLimit ' || _v(_p(a.kv, 'AuditLogAgeLimit'))
                  || ': audit records kept for no time' END,
        CASE WHEN a.op = 'set-organizationconfig' AND _on(_p(a.kv, 'AuditDisabled'))
             THEN 'AuditDisabled ' || _v(_p(a.kv, 'AuditDisabled'))
                  || ': mailbox auditing off for the organisation' END) AS what
    FROM action_facts a
)
SELECT a.source, a.source_row, a.tkey,
       format('{{}} set {{}} on {{}}{{}}', {_WHO}, a.what, _v(coalesce(a.tgt, 'an unnamed object')), {_NOTES})
FROM t a WHERE a.what <> ''"""

_STRONG = "list_filter(a.kv, lambda p: lower(p.name) LIKE 'strongauthentication%')"
_AUTH_METHOD = f"""
WITH t AS (
    SELECT a.*, {_STRONG} AS strong,
           _set(_po(a.kv, 'StrongAuthenticationRequirement'))
           AND NOT _set(_p(a.kv, 'StrongAuthenticationRequirement'))
           AND array_length(list_filter(a.kv,
                                        lambda p: lower(p.name) = 'strongauthenticationrequirement')) > 0
               AS mfa_off
    FROM action_facts a WHERE list_contains({_list(AUTH_METHOD_OPS)}, a.op)
)
SELECT a.source, a.source_row, a.tkey,
       format('{{}}: {{}} for {{}}{{}}', {_WHO},
              CASE WHEN a.mfa_off OR a.op = 'disable strong authentication'
                   THEN format('per-user MFA disabled (StrongAuthenticationRequirement {{}} → none)',
                               coalesce('State ' || nullif(regexp_extract(
                                   coalesce(_po(a.kv, 'StrongAuthenticationRequirement'), ''),
                                   '"State"\\s*:\\s*(\\d+)', 1), ''),
                                   _v(_po(a.kv, 'StrongAuthenticationRequirement')),
                                   'as it was'))
                   WHEN a.op = 'update user'
                   THEN 'changed ' || _v(array_to_string(list_transform(a.strong, lambda p: p.name), ', '))
                   WHEN a.op = 'register device'
                   THEN format('registered device {{}}{{}}',
                               _v(coalesce(_p(a.kv, 'CloudDisplayName'), a.tgt, '?')),
                               coalesce(' (' || _v(_p(a.kv, 'CloudDeviceOSType')) || ')', ''))
                   ELSE _v(regexp_replace(a.operation, '[\\s.]+$', '')) END,
              _v(coalesce(a.tgt, a.usr, 'an unnamed user')), {_NOTES})
FROM t a
WHERE a.op <> 'update user' OR array_length(a.strong) > 0
   OR _p(a.kv, 'Included Updated Properties') ILIKE '%StrongAuthentication%'"""

_SCOPES = (
    "nullif(array_to_string(list_distinct(list_filter(list_transform(regexp_extract_all("
    "coalesce(_p(a.kv, 'ConsentAction.Permissions'), ''), 'Scope:\\s*([^,\\]]*)', 1), lambda s: trim(s)), "
    "lambda s: s <> '')), ' '), '')"
)
_CONSENT = f"""
SELECT a.source, a.source_row, a.tkey,
       format('{{}}: {{}} {{}}{{}}{{}}', {_WHO}, _v(regexp_replace(a.operation, '[\\s.]+$', '')),
              _v(coalesce(a.tgt, 'an unnamed application')),
              coalesce(': ' || nullif(concat_ws(', ',
                  CASE WHEN _on(_p(a.kv, 'ConsentContext.IsAdminConsent')) THEN 'admin consent' END,
                  CASE WHEN _on(_p(a.kv, 'ConsentContext.OnBehalfOfAll')) THEN 'for all users' END,
                  CASE WHEN _on(_p(a.kv, 'ConsentContext.IsAppOnly')) THEN 'app-only' END,
                  'scopes ' || _vn({_SCOPES}),
                  'scope ' || _vn(nullif(_p(a.kv, 'DelegatedPermissionGrant.Scope'), '')),
                  'app role ' || _vn(nullif(_p(a.kv, 'AppRole.Value'), '')),
                  'key ' || _vn(nullif(_p(a.kv, 'KeyDescription'), ''))), ''), ''), {_NOTES})
FROM action_facts a WHERE list_contains({_list(CONSENT_OPS)}, a.op)"""

_ROLE = f"""
SELECT a.source, a.source_row, a.tkey,
       format('{{}} added {{}} to role {{}}{{}}{{}}', {_WHO}, _v(coalesce(a.tgt, 'an unnamed member')),
              _v(coalesce(nullif(_p(a.kv, 'Role.DisplayName'), ''),
                          nullif(_p(a.kv, 'RoleDefinitionName'), ''),
                          '(not named in the record)')),
              CASE WHEN a.op <> 'add member to role'
                   THEN format(' ({{}})', _v(regexp_replace(a.operation, '[\\s.]+$', ''))) ELSE '' END,
              {_NOTES})
FROM action_facts a WHERE a.op LIKE 'add %member to role%'"""

ACTIONS: tuple[Indicator, ...] = (
    Indicator(
        "INBOX_RULE",
        "medium",
        "row",
        "an inbox rule created or changed (New-InboxRule, Set-InboxRule, UpdateInboxRules); high when it "
        "forwards, redirects, deletes, moves to an obscure folder or marks as read",
        (_INBOX_RULE,),
        graded=True,
        needs=(Need.ACTIONS,),
    ),
    Indicator(
        "MAIL_FORWARDING",
        "high",
        "row",
        "a mailbox set to forward (Set-Mailbox ForwardingSmtpAddress / ForwardingAddress) or a transport "
        "rule that redirects or copies mail",
        (_FORWARDING,),
        needs=(Need.ACTIONS,),
    ),
    Indicator(
        "MAILBOX_PERMISSION",
        "medium",
        "row",
        "a mailbox or folder permission granted (Add-MailboxPermission, Add-RecipientPermission, folder "
        "permissions)",
        (_PERMISSION,),
        needs=(Need.ACTIONS,),
    ),
    Indicator(
        "AUDIT_TAMPERING",
        "critical",
        "row",
        "audit logging weakened: unified audit ingestion disabled, an audit bypass, AuditLogAgeLimit 0, "
        "mailbox auditing disabled",
        (_AUDIT,),
        needs=(Need.ACTIONS,),
    ),
    Indicator(
        "AUTH_METHOD_CHANGE",
        "high",
        "row",
        "security info registered or deleted, per-user MFA disabled or MFA methods changed, a device "
        "registered",
        (_AUTH_METHOD,),
        needs=(Need.ACTIONS,),
    ),
    Indicator(
        "APP_CONSENT",
        "high",
        "row",
        "consent to an application, an app role or delegated permission grant, credentials added to an app",
        (_CONSENT,),
        needs=(Need.ACTIONS,),
    ),
    Indicator(
        "ROLE_ADD", "high", "row", "a member added to a directory role", (_ROLE,), needs=(Need.ACTIONS,)
    ),
)

ACTION_CODES = tuple(ind.code for ind in ACTIONS)

__all__ = ["ACTIONS", "ACTION_CODES", "OBSCURE_FOLDERS"]
