"""How well the behaviour model ranks what the sample planted (issue 22 point 5; SPEC §11).

    python bench/model_quality.py [--seeds 1 2 3] [--rows 20000 100000] [--top-k 3]

For each seed and size: `triage sample` writes a labelled incident (its forged-token intrusion, its
identity intrusions and their decoys, `truth.json`), the engine opens it as `triage open` does (every
event scored), and the window's events and users are ranked two ways:

- the model: an event's `anomaly` (bits); a user's `anomaly_score`;
- the fixed drift score: a user's `drift_score` (queries/drift.sql); an event's share of it, the same
  rule applied to one event (3 × a country new to the user + 2 × a new app id + 2 × a new client app
  id + 1 × a new IP + 1 × a new user agent + 4 × an hour of day the user never used, against the same
  baseline; 1 for a user without a baseline).

Labels come from truth.json, never from the engine: an event is the intruders' when it used a forged
token or opaque bearer (by its token's SHA-256 or uti), came from an IOC address, was done in an
identity intrusion's session or from its attacker addresses (between its first and last time), or is
a password-spray attempt from the spray's address (Identity Protection's detections are left out of
the events ranked: a detection about a user is evidence, not behaviour); a user is compromised when
a forged token named them or an identity intrusion took their account. Reports precision at k
(k = the number of positives, and 10 for users / 100 for events) and ROC AUC (ties counted half),
per run and pooled by mean.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tui.engine.analyses import tables  # noqa: E402
from tui.engine.analyses.model import score_events  # noqa: E402
from tui.engine.case.session import Session  # noqa: E402
from tui.engine.core.options import Options  # noqa: E402
from tui.engine.indicators.events_view import materialise_events  # noqa: E402
from tui.engine.sample.incident import run_sample  # noqa: E402

# One event's share of the fixed drift score (queries/drift.sql's weights), against the user's baseline
FIXED_EVENT_SQL = """
WITH b AS (SELECT be FROM model_split),
base AS (
    SELECT e."user", e.country, e.app_id, e.client_app_id, e.client_ip, e.user_agent, hour(e.ts) AS hr
    FROM events e, b
    WHERE e.ts < b.be AND e."user" IS NOT NULL
      AND NOT ((e.kind = 'entra_signin' AND coalesce(e.status, '0') NOT IN ('0', 'Success', 'success'))
               OR lower(coalesce(e.operation, '')) = 'userloginfailed')
),
has AS (SELECT DISTINCT "user" FROM base)
SELECT e.rn,
       CASE WHEN e."user" IS NULL OR e."user" NOT IN (SELECT "user" FROM has) THEN 1.0 ELSE
         3 * (e.country IS NOT NULL AND NOT EXISTS (SELECT 1 FROM base x WHERE x."user" = e."user" AND x.country = e.country))::INT
       + 2 * (e.app_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM base x WHERE x."user" = e."user" AND x.app_id = e.app_id))::INT
       + 2 * (e.client_app_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM base x WHERE x."user" = e."user" AND x.client_app_id = e.client_app_id))::INT
       + (e.client_ip IS NOT NULL AND NOT EXISTS (SELECT 1 FROM base x WHERE x."user" = e."user" AND x.client_ip = e.client_ip))::INT
       + (e.user_agent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM base x WHERE x."user" = e."user" AND x.user_agent = e.user_agent))::INT
       + 4 * (NOT EXISTS (SELECT 1 FROM base x WHERE x."user" = e."user" AND x.hr = hour(e.ts)))::INT
       END AS fixed
FROM events e, b WHERE e.ts >= b.be
"""  # noqa: E501


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def labels(truth: dict) -> tuple[dict, set[str]]:
    """What truth.json says was the intruders': the event rules (below) and the compromised users."""
    forged = {f["tok_sha256"] for f in truth["forged_tokens"]}
    forged |= {b["sha256"] for b in truth["opaque_bearers"]}
    utis = {f["uti"] for f in truth["forged_tokens"] if f.get("uti")}
    users = {f["victim"] for f in truth["forged_tokens"]}
    intrusions = []
    spray_ips = set()
    for i in truth["identity"]["intrusions"]:
        users |= set(i["users"])
        ips = set(i.get("attacker_ips") or i["ips"])
        intrusions.append((set(i["users"]), set(i["sessions"]), ips, _ts(i["from"]), _ts(i["until"])))
        if i["name"] == "password_spray":
            spray_ips.add(i["ip"])
    rules = {
        "forged": forged,
        "utis": utis,
        "iocs": set(truth["ioc_ips_used"]),
        "intrusions": intrusions,
        "spray": spray_ips,
    }
    return rules, users


def bad_event(rules: dict, ts, user, ip, session, sha, uti) -> bool:
    if sha in rules["forged"] or uti in rules["utis"] or ip in rules["iocs"] or ip in rules["spray"]:
        return True
    for users, sessions, ips, start, end in rules["intrusions"]:
        if user in users and ts is not None and start <= ts <= end and (session in sessions or ip in ips):
            return True
    return False


def auc(scores: list[float], positive: list[bool]) -> float:
    """ROC AUC: the chance a random positive outranks a random negative (ties half)."""
    ranked = sorted(zip(scores, positive, strict=True), key=lambda p: p[0])
    rank_sum, i, n = 0.0, 0, len(ranked)
    while i < n:
        j = i
        while j < n and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + 1 + j) / 2  # average rank of the tie group (1-based)
        rank_sum += mid * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    pos = sum(positive)
    neg = n - pos
    if not pos or not neg:
        return float("nan")
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def precision_at(scores: list[float], positive: list[bool], k: int) -> float:
    """Share of positives among the k highest scores (ties broken against the positives: honest)."""
    order = sorted(zip(scores, positive, strict=True), key=lambda p: (-p[0], p[1]))
    return sum(1 for _, p in order[:k] if p) / k if k else float("nan")


def run(seed: int, rows: int, top_k: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "incident"
        run_sample(folder, rows, seed, (), ())
        truth = json.loads((folder / "truth.json").read_text())
        rules, bad_users = labels(truth)
        options = Options() if top_k is None else dataclasses.replace(Options(), model_top_k=top_k)
        session = Session.open([str(folder)], options, materialise_events=False)
        try:
            con = session.con
            tables.build(con, session.annotation.split)
            materialise_events(con)
            score_events(con)
            fixed = dict(con.execute(FIXED_EVENT_SQL).fetchall())
            events = con.execute(
                'SELECT rn, ts, "user", client_ip, session_id, tok_sha256, token_id, coalesce(anomaly, 0) '
                "FROM events WHERE ts >= (SELECT be FROM model_split) AND kind <> 'risk_detection'"
            ).fetchall()
            users = con.execute('SELECT "user", anomaly_score, drift_score FROM drift').fetchall()
        finally:
            session.close()
    ev_pos = [bad_event(rules, *e[1:7]) for e in events]
    ev_model = [float(e[7]) for e in events]
    ev_fixed = [float(fixed.get(e[0], 0)) for e in events]
    us_pos = [u[0] in bad_users for u in users]
    us_model = [float(u[1]) for u in users]
    us_fixed = [float(u[2]) for u in users]
    npos_e, npos_u = sum(ev_pos), sum(us_pos)
    return {
        "seed": seed,
        "rows": rows,
        "events": len(events),
        "bad_events": npos_e,
        "users": len(users),
        "bad_users": npos_u,
        "events_auc": (auc(ev_model, ev_pos), auc(ev_fixed, ev_pos)),
        "events_p@R": (precision_at(ev_model, ev_pos, npos_e), precision_at(ev_fixed, ev_pos, npos_e)),
        "events_p@100": (precision_at(ev_model, ev_pos, 100), precision_at(ev_fixed, ev_pos, 100)),
        "users_auc": (auc(us_model, us_pos), auc(us_fixed, us_pos)),
        "users_p@R": (precision_at(us_model, us_pos, npos_u), precision_at(us_fixed, us_pos, npos_u)),
        "users_p@10": (precision_at(us_model, us_pos, 10), precision_at(us_fixed, us_pos, 10)),
    }


METRICS = ("events_auc", "events_p@R", "events_p@100", "users_auc", "users_p@R", "users_p@10")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--rows", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--top-k", type=int, default=None, help="model_top_k (default: Options')")
    args = parser.parse_args()
    results = [run(seed, rows, args.top_k) for rows in args.rows for seed in args.seeds]
    print("| seed | rows | window events (bad) | users (bad) | " + " | ".join(METRICS) + " |")
    print("|---" * (4 + len(METRICS)) + "|")
    for r in results:
        cells = " | ".join(f"{r[m][0]:.3f} / {r[m][1]:.3f}" for m in METRICS)
        counts = f"{r['events']} ({r['bad_events']}) | {r['users']} ({r['bad_users']})"
        print(f"| {r['seed']} | {r['rows']} | {counts} | {cells} |")
    means = " | ".join(
        f"{statistics.mean(r[m][0] for r in results):.3f} / {statistics.mean(r[m][1] for r in results):.3f}"
        for m in METRICS
    )
    print(f"| mean | | | | {means} |")
    print("\n(each cell: model / fixed drift score)")


if __name__ == "__main__":
    main()
