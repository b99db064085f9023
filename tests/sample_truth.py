"""What a generated sample incident planted, read from its own files (truth.json and signins.json),
never from the engine: the tests compare the engine's findings with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def identity_utis(folder: Path, truth: dict[str, Any]) -> set[str]:
    """The token ids (uti) of the identity intrusions' sign-ins, failed attempts included."""
    ids: set[str] = set()
    for scenario in truth["identity"]["intrusions"]:
        for key in ("request_ids", "failed_request_ids", "prt_request_ids"):
            ids |= set(scenario.get(key) or [])
    doc = json.loads((folder / "signins.json").read_text(encoding="utf-8-sig"))
    records = doc["value"] if isinstance(doc, dict) else doc
    return {r["uniqueTokenIdentifier"] for r in records if r["id"] in ids and r.get("uniqueTokenIdentifier")}


def identity_users(truth: dict[str, Any]) -> set[str]:
    """The users whose sessions the identity intrusions took and read mail with."""
    return {
        u
        for scenario in truth["identity"]["intrusions"]
        if scenario.get("items_read")
        for u in scenario["users"]
    }
