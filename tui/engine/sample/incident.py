"""`triage sample DIR`: a reproducible Storm-0558-style incident, with truth.json naming what was planted."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import iptocc

from tui.engine.core.db import connect
from tui.engine.sample.audit import PurviewBuilder
from tui.engine.sample.entra_records import AUDITS_CONTEXT, RISKS_CONTEXT, sts_logon, write_page
from tui.engine.sample.gateway import GatewayWriter, Request, client, forged_requests, genuine_requests
from tui.engine.sample.identity import identity_truth, plan_identity
from tui.engine.sample.keys import CONSUMER_TID, build_keys
from tui.engine.sample.persistence import plan_persistence
from tui.engine.sample.scenario import Scenario
from tui.engine.sample.signins import from_token, write_signins
from tui.engine.sample.tokens import Issued, opaque_tickets, plan_forged, plan_genuine
from tui.engine.sample.truth import build_truth
from tui.engine.sample.world import END, IOC_UAS, START, STORM_IPS, build_world

FILES = (
    "gateway.parquet",
    "purview_audit.csv",
    "signins.json",
    "entra_audit.json",
    "risk_detections.json",
    "jwks.json",
    "truth.json",
)
MEAN_ROWS_PER_TOKEN = 30.0
OPAQUE_ROWS = 2  # per opaque ticket


def run_sample(
    out_dir: Path, rows: int, seed: int, tenants: tuple[str, ...], domains: tuple[str, ...]
) -> tuple[str, int]:
    """Write the sample's files (FILES) into `out_dir`; returns a short summary and the exit code."""
    if out_dir.exists() and not out_dir.is_dir():
        return f"error: {out_dir} exists and is not a directory", 2
    out_dir.mkdir(parents=True, exist_ok=True)
    world = build_world(seed, tenants, domains)
    keys = build_keys(seed)
    rng = random.Random(f"triage-sample:{seed}:events")
    sp_host = world.domain.split(".")[0].replace("-", "") + ".sharepoint.com"

    forged_reads = max(12, rows * 15 // 10_000)
    forged = plan_forged(world, keys, forged_reads, rng, STORM_IPS)
    tickets = opaque_tickets(rng)
    genuine_rows = max(rows - sum(t.rows + len(t.ips) for t in forged) - OPAQUE_ROWS * len(tickets), 0)
    count = max(len(world.users) * 6, round(genuine_rows / MEAN_ROWS_PER_TOKEN))
    mean = max(3.5, genuine_rows / count)
    genuine = plan_genuine(world, keys, count, mean, rng)

    con = connect(memory_limit="400MB", threads=1)
    con.execute("SET preserve_insertion_order = true")
    gateway = GatewayWriter(con)
    purview = PurviewBuilder(con, world.tenant, world.domain)
    for tok in genuine:
        reqs = genuine_requests(tok, rng, sp_host)
        anchor = None if tok.user.guest else f"SMTP:{tok.user.upn}"
        for req in reqs:
            bearer = None if req.op == "anon" else "Bearer " + tok.token
            gateway.add(req, client(tok.place.ip, rng), tok.ua, bearer, None if bearer is None else anchor)
        purview.genuine(rng, tok, reqs, sp_host)

    forged_stats: dict[str, dict[str, int]] = {}
    for tok in forged:
        before_rows = gateway.rows
        before_audit = purview.count.get("MailItemsAccessed", 0)
        reads = 0
        for j, ip in enumerate(tok.ips):
            start = tok.iat + 180 + j * (tok.exp - tok.iat - 600) // len(tok.ips)
            reqs = forged_requests(_with_rows(tok, tok.rows // len(tok.ips)), rng, start)
            for req in reqs:
                gateway.add(req, client(ip, rng), tok.ua, "Bearer " + tok.token, f"SMTP:{tok.user.upn}")
            purview.forged(rng, tok, reqs, ip)
            reads += sum(1 for r in reqs if r.read)
        forged_stats[tok.sha256] = {
            "gateway_rows": gateway.rows - before_rows,
            "audit_records": purview.count.get("MailItemsAccessed", 0) - before_audit,
            "items_read": reads,
        }

    probe_start = int(forged[0].iat) + 5 * 86400 + 1500
    for i, ticket in enumerate(tickets):
        for k in range(OPAQUE_ROWS):
            t_ms = (probe_start + i * 47 + k * 9) * 1000
            req = Request(
                t_ms,
                "POST",
                "https://outlook.office.com/owa/service.svc?action=GetConversationItems&app=Mail&n=1",
                401,
                0,
                None,
                "probe",
            )
            gateway.add(
                req, client(STORM_IPS[3], rng), IOC_UAS[0], "Bearer " + ticket, f"SMTP:{world.victims[2]}"
            )

    # The identity attacks and decoys: sign-ins, mail reads and logons of their own, from their own
    # seeded streams, so the token incident above comes out the same with or without them.
    scenarios = plan_identity(world, genuine, seed)
    id_rng = random.Random(f"triage-sample:{seed}:identity-audit")
    for sc in scenarios:
        for read in sc.reads:
            purview.mail_access(
                id_rng,
                read.tok,
                read.requests(),
                read.ip,
                read.client_info,
                read.app_id,
                read.client_app_id,
                16,
            )
        for logon in sc.logons:
            sts_logon(purview, logon, world.tenant, id_rng)
    # what the intruders changed once in, and an administrator's ordinary changes (issue 21)
    persistence = plan_persistence(world, genuine, scenarios, purview, seed)

    paths = {name: out_dir / name for name in FILES}
    gateway.write(paths["gateway.parquet"])
    n_audit = purview.write(paths["purview_audit.csv"])
    con.close()
    sign_rng = random.Random(f"triage-sample:{seed}:signins")
    signins = [from_token(tok, sign_rng) for tok in genuine] + [s for sc in scenarios for s in sc.signins]
    with paths["signins.json"].open("w", encoding="utf-8", newline="\n") as fh:
        ids = write_signins(fh, signins, sign_rng, world.tenant)
    n_signins = len(ids)
    audits = [a for sc in scenarios for a in sc.audits] + persistence.audits + persistence.routine
    audits.sort(key=lambda a: str(a["activityDateTime"]))
    n_dir = write_page(paths["entra_audit.json"], AUDITS_CONTEXT, audits)
    n_risk = write_page(
        paths["risk_detections.json"], RISKS_CONTEXT, [r for sc in scenarios for r in sc.risks]
    )
    jwks = {"keys": [k.jwk() for k in keys.values()]}
    paths["jwks.json"].write_text(json.dumps(jwks, indent=2) + "\n", encoding="utf-8")

    countries = {ip: str(cc) for ip, cc in zip(STORM_IPS, iptocc.country_code(list(STORM_IPS)), strict=True)}
    truth = build_truth(
        world=world,
        keys=keys,
        seed=seed,
        rows=rows,
        genuine=genuine,
        forged=forged,
        forged_stats=forged_stats,
        tickets=[(hashlib.sha256(t.encode()).hexdigest(), OPAQUE_ROWS) for t in tickets],
        countries=countries,
        counts={
            "gateway.parquet": gateway.rows,
            "purview_audit.csv": n_audit,
            "signins.json": n_signins,
            "entra_audit.json": n_dir,
            "risk_detections.json": n_risk,
            "jwks.json": len(jwks["keys"]),
        },
        audit_ops=dict(sorted(purview.count.items())),
        identity=identity_truth(scenarios, world, genuine, ids),
    )
    truth["actions"] = persistence.truth()
    paths["truth.json"].write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return _summary(
        out_dir,
        seed,
        world.tenant,
        world.domain,
        gateway.rows,
        genuine,
        forged,
        tickets,
        n_audit,
        purview.count,
        n_signins,
        len(jwks["keys"]),
        world.victims,
        scenarios,
        (n_dir, n_risk),
    ), 0


def _with_rows(tok: Issued, rows: int) -> Issued:
    from dataclasses import replace

    return replace(tok, rows=max(2, rows))


def _summary(
    out_dir: Path,
    seed: int,
    tenant: str,
    domain: str,
    gw_rows: int,
    genuine: list[Issued],
    forged: list[Issued],
    tickets: list[str],
    n_audit: int,
    ops: dict[str, int],
    n_signins: int,
    n_keys: int,
    victims: tuple[str, ...],
    scenarios: list[Scenario],
    entra: tuple[int, int],
) -> str:
    kinds = {k: sum(1 for t in forged if t.forged == k) for k in ("a", "b", "c")}
    lines = [
        f"Wrote a synthetic incident to {out_dir} (seed {seed}), {START:%Y-%m-%d} to {END:%Y-%m-%d} UTC:",
        f"  gateway.parquet    {gw_rows:>9,} requests; {len(genuine):,} genuine tokens, {len(forged)} forged "
        f"(consumer key {kinds['a']}, stolen kid {kinds['b']}, consumer token {kinds['c']}), "
        f"{len(tickets)} opaque EwB tickets",
        f"  purview_audit.csv  {n_audit:>9,} records ({ops.get('MailItemsAccessed', 0):,} MailItemsAccessed)",
        f"  signins.json       {n_signins:>9,} sign-ins (Graph beta; the genuine tokens' and "
        f"{sum(len(sc.signins) for sc in scenarios)} of the identity attacks and decoys)",
        f"  entra_audit.json   {entra[0]:>9} directory audit records (a device registered, security info, "
        "a consent, two roles added; devices updated)",
        f"  risk_detections.json {entra[1]:>7} Identity Protection detections",
        f"  jwks.json          {n_keys:>9} keys (2 enterprise, rotated; 3 consumer incl. the stolen kid)",
        "  truth.json         what was planted",
        f"  organisation: tenant {tenant}, domain {domain}; consumer tenant {CONSUMER_TID}",
        f"  victims: {', '.join(victims)}",
    ]
    for sc in scenarios:
        kind = "identity attack" if sc.intrusion else "decoy"
        lines.append(f"  {kind} {sc.name}: {', '.join(sc.users)}")
    return "\n".join(lines)
