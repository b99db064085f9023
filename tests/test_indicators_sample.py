"""SPEC point 8 on the sample incident: every forged token high or critical, no genuine one above medium."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_truth import identity_utis

from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.ingest import load as load_mod
from tui.engine.sample import incident as sample


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict[str, int], dict[str, set[str]]]:
    out = tmp_path_factory.mktemp("incident")
    sample.run_sample(out, 6000, 7, (), ())
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    truth["_folder"] = str(out)
    con = connect()
    report = load_mod.load(con, [str(out)], Options())
    annotate(Case.start(Options(), con), report)
    subjects = con.execute("SELECT DISTINCT tkey FROM events WHERE tkey IS NOT NULL").fetchall()
    rank: dict[str, int] = {tkey: 0 for (tkey,) in subjects}
    codes: dict[str, set[str]] = {tkey: set() for (tkey,) in subjects}
    for tkey, code, sev_rank in con.execute("SELECT tkey, code, sev_rank FROM token_indicators").fetchall():
        rank[tkey] = max(rank.get(tkey, 0), sev_rank)
        codes.setdefault(tkey, set()).add(code)
    con.close()
    return truth, rank, codes


def test_every_forged_token_is_high_or_critical(
    incident: tuple[dict, dict[str, int], dict[str, set[str]]],
) -> None:
    truth, rank, codes = incident
    assert truth["forged_tokens"]
    for forged in truth["forged_tokens"]:
        assert rank.get("sha256:" + forged["tok_sha256"], 0) >= 4, forged["kind_label"]
        assert rank.get("uti:" + forged["uti"], 0) >= 4, forged["kind_label"]
        if forged["kind"] in ("a", "b"):  # enterprise claims on a consumer key
            assert "KEY_SCOPE_MISMATCH" in codes["sha256:" + forged["tok_sha256"]]
            assert "NO_SIGNIN_RECORD" in codes["uti:" + forged["uti"]]


def test_no_genuine_token_above_medium(incident: tuple[dict, dict[str, int], dict[str, set[str]]]) -> None:
    truth, rank, codes = incident
    folder = Path(truth["_folder"])
    planted = {"sha256:" + f["tok_sha256"] for f in truth["forged_tokens"]}
    planted |= {"uti:" + f["uti"] for f in truth["forged_tokens"]}
    planted |= {"sha256:" + o["sha256"] for o in truth["opaque_bearers"]}
    planted |= {"uti:" + u for u in identity_utis(folder, truth)}  # the identity intrusions' tokens
    genuine = [k for k in rank if k not in planted]
    assert len(genuine) > 100
    too_high = {k: sorted(codes[k]) for k in genuine if rank[k] > 3}
    assert too_high == {}
    forbidden = set(truth["genuine"]["must_not_fire"])
    assert {k: codes[k] & forbidden for k in genuine if codes[k] & forbidden} == {}


def test_opaque_bearers_are_malformed(incident: tuple[dict, dict[str, int], dict[str, set[str]]]) -> None:
    truth, _, codes = incident
    for opaque in truth["opaque_bearers"]:
        assert "MALFORMED" in codes["sha256:" + opaque["sha256"]]
