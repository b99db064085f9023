"""The behaviour model (SPEC §11): each identity's normal, learned from the baseline; every event
scored in bits and every score explained by the counts behind it.

Learning and scoring are SQL over counts, never per row in Python:

1. `model_combos`: the events grouped by user, day, hour and the feature values below (what
   repeats in an export collapses: a user's hundred Outlook syncs an hour are one combination with
   n = 100). A row *teaches* the model (`learn`) when it is in the baseline, is not a failed sign-in
   (an attempt against the user, not the user's behaviour: it feeds PASSWORD_SPRAY, and is scored
   but never learned from) and carries no high or critical indicator (the model does not learn an
   intruder's habits from what hard evidence already called malicious).
2. Counts per feature value for each user, each peer group and the tenant, from the rows that teach.
3. Per event, for each feature with a value, P(value | user) smoothed and backed off user → peers →
   tenant (Dirichlet priors of strength `model_prior`, add-one at the tenant: a value no one used has
   1 / (tenant events + distinct values + 1)); `bits` = −log₂ of it. A user with fewer than
   `model_min_events` events to learn from is *learning*: scored against peers and tenant only, and
   labelled so. An event without a user is scored against the tenant and labelled `no user`. A row
   that teaches is scored leave-one-out (its own count taken out of the user's and the tenant's), so a
   baseline event is judged as a window event is: by everything else.
4. `anomaly` = Σ bits over the features, plus *recency*: a network the user used before, whose last
   use lies d days back, costs −log₂ P(gap ≥ d) over every gap between one user's consecutive days on
   one network in the baseline (a network dormant for two months and back is a surprise; daily use is not).

Features (SPEC §11): country, network (IPv4 /24, IPv6 /48; no ASN: no package ships an offline ASN
table fit for this — see README), app id, client app id, user-agent family (OS and browser, else
the product token: `python-requests`, `Microsoft Office`), device id, operation, the mailbox
(`own`, else the other mailbox's address: reading a mailbox the user never reads is the surprise),
hour of week (UTC) — the features are summed as if independent (naive Bayes): a new network in a
new country counts twice, which ranks a foreign intruder higher, as an analyst would.

Peers come from the data, deterministically: each user's peer group is the app or other mailbox
most distinctive of them (share of their events × log₂(users ÷ users of the item), items used by
at least two users and not by all; ties by name); users nothing sets apart are each
other's peers.

Users (`model_users`): `anomaly_score` = the sum of the `model_top_k` highest window-event
anomalies (the window's successful events), `anomalies` the top reasons, in words with the counts.
"""

from __future__ import annotations

import duckdb

from tui.engine.analyses.model_features import COLS, FEATURES, GROUP, HOURS_OF_WEEK, feature_view
from tui.engine.core.options import Options
from tui.engine.indicators.events_view import events_materialised
from tui.engine.ingest.work import WORK_DB


def set_model_options(con: duckdb.DuckDBPyConnection, options: Options) -> None:
    """Keep the model's bounds beside the data (`model_options`), for every later (re)learn."""
    con.execute(
        "CREATE OR REPLACE TABLE model_options AS SELECT ?::INTEGER AS top_k, ?::DOUBLE AS prior, "
        "?::INTEGER AS min_events",
        [options.model_top_k, options.model_prior, options.model_min_events],
    )


def learn(con: duckdb.DuckDBPyConnection, baseline_end: object) -> None:
    """Learn every user's normal from the baseline and score every combination of feature values
    (`model_combos`, `model_bits`, `model_recency`, `model_users`): the module's docstring says how."""
    con.execute("CREATE OR REPLACE TABLE model_split AS SELECT ?::TIMESTAMP AS be", [baseline_end])
    feature_view(con)
    # 1. what repeats collapses: one row per user, day, hour and feature values (`how`: hour of week)
    con.execute(
        f"""CREATE OR REPLACE TABLE model_combos AS
        SELECT row_number() OVER () AS cid, *, CASE WHEN day IS NOT NULL
                   THEN CASE WHEN isodow(day) >= 6 THEN 'weekend ' ELSE 'weekday ' END
                        || lpad(CAST(hr AS VARCHAR), 2, '0') || 'h UTC' END AS how
        FROM (SELECT {GROUP}, count(*) AS n FROM model_events GROUP BY ALL)"""
    )
    # 2. one row per combination and feature value; the counts of the rows that teach
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _m_long AS
        SELECT cid, u, learn, f, v, n FROM (
            UNPIVOT (SELECT cid, u, learn, n, {COLS} FROM model_combos) ON {COLS} INTO NAME f VALUE v)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _m_uc AS
        SELECT u, f, v, sum(n) AS n FROM _m_long WHERE learn AND u <> '' GROUP BY ALL"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _m_un AS SELECT u, f, sum(n) AS n FROM _m_uc GROUP BY ALL")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _m_tc AS SELECT f, v, sum(n) AS n FROM _m_long WHERE learn GROUP BY ALL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _m_tn AS SELECT f, sum(n) AS n, count(*) AS k FROM _m_tc GROUP BY f"
    )
    _peers(con)
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _m_gc AS
        SELECT coalesce(p.grp, '') AS grp, c.f, c.v, sum(c.n) AS n
        FROM _m_uc c JOIN model_peers p USING (u) GROUP BY ALL"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE _m_gn AS SELECT grp, f, sum(n) AS n FROM _m_gc GROUP BY ALL")
    # 3. bits per user, feature value and whether the row teaches (leave-one-out: its own count out)
    con.execute(
        f"""CREATE OR REPLACE TABLE model_bits AS
        WITH k AS (SELECT DISTINCT u, f, v, learn FROM _m_long),
        c AS (
            SELECT k.u, k.f, k.v, k.learn, CAST(k.learn AS INTEGER) AS self,
                   coalesce(uc.n, 0) AS uc, coalesce(un.n, 0) AS un,
                   -- peers: the group less the user (the users nothing sets apart are one group)
                   coalesce(gc.n, 0) - coalesce(uc.n, 0) AS ng,
                   coalesce(gn.n, 0) - coalesce(un.n, 0) AS gn_,
                   coalesce(tc.n, 0) AS tc, coalesce(tn.n, 0) AS tn,
                   CASE WHEN k.f = 'how' THEN {HOURS_OF_WEEK} ELSE coalesce(tn.k, 0) END AS kk,
                   coalesce(p.learning, true) AS learning, p.grp, o.prior
            FROM k
            CROSS JOIN model_options o
            LEFT JOIN model_peers p ON p.u = k.u
            LEFT JOIN _m_uc uc ON uc.u = k.u AND uc.f = k.f AND uc.v = k.v
            LEFT JOIN _m_un un ON un.u = k.u AND un.f = k.f
            LEFT JOIN _m_gc gc ON gc.grp = coalesce(p.grp, '') AND gc.f = k.f AND gc.v = k.v
            LEFT JOIN _m_gn gn ON gn.grp = coalesce(p.grp, '') AND gn.f = k.f
            LEFT JOIN _m_tc tc ON tc.f = k.f AND tc.v = k.v
            LEFT JOIN _m_tn tn ON tn.f = k.f
        ),
        p AS (
            SELECT *, uc - self AS nu, un - self AS nun, tc - self AS nt, tn - self AS ntn,
                   (tc - self + 1) / (tn - self + kk + 1) AS p_t
            FROM c
        ),
        q AS (SELECT *, (ng + prior * p_t) / (gn_ + prior) AS p_g FROM p)
        SELECT u, f, v, learn, learning, grp, nu, nun, ng, gn_ AS ngn, nt, ntn,
               -log2(CASE WHEN learning OR u = '' THEN p_g
                          ELSE (nu + prior * p_g) / (nun + prior) END) AS bits
        FROM q"""
    )
    _recency(con)
    # 4. a combination's anomaly: its features' bits and the recency of its network
    pivot = ", ".join(f"coalesce(sum(b.bits) FILTER (WHERE l.f = '{c}'), 0) AS b_{c}" for c, _ in FEATURES)
    total = " + ".join(f"coalesce(x.b_{c}, 0)" for c, _ in FEATURES)
    con.execute(
        f"""CREATE OR REPLACE TABLE model_scores AS
        SELECT c.cid, {", ".join(f"coalesce(x.b_{c}, 0) AS b_{c}" for c, _ in FEATURES)},
               coalesce(r.bits, 0) AS b_recency, r.gap,
               round({total} + coalesce(r.bits, 0), 2)::DOUBLE AS anomaly,
               CASE WHEN c.u = '' THEN 'no user' WHEN coalesce(p.learning, true) THEN 'learning'
                    ELSE 'user' END AS basis
        FROM model_combos c
        LEFT JOIN (SELECT l.cid, {pivot} FROM _m_long l
                   JOIN model_bits b ON b.u = l.u AND b.f = l.f AND b.v = l.v AND b.learn = l.learn
                   GROUP BY l.cid) x ON x.cid = c.cid
        LEFT JOIN model_peers p ON p.u = c.u
        LEFT JOIN model_recency r ON r.u = c.u AND r.net = c.net AND r.day = c.day"""
    )
    _users(con)


def _peers(con: duckdb.DuckDBPyConnection) -> None:
    """`model_peers(u, events, learning, grp, peers)`: every user, the events the model learns from,
    whether that is too few (learning), and the peer group: the app or other mailbox most distinctive
    of the user (the module's docstring), NULL (the tenant) where none is."""
    con.execute(
        """CREATE OR REPLACE TABLE model_peers AS
        WITH users AS (
            SELECT u, coalesce(sum(n) FILTER (WHERE learn), 0) AS events
            FROM model_combos WHERE u <> '' GROUP BY u
        ),
        total AS (SELECT count(*) AS users FROM users),
        items AS (
            SELECT u, 'app ' || v AS item, n FROM _m_uc WHERE f = 'app'
            UNION ALL SELECT u, 'mailbox ' || v, n FROM _m_uc WHERE f = 'mbx' AND v <> 'own'
        ),
        spread AS (SELECT item, count(*) AS users FROM items GROUP BY item),
        scored AS (
            SELECT i.u, i.item, i.n / us.events * log2(t.users / s.users) AS score
            FROM items i JOIN spread s USING (item) JOIN users us USING (u) CROSS JOIN total t
            WHERE s.users >= 2 AND s.users < t.users
        ),
        best AS (SELECT u, first(item ORDER BY score DESC, item) AS grp FROM scored GROUP BY u)
        SELECT us.u, us.events, us.events < o.min_events AS learning, b.grp,
               count(*) OVER (PARTITION BY coalesce(b.grp, '')) - 1 AS peers
        FROM users us CROSS JOIN total t CROSS JOIN model_options o LEFT JOIN best b USING (u)"""
    )


def _recency(con: duckdb.DuckDBPyConnection) -> None:
    """`model_recency(u, net, day, gap, ge, total, bits)`: for each day a user used a network, the days
    since the user's last use of it that taught the model, and what so long a gap costs: −log₂ of the
    share of the baseline's gaps (one user's consecutive days on one network) at least as long."""
    con.execute(
        """CREATE OR REPLACE TABLE model_recency AS
        WITH d AS (
            SELECT u, net, day, bool_or(learn) AS learn FROM model_combos
            WHERE u <> '' AND net IS NOT NULL AND day IS NOT NULL GROUP BY ALL
        ),
        g AS (
            SELECT *, day - max(CASE WHEN learn THEN day END) OVER (
                       PARTITION BY u, net ORDER BY day
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gap
            FROM d
        ),
        h AS (SELECT gap, count(*) AS n FROM g WHERE learn AND gap IS NOT NULL GROUP BY gap),
        cum AS (SELECT gap, sum(n) OVER (ORDER BY gap DESC) AS ge FROM h),
        total AS (SELECT coalesce(sum(n), 0) AS total FROM h)
        SELECT g.u, g.net, g.day, g.gap, coalesce(c.ge, 0) AS ge, t.total,
               -log2((coalesce(c.ge, 0) + 1) / (t.total + 1)) AS bits
        FROM g CROSS JOIN total t ASOF LEFT JOIN cum c ON g.gap <= c.gap
        WHERE g.gap IS NOT NULL"""
    )


def _users(con: duckdb.DuckDBPyConnection) -> None:
    """`model_users("user", anomaly_score, max_anomaly, anomalies, basis)`: each user with successful
    window events: the sum of the top-k window-event anomalies and the top three reasons."""
    names = "CASE " + " ".join(f"WHEN f = '{c}' THEN '{n}'" for c, n in FEATURES) + " END"
    con.execute(
        f"""CREATE OR REPLACE TABLE model_users AS
        WITH w AS (
            SELECT c.u, c.n, s.anomaly, sum(c.n) OVER (PARTITION BY c.u ORDER BY s.anomaly DESC, c.cid
                                                     ROWS UNBOUNDED PRECEDING) AS upto
            FROM model_combos c JOIN model_scores s USING (cid)
            WHERE c.phase = 'w' AND NOT c.failed AND c.u <> ''
        ),
        top AS (
            SELECT w.u,
                   round(sum(least(w.n, greatest(o.top_k - (w.upto - w.n), 0)) * w.anomaly), 2)::DOUBLE
                       AS score,
                   max(w.anomaly) AS max_anomaly, sum(w.n) AS scored_events
            FROM w CROSS JOIN model_options o GROUP BY w.u
        ),
        vals AS (  -- each feature value of the user's window events: its bits, counts and events
            SELECT l.u, l.f, l.v, sum(l.n) AS events, any_value(b.bits) AS bits, any_value(b.nu) AS nu,
                   any_value(b.nun) AS nun, any_value(b.ng) AS ng, any_value(b.ngn) AS ngn,
                   any_value(b.nt) AS nt, any_value(b.ntn) AS ntn, any_value(b.learning) AS learning
            FROM _m_long l
            JOIN model_combos c USING (cid)
            JOIN model_bits b ON b.u = l.u AND b.f = l.f AND b.v = l.v AND b.learn = l.learn
            WHERE c.phase = 'w' AND NOT c.failed AND l.u <> ''
            GROUP BY ALL
        ),
        said AS (
            SELECT u, bits, events, f, v,
                   format('{{}} {{}} {{}}, seen in {{}} of {{}} tenant events ({{:.1f}} bits)', {names}, v,
                          CASE WHEN learning
                               THEN format('in {{}} of {{}} peer events (learning)', _m_n(ng), _m_n(ngn))
                               WHEN nu = 0 THEN format('never seen for this user (0 of {{}})', _m_n(nun))
                               ELSE format('in {{}} of {{}} of this user''s events', _m_n(nu), _m_n(nun)) END,
                          _m_n(nt), _m_n(ntn), bits) AS text
            FROM vals WHERE bits >= 8
            UNION ALL
            SELECT r.u, r.bits, sum(c.n), 'recency', r.net,
                   format('network {{}} back after {{}} days, a gap {{}} of {{}} baseline reuses reached '
                          '({{:.1f}} bits)', r.net, r.gap, _m_n(r.ge), _m_n(r.total), r.bits)
            FROM model_recency r JOIN model_combos c ON c.u = r.u AND c.net = r.net AND c.day = r.day
            WHERE c.phase = 'w' AND NOT c.failed AND r.bits >= 8
            GROUP BY r.u, r.net, r.gap, r.ge, r.total, r.bits
        ),
        reasons AS (
            SELECT u, array_to_string(list(text ORDER BY bits DESC, events DESC, f, v)[1:3], '; ')
                       AS anomalies
            FROM said GROUP BY u
        )
        SELECT t.u AS "user", t.score AS anomaly_score, t.max_anomaly, t.scored_events,
               coalesce(r.anomalies, '') AS anomalies,
               CASE WHEN p.learning THEN 'learning' ELSE 'user' END AS basis
        FROM top t LEFT JOIN reasons r USING (u) LEFT JOIN model_peers p USING (u)"""
    )


def score_events(con: duckdb.DuckDBPyConnection) -> None:
    """Every event's `anomaly` in the stored Events rows (`events_a`, the TUI's; `scan` needs only the
    users' scores), from the last `learn`: one UPDATE, so a pane reads the old scores or the new."""
    if not events_materialised(con):
        return
    keys = " AND ".join(f"c.{k} IS NOT DISTINCT FROM e.{k}" for k in GROUP.split(", "))
    con.execute(
        f"""UPDATE {WORK_DB}.events_a AS a SET anomaly = x.anomaly
        FROM (SELECT e.rn, s.anomaly FROM model_events e
              JOIN model_combos c ON {keys}
              JOIN model_scores s ON s.cid = c.cid) x
        WHERE a.rn = x.rn"""
    )


__all__ = ["FEATURES", "feature_view", "learn", "score_events", "set_model_options"]
