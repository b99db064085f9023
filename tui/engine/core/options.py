"""Options shared by every command (SPEC §1), independent of how they were given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class Options:
    """What the analyst told us beyond the inputs; everything optional."""

    jwks: tuple[Path, ...] = ()
    tenants: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    iocs: tuple[Path, ...] = ()
    baseline_until: datetime | None = None
    window_days: int = 14
    mapping: dict[str, str] = field(default_factory=dict)
    tz: str = "UTC"
    include_secrets: bool = False
    replay_ip_bound: int = 3
    # SPEC §10's sign-in indicators (tui/engine/indicators/identity.py says how each is used)
    aitm_seconds: int = 30  # AITM_SIGNIN: the same session or user from another network within this
    spray_users: int = 5  # PASSWORD_SPRAY: failed users from one IP …
    spray_minutes: int = 60  # … within this many minutes
    travel_kmh: float = 900.0  # IMPOSSIBLE_TRAVEL: faster than this between two countries
    history_days: int = 7  # "new to the user" only once the user has this much history before
    # SPEC §11's behaviour model (tui/engine/analyses/model.py says how each is used)
    model_top_k: int = 3  # a user's anomaly_score: the sum of this many highest window-event anomalies
    model_prior: float = 5.0  # the weight, in events, of the peers' (and the tenant's) habits in a user's
    model_min_events: int = 30  # fewer events than this to learn from: the user is scored as learning


def parse_mapping(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn repeated `FIELD=COLUMN` strings into a dict, rejecting unknown fields."""
    from tui.engine.core.schema import MAPPABLE_FIELDS

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name = name.strip()
        if not sep or not name or not column:
            raise ValueError(f"--map expects FIELD=COLUMN, got {pair!r}")
        if name not in MAPPABLE_FIELDS:
            raise ValueError(f"--map: unknown field {name!r}; fields: {', '.join(MAPPABLE_FIELDS)}")
        out[name] = column
    return out
