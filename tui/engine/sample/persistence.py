"""What the sample's intruders changed once they were in (issue 21 point 4), and an administrator's
ordinary changes beside them (the decoys): SPEC §10's action indicators, planted in the real shapes of
the exports the sample writes (research/identity_schemas.md §9).

- The adversary-in-the-middle's replayed session (OWA, from the replay IP) creates an inbox rule that
  forwards invoices outside the organisation, files them under RSS Feeds and marks them read, sets the
  mailbox to forward, and consents to a mail client application.
- The device-code phisher, on the device it registered, registers its own authenticator as the
  victim's security info.
- The sprayed account is a Privileged Role Administrator kept single-factor for its scripts: its
  session adds the account to Global Administrator, and on the second night, after reading mail,
  exempts it from mailbox auditing.
- The IT administrator (the device-code decoy), in the baseline, from the office on the usual
  browser: a rule that files newsletters into a folder, and a new colleague added to Helpdesk
  Administrator.

Exchange cmdlets go to purview_audit.csv (`ExchangeAdmin`, RecordType 1) with the session that ran
them; directory changes to entra_audit.json (Graph `directoryAudit`, which names no session: truth
says which session's IP and time they belong to), beside the directory's everyday records
(`routine_audits`). Every record comes from the stream `triage-sample:{seed}:identity-actions`, so
nothing else of the sample changes with them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from tui.engine.sample.audit import PurviewBuilder
from tui.engine.sample.entra_records import _changed, _iso7, directory_audit, user_target
from tui.engine.sample.scenario import (
    ATTACKER_LINUX_UA,
    ATTACKER_WINDOWS_UA,
    IDENTITY_CODES,
    POWERSHELL_UA,
    Scenario,
    token_of,
)
from tui.engine.sample.tokens import Issued
from tui.engine.sample.world import APP_EXCHANGE, APP_OWA, WINDOW_START, User, World, rand_uuid

# SPEC §10's action codes (the sample imports only core/: the catalogue's own list is
# tui.engine.indicators.actions.ACTION_CODES, which tests compare this with)
ACTION_CODES = (
    "INBOX_RULE",
    "MAIL_FORWARDING",
    "MAILBOX_PERMISSION",
    "AUDIT_TAMPERING",
    "AUTH_METHOD_CHANGE",
    "APP_CONSENT",
    "ROLE_ADD",
)
EXO_POWERSHELL = "fb78d390-0c51-40cd-8e17-fdbfab77341b"  # Exchange Online PowerShell (research §9.1)
EXCHANGE_PATH = "NAMPR09A004.PROD.OUTLOOK.COM/Microsoft Exchange Hosted Organizations"
FORWARD_TO = "ap.ledger@mailvault-relay.example"  # the AiTM crew's drop box, outside the organisation
ROGUE_APP = ("MailSync Desktop", "e9a7e2d4-3b35-4c1e-9a55-5d3c0b7f6a21")
GLOBAL_ADMIN = ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10", "TenantAdmins")
HELPDESK_ADMIN = ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8", None)
NEWSLETTER_FROM = "digest@govtech-weekly.example"


@dataclass
class Action:
    """One planted change and what truth.json says the engine must make of it."""

    name: str
    scenario: str
    label: str
    user: str
    session: str | None
    session_in_record: bool
    ip: str
    ts: int
    operation: str
    source: str
    record_id: str
    target: str
    codes: dict[str, str]
    evidence: tuple[str, ...]
    must_not_fire_at: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def entry(self, intrusion: bool) -> dict[str, object]:
        """truth.json's record of it."""
        out: dict[str, object] = {
            "name": self.name,
            "scenario": self.scenario,
            "label": self.label,
            "user": self.user,
            "session": self.session,
            "session_in_record": self.session_in_record,
            "ip": self.ip,
            "time": datetime.fromtimestamp(self.ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "operation": self.operation,
            "source": self.source,
            "record_id": self.record_id,
            "target": self.target,
            "expected_codes": self.codes,
            "evidence": list(self.evidence),
        }
        if not intrusion:
            out["must_not_fire"] = [c for c in (*ACTION_CODES, *IDENTITY_CODES) if c not in self.codes]
            out["must_not_fire_at"] = self.must_not_fire_at
        if self.note:
            out["note"] = self.note
        return out


@dataclass
class Persistence:
    """The planted changes: directory audits still to be written, and every action for truth.json."""

    audits: list[dict[str, object]] = field(default_factory=list)
    intrusions: list[Action] = field(default_factory=list)
    decoys: list[Action] = field(default_factory=list)
    routine: list[dict[str, object]] = field(default_factory=list)

    def truth(self) -> dict[str, object]:
        """truth.json's `actions` section."""
        return {
            "note": "what the intruders changed once in, and an administrator's ordinary changes in the "
            "baseline (SPEC §10's action indicators): each intrusion action fires exactly its expected "
            "codes at the expected severity; no decoy fires a code it must not, nor reaches the severity "
            "of must_not_fire_at. Directory changes (entra_audit.json) name no session: `session` is the "
            "one whose IP and time they were done from.",
            "codes": list(ACTION_CODES),
            "intrusions": [a.entry(True) for a in self.intrusions],
            "decoys": [a.entry(False) for a in self.decoys],
            "routine": {
                "note": "the directory's everyday records (entra_audit.json), all period: none is a change "
                "an action indicator marks",
                "records": len(self.routine),
                "activities": dict(
                    sorted(Counter(str(a["activityDisplayName"]) for a in self.routine).items())
                ),
                "must_not_fire": list(ACTION_CODES),
            },
        }


def _scenario(scenarios: list[Scenario], name: str) -> Scenario:
    return next(sc for sc in scenarios if sc.name == name)


def _role_props(role: tuple[str, str, str | None], object_id: str) -> list[dict[str, object]]:
    name, template, well_known = role
    props = [
        _changed("Role.ObjectID", object_id),
        _changed("Role.DisplayName", name),
        _changed("Role.TemplateId", template),
    ]
    if well_known:
        props.append(_changed("Role.WellKnownObjectName", well_known))
    return props


def plan_persistence(
    world: World, genuine: list[Issued], scenarios: list[Scenario], purview: PurviewBuilder, seed: int
) -> Persistence:
    """Write the Exchange records into `purview`; return the directory audits and truth's entries.
    Each intrusion scenario's facts gain `expected_action_codes`."""
    rng = random.Random(f"triage-sample:{seed}:identity-actions")
    org = purview.org_name
    out = Persistence()
    roles = {"Global Administrator": rand_uuid(rng), "Helpdesk Administrator": rand_uuid(rng)}

    # the adversary-in-the-middle's replayed session, in OWA from the replay IP
    aitm = _scenario(scenarios, "aitm_session_replay")
    owa = token_of(aitm.signins[2])
    phished, ip = owa.user, aitm.signins[2].place.ip
    rule_name = ".."
    t = aitm.signins[2].ts + 1512
    rule = purview.exchange_admin(
        rng,
        t,
        "New-InboxRule",
        owa,
        ip,
        [
            ("AlwaysDeleteOutlookRulesBlob", "False"),
            ("Force", "False"),
            ("SubjectOrBodyContainsWords", "invoice;payment;wire;remittance"),
            ("ForwardTo", FORWARD_TO),
            ("MoveToFolder", "RSS Feeds"),
            ("Name", rule_name),
            ("MarkAsRead", "True"),
            ("StopProcessingRules", "True"),
        ],
        f"{EXCHANGE_PATH}/{org}/{phished.mailbox_guid}\\{rule_name}",
        APP_EXCHANGE,
        0,
    )
    out.intrusions.append(
        Action(
            "aitm_forwarding_rule",
            aitm.name,
            "an inbox rule in the replayed session: mail about invoices forwarded outside the "
            "organisation, moved to RSS Feeds and marked as read",
            phished.upn,
            owa.sid,
            True,
            ip,
            t,
            "New-InboxRule",
            "purview_audit.csv",
            str(rule["Id"]),
            f"{phished.upn}\\{rule_name}",
            {"INBOX_RULE": "high"},
            (f"forwards to an external address {FORWARD_TO}", "moves to RSS Feeds and marks as read"),
        )
    )
    t += 122
    fwd = purview.exchange_admin(
        rng,
        t,
        "Set-Mailbox",
        owa,
        ip,
        [
            ("Identity", f"{EXCHANGE_PATH}/{org}/{phished.mailbox_guid}"),
            ("ForwardingSmtpAddress", f"smtp:{FORWARD_TO}"),
            ("DeliverToMailboxAndForward", "True"),
        ],
        phished.mailbox_guid,
        APP_EXCHANGE,
        0,
    )
    out.intrusions.append(
        Action(
            "aitm_mailbox_forwarding",
            aitm.name,
            "the mailbox set to forward everything outside the organisation (OWA's forwarding setting: "
            "the record names the mailbox by its GUID, as real ones do)",
            phished.upn,
            owa.sid,
            True,
            ip,
            t,
            "Set-Mailbox",
            "purview_audit.csv",
            str(fwd["Id"]),
            phished.mailbox_guid,
            {"MAIL_FORWARDING": "high"},
            (f"forwards to an external address {FORWARD_TO} (ForwardingSmtpAddress)",),
        )
    )
    t += 156
    app_name, app_id = ROGUE_APP
    sp_id = rand_uuid(rng)
    scopes = "Mail.ReadWrite Mail.Send offline_access User.Read"
    grant = (
        f"[] => [[Id: {rand_uuid(rng).replace('-', '')[:22]}, ClientId: {sp_id}, PrincipalId: {phished.oid}, "
        f"ResourceId: {rand_uuid(rng)}, ConsentType: Principal, Scope: {scopes}, "
        "CreatedDateTime: , LastModifiedDateTime ]]; "
    )
    consent = directory_audit(
        rng,
        t,
        phished,
        ip,
        ATTACKER_LINUX_UA,
        ("ApplicationManagement", "Core Directory", "Consent to application", "Assign"),
        {
            "id": sp_id,
            "displayName": app_name,
            "type": "ServicePrincipal",
            "userPrincipalName": None,
            "modifiedProperties": [
                _changed("ConsentContext.IsAdminConsent", "False"),
                _changed("ConsentContext.IsAppOnly", "False"),
                _changed("ConsentContext.OnBehalfOfAll", "False"),
                _changed("ConsentContext.Tags", "WindowsAzureActiveDirectoryIntegratedApp"),
                _changed("ConsentAction.Permissions", grant),
                _changed("TargetId.ServicePrincipalNames", app_id),
            ],
        },
        (("User-Agent", ATTACKER_LINUX_UA), ("AppId", app_id)),
    )
    out.audits.append(consent)
    out.intrusions.append(
        Action(
            "aitm_app_consent",
            aitm.name,
            "consent, from the replay IP, to a mail client application with read/write and send access "
            "to the mailbox and a refresh token (offline_access)",
            phished.upn,
            owa.sid,
            False,
            ip,
            t,
            "Consent to application",
            "entra_audit.json",
            str(consent["id"]),
            app_name,
            {"APP_CONSENT": "high"},
            (f"scopes {scopes}",),
        )
    )
    aitm.facts["expected_action_codes"] = ["APP_CONSENT", "INBOX_RULE", "MAIL_FORWARDING"]

    # the device-code phisher, on the device it registered, through the PRT's session
    code = _scenario(scenarios, "device_code_phishing")
    register = next(a for a in code.audits if a["activityDisplayName"] == "Register device")
    prt = code.signins[2]
    coded = prt.user
    out.intrusions.append(
        Action(
            "device_code_register_device",
            code.name,
            "the device registered with the device-code session's token (written with the sign-ins, "
            "issue 20)",
            coded.upn,
            code.signins[0].sid,
            False,
            code.signins[0].place.ip,
            _epoch(str(register["activityDateTime"])),
            "Register device",
            "entra_audit.json",
            str(register["id"]),
            str(register["targetResources"][0]["displayName"]),  # type: ignore[index]
            {"AUTH_METHOD_CHANGE": "high"},
            ("registered device",),
        )
    )
    t = prt.ts + 97
    info = directory_audit(
        rng,
        t,
        coded,
        prt.place.ip,
        ATTACKER_WINDOWS_UA,
        ("UserManagement", "Authentication Methods", "User registered security info", "Add"),
        user_target(coded, []),
        reason="User registered Authenticator App with Notification and Code",
    )
    out.audits.append(info)
    out.intrusions.append(
        Action(
            "device_code_security_info",
            code.name,
            "the attacker's own authenticator registered as the victim's security info, from the PRT's "
            "session on the registered device",
            coded.upn,
            prt.sid,
            False,
            prt.place.ip,
            t,
            "User registered security info",
            "entra_audit.json",
            str(info["id"]),
            coded.upn,
            {"AUTH_METHOD_CHANGE": "high"},
            ("User registered security info",),
        )
    )

    # the sprayed account: a Privileged Role Administrator without MFA, in its ROPC session
    spray = _scenario(scenarios, "password_spray")
    session = str(spray.facts["single_factor_session"])
    mine = [s for s in spray.signins if s.sid == session]
    sprayed, spray_ip = mine[0].user, mine[0].place.ip
    t = mine[0].ts + 298
    role = directory_audit(
        rng,
        t,
        sprayed,
        spray_ip,
        POWERSHELL_UA,
        ("RoleManagement", "Core Directory", "Add member to role", "Assign"),
        user_target(sprayed, _role_props(GLOBAL_ADMIN, roles["Global Administrator"])),
    )
    out.audits.append(role)
    out.intrusions.append(
        Action(
            "spray_global_admin",
            spray.name,
            "the sprayed account (a Privileged Role Administrator kept single-factor for scripts) adds "
            "itself to Global Administrator from the spraying IP, in its Azure AD PowerShell session",
            sprayed.upn,
            session,
            False,
            spray_ip,
            t,
            "Add member to role",
            "entra_audit.json",
            str(role["id"]),
            sprayed.upn,
            {"ROLE_ADD": "high"},
            (f"added {sprayed.upn} to role Global Administrator",),
        )
    )
    last = mine[-1]  # the second night's IMAP session: its reads end within 15 minutes
    t = last.ts + 15 * 60 + 330
    bypass = purview.exchange_admin(
        rng,
        t,
        "Set-MailboxAuditBypassAssociation",
        token_of(last),
        spray_ip,
        [("Identity", sprayed.upn), ("AuditBypassEnabled", "True")],
        sprayed.upn,
        EXO_POWERSHELL,
        2,
    )
    out.intrusions.append(
        Action(
            "spray_audit_bypass",
            spray.name,
            "after the second night's reads, the account exempts itself from mailbox auditing "
            "(Exchange Online PowerShell, same session, same IP)",
            sprayed.upn,
            session,
            True,
            spray_ip,
            t,
            "Set-MailboxAuditBypassAssociation",
            "purview_audit.csv",
            str(bypass["Id"]),
            sprayed.upn,
            {"AUDIT_TAMPERING": "critical"},
            ("AuditBypassEnabled True",),
        )
    )
    spray.facts["expected_action_codes"] = ["AUDIT_TAMPERING", "ROLE_ADD"]

    # the IT administrator's ordinary changes, in the baseline, from the office on the usual browser
    admin = _scenario(scenarios, "admin_device_code")
    admin_user = admin.signins[0].user
    office = admin_user.places[0]
    baseline = sorted(
        (
            tok
            for tok in genuine
            if tok.user.upn == admin_user.upn
            and tok.place == office
            and tok.sid
            and tok.iat < WINDOW_START.timestamp()
        ),
        key=lambda tok: tok.iat,
    )
    owa_tok = next(
        (tok for tok in baseline if tok.app == APP_OWA and tok.iat >= _day(5, 10)),
        baseline[len(baseline) // 3],
    )
    rule_name = "Newsletters"
    t = owa_tok.iat + 410
    news = purview.exchange_admin(
        rng,
        t,
        "New-InboxRule",
        owa_tok,
        office.ip,
        [
            ("AlwaysDeleteOutlookRulesBlob", "False"),
            ("Force", "False"),
            ("From", NEWSLETTER_FROM),
            ("MoveToFolder", rule_name),
            ("Name", rule_name),
            ("StopProcessingRules", "True"),
        ],
        f"{EXCHANGE_PATH}/{org}/{admin_user.mailbox_guid}\\{rule_name}",
        APP_EXCHANGE,
        2,
    )
    out.decoys.append(
        Action(
            "admin_newsletter_rule",
            admin.name,
            "the administrator's own rule filing a newsletter into a folder of that name, in an ordinary "
            "OWA session from the office",
            admin_user.upn,
            owa_tok.sid,
            True,
            office.ip,
            t,
            "New-InboxRule",
            "purview_audit.csv",
            str(news["Id"]),
            f"{admin_user.upn}\\{rule_name}",
            {"INBOX_RULE": "medium"},
            (f"moves to {rule_name} (mail from {NEWSLETTER_FROM})",),
            {"INBOX_RULE": "high"},
        )
    )
    colleague = _colleague(world, scenarios, rng)
    role_tok = next((tok for tok in baseline if tok.iat >= _day(5, 22)), baseline[-1])
    t = role_tok.iat + 1260
    helpdesk = directory_audit(
        rng,
        t,
        admin_user,
        office.ip,
        admin_user.browser,
        ("RoleManagement", "Core Directory", "Add member to role", "Assign"),
        user_target(colleague, _role_props(HELPDESK_ADMIN, roles["Helpdesk Administrator"])),
    )
    out.audits.append(helpdesk)
    out.decoys.append(
        Action(
            "admin_helpdesk_role",
            admin.name,
            "the administrator adds a colleague to Helpdesk Administrator from the office, on the usual "
            "browser, during one of their ordinary sessions",
            admin_user.upn,
            role_tok.sid,
            False,
            office.ip,
            t,
            "Add member to role",
            "entra_audit.json",
            str(helpdesk["id"]),
            colleague.upn,
            {"ROLE_ADD": "high"},
            (f"added {colleague.upn} to role Helpdesk Administrator",),
            {"ROLE_ADD": "critical"},
            "SPEC §10 fires ROLE_ADD (high) on every member added to a role: this decoy is not one for "
            "the code itself but for everything around it (an IP, device and session the administrator "
            "always uses: no identity indicator, nothing critical)",
        )
    )
    out.routine = routine_audits(genuine, rng)
    return out


def routine_audits(genuine: list[Issued], rng: random.Random) -> list[dict[str, object]]:
    """The directory's everyday records around the planted ones, all period: a member's device checking
    in minutes after they sign in on it (Core Directory's `Update device` on the Device Registration
    Service's behalf, its last logon time updated), after each day's first and last sign-in. None is a
    change SPEC §10 marks, and none names a user as its actor (a user's records would start their
    history, and so move what is "new to the user", earlier). Without them the directory log would be
    silent for days between the planted records, and the engine rightly calls such a silence a
    collection gap."""
    days: dict[str, list[Issued]] = {}
    for tok in genuine:
        if tok.interactive and not tok.user.guest:
            days.setdefault(datetime.fromtimestamp(tok.iat, timezone.utc).strftime("%F"), []).append(tok)
    out: list[dict[str, object]] = []
    for _, toks in sorted(days.items()):
        toks.sort(key=lambda tok: tok.iat)
        for tok in dict.fromkeys([toks[0], toks[-1]]):  # the day's first sign-in and its last
            when = tok.iat + rng.randrange(60, 900)
            user = tok.user
            correlation = rand_uuid(rng)
            out.append(
                {
                    "id": f"Directory_{correlation}_{rng.getrandbits(20):05X}_{rng.randrange(10**7, 10**8)}",
                    "category": "Device",
                    "correlationId": correlation,
                    "result": "success",
                    "resultReason": "",
                    "activityDisplayName": "Update device",
                    "activityDateTime": _iso7(when, rng),
                    "loggedByService": "Core Directory",
                    "operationType": "Update",
                    "initiatedBy": {
                        "user": None,
                        "app": {"appId": None, "displayName": "Device Registration Service"},
                    },
                    "userAgent": None,
                    "targetResources": [
                        {
                            "id": user.device_id,
                            "displayName": user.upn.split("@")[0].replace(".", "-")[:15].upper(),
                            "type": "Device",
                            "userPrincipalName": None,
                            "groupType": None,
                            "modifiedProperties": [
                                {
                                    "displayName": "Included Updated Properties",
                                    "oldValue": None,
                                    "newValue": json.dumps("ApproximateLastLogonTimestamp"),
                                }
                            ],
                        }
                    ],
                    "additionalDetails": [],
                }
            )
    return out


def _epoch(graph_time: str) -> int:
    """A Graph audit time (`2023-06-06T15:09:23.4471925Z`) to the second."""
    return int(datetime.fromisoformat(graph_time[:19]).replace(tzinfo=timezone.utc).timestamp())


def _day(month: int, day: int) -> int:
    return int(datetime(2023, month, day, tzinfo=timezone.utc).timestamp())


def _colleague(world: World, scenarios: list[Scenario], rng: random.Random) -> User:
    """A member no attack, decoy or forgery touches."""
    taken = {*world.victims, world.traveller, *(u for sc in scenarios for u in sc.users)}
    taken |= {str(u) for sc in scenarios for u in sc.facts.get("targets", [])}  # type: ignore[attr-defined]
    members = sorted((u for u in world.users if not u.guest and u.upn not in taken), key=lambda u: u.upn)
    return rng.choice(members)
