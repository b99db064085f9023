"""The behaviour model (SPEC §11): each identity's normal, learned from the baseline; every event
scored in bits and every score explained by the counts behind it.

Learning and scoring are SQL over counts, never per row in Python:

1. `model_combos`: the events grouped by user and the feature values below (what repeats in an
   export collapses: a user's thousand Outlook reads on weekday mornings are a few combinations).
   A row *teaches* the model (`learn`) when it is in the baseline, is not a failed sign-in (an
   attempt against the user, not the user's behaviour: it feeds PASSWORD_SPRAY, and is scored but
   never learned from) and carries no high or critical indicator (the model does not learn an
   intruder's habits from what hard evidence already called malicious).
2. Counts per feature value for each user, each peer group and the tenant, from the rows that teach.
3. Per event, for each feature with a value, P(value | user) smoothed and backed off user → peers →
   tenant (Dirichlet priors of strength `model_prior`, add-one at the tenant: a value no one used has
   1 / (tenant events + distinct values + 1)); `bits` = −log₂ of it. A user with fewer than
   `model_min_events` events to learn from is *learning*: scored against peers and tenant only, and
   labelled so. An event without a user is scored against the tenant and labelled `no user`. A row
   that teaches is scored leave-one-out (its own count taken out of the user's and the tenant's), so a
   baseline event is judged as a window event is: by everything else.
4. `anomaly` = Σ bits over the features, plus, for a window event, *recency*: a network the user
   last used d days before the window costs −log₂ P(gap ≥ d) over every gap between one user's
   consecutive days on one network in the baseline (a network dormant for two months and back is a
   surprise; daily use is not).

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

from tui.engine.analyses.model_features import FEATURES, GROUP, HOURS_OF_WEEK, feature_view
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
    """Learn every user's normal from the baseline and score what `scan` needs — the combinations of
    feature values that do not teach (the window's, failed sign-ins) — into `model_combos`,
    `model_bits`, `model_recency`, `model_scores` and `model_users`; `score_events` scores the rest
    (baseline events, leave-one-out) when the TUI needs every event. The module's docstring says how."""
    con.execute("CREATE OR REPLACE TABLE model_split AS SELECT ?::TIMESTAMP AS be", [baseline_end])
    feature_view(con)
    # 1. one pass over the events (GROUPING SETS): per user, feature value and whether the rows teach,
    #    their events and the successful window events among them (`wn`, for the user's reasons); the
    #    days each user used each network (recency); and what does not teach (the window, failed
    #    sign-ins) collapsed into combinations of user, hour of week and feature values — the rows
    #    that teach fold into one group per user there (their features NULLed): `scan` scores only
    #    the window, and `score_events` collapses the rest when the TUI scores every event.
    plain = [c for c in GROUP.split(", ") if c not in ("u", "failed", "phase", "learn")]
    folded = ", ".join(f"CASE WHEN learn THEN NULL ELSE {c} END AS w_{c}" for c in plain)
    combo_set = ", ".join(["u", *(f"w_{c}" for c in plain), "failed", "phase", "learn"])
    key_cols = [c for c, _ in FEATURES if c != "how"] + ["hw"]
    sets = ", ".join([f"({combo_set})", *(f"(u, learn, {c})" for c in key_cols), "(u, net, day, learn)"])
    # which feature a key row counts (the days set groups `net` too: it is no key)
    which = "CASE WHEN GROUPING(day) = 0 THEN NULL " + " ".join(
        f"WHEN GROUPING({c}) = 0 THEN '{'how' if c == 'hw' else c}'" for c in key_cols
    )
    value = "CASE WHEN GROUPING(day) = 0 THEN NULL " + " ".join(
        f"WHEN GROUPING({c}) = 0 THEN {'_m_how(hw)' if c == 'hw' else c}" for c in key_cols
    )
    # `_m_agg` and `_m_days` are plain tables, not TEMP ones: with the tables on disk (inputs past
    # 2 GiB, `core.db.connect`) they are written compressed to its file, where a TEMP table stays in
    # memory and its overflow goes to the spill uncompressed (at 100M rows the pass's output, ~110M
    # rows of 21 columns, took the spill folder past 20 GB: bench/RESULTS.md, "Session 16").
    con.execute(
        f"""CREATE OR REPLACE TABLE _m_agg AS
        SELECT GROUPING(w_{plain[0]}) = 0 AS is_combo, GROUPING(day) = 0 AS is_day,
               {which} END AS f, {value} END AS v, {combo_set}, net, day, count(*) AS n,
               coalesce(count(*) FILTER (WHERE phase = 'w' AND NOT failed), 0) AS wn
        FROM (SELECT *, {folded} FROM model_events)
        GROUP BY GROUPING SETS ({sets})"""
    )
    unfolded = ", ".join(f"w_{c} AS {c}" if c in plain else c for c in GROUP.split(", "))
    con.execute(
        f"""CREATE OR REPLACE TABLE model_combos AS
        SELECT row_number() OVER () AS cid, {unfolded}, n, _m_how(w_hw) AS how
        FROM _m_agg WHERE is_combo AND NOT learn"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE _m_days AS
        SELECT u, net, day FROM _m_agg WHERE is_day AND learn AND u <> '' AND net IS NOT NULL"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE model_keys AS
        SELECT f, u, learn, v, n, wn FROM _m_agg WHERE f IS NOT NULL AND v IS NOT NULL"""
    )
    # the pass's rows are all in the three tables above now: at 10M rows it held 11M rows of 21
    # columns, which outgrow the memory cap and stayed in the spill directory to the end of the run
    con.execute("DROP TABLE _m_agg")
    # 3. the counts: per user (`uc`, `un`), per peer group (`gc`, `gn`), the tenant (`tc`, `tn`, `k`)
    con.execute(
        "CREATE OR REPLACE TABLE model_uc AS SELECT u, f, v, n FROM model_keys WHERE learn AND u <> ''"
    )
    con.execute("CREATE OR REPLACE TABLE model_un AS SELECT u, f, sum(n) AS n FROM model_uc GROUP BY ALL")
    con.execute(
        "CREATE OR REPLACE TABLE model_tc AS "
        "SELECT f, v, sum(n) AS n FROM model_keys WHERE learn GROUP BY ALL"
    )
    con.execute(
        "CREATE OR REPLACE TABLE model_tn AS SELECT f, sum(n) AS n, count(*) AS k FROM model_tc GROUP BY f"
    )
    _peers(con)
    con.execute(
        """CREATE OR REPLACE TABLE model_gc AS
        SELECT coalesce(p.grp, '') AS grp, c.f, c.v, sum(c.n) AS n
        FROM model_uc c JOIN model_peers p USING (u) GROUP BY ALL"""
    )
    con.execute("CREATE OR REPLACE TABLE model_gn AS SELECT grp, f, sum(n) AS n FROM model_gc GROUP BY ALL")
    _recency(con)
    con.execute("DROP TABLE _m_days")
    # 4. bits and scores of what does not teach (the window): the users' scores and reasons need no more
    _bits(con, teaching=False)
    _scores(con, teaching=False)
    _users(con)


def _bits(con: duckdb.DuckDBPyConnection, teaching: bool) -> None:
    """`model_bits`: −log₂ P(value | user) for every user, feature value and whether its rows teach
    (`teaching`: scored leave-one-out, their own count out), backed off user → peers → tenant."""
    head = "INSERT INTO model_bits" if teaching else "CREATE OR REPLACE TABLE model_bits AS"
    con.execute(
        f"""{head}
        WITH c AS (
            SELECT k.u, k.f, k.v, k.learn, k.wn, CAST(k.learn AS INTEGER) AS self,
                   coalesce(uc.n, 0) AS uc, coalesce(un.n, 0) AS un,
                   -- peers: the group less the user (the users nothing sets apart are one group)
                   coalesce(gc.n, 0) - coalesce(uc.n, 0) AS ng,
                   coalesce(gn.n, 0) - coalesce(un.n, 0) AS gn_,
                   coalesce(tc.n, 0) AS tc, coalesce(tn.n, 0) AS tn,
                   CASE WHEN k.f = 'how' THEN {HOURS_OF_WEEK} ELSE coalesce(tn.k, 0) END AS kk,
                   coalesce(p.learning, true) AS learning, p.grp, o.prior
            FROM model_keys k
            CROSS JOIN model_options o
            LEFT JOIN model_peers p ON p.u = k.u
            LEFT JOIN model_uc uc ON uc.u = k.u AND uc.f = k.f AND uc.v = k.v
            LEFT JOIN model_un un ON un.u = k.u AND un.f = k.f
            LEFT JOIN model_gc gc ON gc.grp = coalesce(p.grp, '') AND gc.f = k.f AND gc.v = k.v
            LEFT JOIN model_gn gn ON gn.grp = coalesce(p.grp, '') AND gn.f = k.f
            LEFT JOIN model_tc tc ON tc.f = k.f AND tc.v = k.v
            LEFT JOIN model_tn tn ON tn.f = k.f
            WHERE k.learn = ?
        ),
        p AS (
            SELECT *, uc - self AS nu, un - self AS nun, tc - self AS nt, tn - self AS ntn,
                   (tc - self + 1) / (tn - self + kk + 1) AS p_t
            FROM c
        ),
        q AS (SELECT *, (ng + prior * p_t) / (gn_ + prior) AS p_g FROM p)
        SELECT u, f, v, learn, wn, learning, grp, nu, nun, ng, gn_ AS ngn, nt, ntn,
               -log2(CASE WHEN learning OR u = '' THEN p_g
                          ELSE (nu + prior * p_g) / (nun + prior) END) AS bits
        FROM q""",
        [teaching],
    )


def _scores(con: duckdb.DuckDBPyConnection, teaching: bool) -> None:
    """`model_scores`: each combination's anomaly — its features' bits (one lookup per feature: a join
    of the combinations, not of their rows) and, in the window, its network's recency."""
    head = "INSERT INTO model_scores" if teaching else "CREATE OR REPLACE TABLE model_scores AS"
    joins = "\n".join(
        f"LEFT JOIN model_bits b_{c} ON b_{c}.f = '{c}' AND b_{c}.u = c.u AND b_{c}.v = c.{c} "
        f"AND b_{c}.learn = c.learn"
        for c, _ in FEATURES
    )
    total = " + ".join(f"coalesce(b_{c}.bits, 0)" for c, _ in FEATURES)
    con.execute(
        f"""{head}
        SELECT c.cid, {", ".join(f"coalesce(b_{c}.bits, 0) AS b_{c}" for c, _ in FEATURES)},
               coalesce(r.bits, 0) AS b_recency, r.gap,
               round({total} + coalesce(r.bits, 0), 2)::DOUBLE AS anomaly,
               CASE WHEN c.u = '' THEN 'no user' WHEN coalesce(p.learning, true) THEN 'learning'
                    ELSE 'user' END AS basis
        FROM model_combos c
        {joins}
        LEFT JOIN model_peers p ON p.u = c.u
        LEFT JOIN model_recency r ON r.u = c.u AND r.net = c.net AND c.phase = 'w'
        WHERE c.learn = ?""",
        [teaching],
    )


def _peers(con: duckdb.DuckDBPyConnection) -> None:
    """`model_peers(u, events, learning, grp, peers)`: every user, the events the model learns from,
    whether that is too few (learning), and the peer group: the app or other mailbox most distinctive
    of the user (the module's docstring), NULL (the tenant) where none is."""
    con.execute(
        """CREATE OR REPLACE TABLE model_peers AS
        WITH users AS (  -- every user: the events it teaches (the hour of week is on every timed row)
            SELECT u, coalesce(sum(n) FILTER (WHERE learn), 0) AS events
            FROM model_keys WHERE u <> '' AND f = 'how' GROUP BY u
        ),
        total AS (SELECT count(*) AS users FROM users),
        items AS (
            SELECT u, 'app ' || v AS item, n FROM model_uc WHERE f = 'app'
            UNION ALL SELECT u, 'mailbox ' || v, n FROM model_uc WHERE f = 'mbx' AND v <> 'own'
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
    """`model_recency(u, net, gap, ge, total, bits)`: for each network a user used in the baseline,
    the days from its last use to the window's start, and what so long a gap costs a window event from
    it: −log₂ of the share of the baseline's gaps (one user's consecutive days on one network) at least
    as long. Reads the distinct (user, network, day) of the rows that teach (`_m_days`), not the rows."""
    con.execute(
        """CREATE OR REPLACE TABLE model_recency AS
        WITH d AS (SELECT u, net, day FROM _m_days),
        g AS (SELECT u, net, date_diff('day', lag(day) OVER (PARTITION BY u, net ORDER BY day), day) AS gap
              FROM d),
        h AS (SELECT gap, count(*) AS n FROM g WHERE gap IS NOT NULL GROUP BY gap),
        total AS (SELECT coalesce(sum(n), 0) AS total FROM h),
        last AS (
            SELECT u, net, date_diff('day', max(day), CAST(any_value(s.be) AS DATE)) AS gap
            FROM d CROSS JOIN model_split s GROUP BY u, net
        ),
        -- each baseline gap and each window-start gap, with how many baseline gaps are at least as
        -- long (a running sum down the gaps: an equi-join finds it, where an ASOF join would need Spark)
        cum AS (
            SELECT gap, sum(n) OVER (ORDER BY gap DESC) AS ge
            FROM (SELECT gap, sum(n) AS n
                  FROM (SELECT gap, n FROM h UNION ALL SELECT DISTINCT gap, 0 FROM last WHERE gap >= 1)
                  GROUP BY gap)
        )
        SELECT l.u, l.net, l.gap, coalesce(c.ge, 0) AS ge, t.total,
               -log2((coalesce(c.ge, 0) + 1) / (t.total + 1)) AS bits
        FROM last l CROSS JOIN total t LEFT JOIN cum c ON c.gap = l.gap
        WHERE l.gap >= 1"""
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
        vals AS (  -- the user's three most surprising feature values of successful window events
            SELECT u, f, v, wn AS events, bits, nu, nun, ng, ngn, nt, ntn, learning
            FROM model_bits WHERE wn > 0 AND NOT learn AND u <> '' AND bits >= 8
            QUALIFY row_number() OVER (PARTITION BY u ORDER BY bits DESC, wn DESC, f, v) <= 3
        ),
        stale AS (  -- and its three longest-unused networks back in the window
            SELECT r.u, r.net, r.gap, r.ge, r.total, r.bits, sum(c.n) AS events
            FROM model_recency r JOIN model_combos c ON c.u = r.u AND c.net = r.net
            WHERE c.phase = 'w' AND NOT c.failed AND r.bits >= 8
            GROUP BY r.u, r.net, r.gap, r.ge, r.total, r.bits
            QUALIFY row_number() OVER (PARTITION BY r.u ORDER BY r.bits DESC, events DESC, r.net) <= 3
        ),
        said AS (
            SELECT u, bits, events, f, v,
                   format('{{}} {{}} {{}}, seen in {{}} of {{}} tenant events ({{:.1f}} bits)', {names}, v,
                          CASE WHEN learning
                               THEN format('in {{}} of {{}} peer events (learning)', _m_n(ng), _m_n(ngn))
                               WHEN nu = 0 THEN format('never seen for this user (0 of {{}})', _m_n(nun))
                               ELSE format('in {{}} of {{}} of this user''s events', _m_n(nu), _m_n(nun)) END,
                          _m_n(nt), _m_n(ntn), bits) AS text
            FROM vals
            UNION ALL
            SELECT u, bits, events, 'recency', net,
                   format('network {{}} back, last used {{}} days before the window; {{}} of {{}} '
                          'baseline reuses waited that long ({{:.1f}} bits)',
                          net, gap, _m_n(ge), _m_n(total), bits)
            FROM stale
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
    teach(con)
    keys = " AND ".join(f"c.{k} IS NOT DISTINCT FROM e.{k}" for k in GROUP.split(", "))
    con.execute(
        f"""UPDATE {WORK_DB}.events_a AS a SET anomaly = x.anomaly
        FROM (SELECT e.rn, s.anomaly FROM model_events e
              JOIN model_combos c ON {keys}
              JOIN model_scores s ON s.cid = c.cid) x
        WHERE a.rn = x.rn"""
    )


def teach(con: duckdb.DuckDBPyConnection) -> None:
    """Score the combinations `learn` left out — the baseline's, leave-one-out — once, so every event
    has a score (`score_events`; `scan` too, for the flagged events it writes into case/)."""
    if not con.execute("SELECT count(*) FROM model_bits WHERE learn").fetchone()[0]:  # type: ignore[index]
        con.execute(
            f"""INSERT INTO model_combos
            SELECT (SELECT coalesce(max(cid), 0) FROM model_combos) + row_number() OVER (), *, _m_how(hw)
            FROM (SELECT {GROUP}, count(*) AS n FROM model_events WHERE learn GROUP BY ALL)"""
        )
        _bits(con, teaching=True)
        _scores(con, teaching=True)


__all__ = ["FEATURES", "feature_view", "learn", "score_events", "set_model_options", "teach"]
