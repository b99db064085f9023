"""What an indicator needs loaded (`Indicator.needs`): the catalogue skips an indicator whose needs
are absent (the Spark engine spent 15-20 s planning each action indicator on a gateway log), so the
claim that it could return no row is checked here on each of the sample's logs alone: every
indicator skipped there, run anyway, returns no row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui.engine.case.annotate import annotate
from tui.engine.case.context import Case
from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.indicators.actions import ACTION_CODES
from tui.engine.indicators.catalogue import CATALOGUE
from tui.engine.indicators.indicator import NEEDS
from tui.engine.ingest.load import load

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs"
SIGNIN_CODES = {
    "NO_SIGNIN_RECORD",
    "MFA_CLAIM_UNBACKED",
    "SINGLE_FACTOR_ACCESS",
    "DEVICE_CODE_FLOW",
    "PRT_NEW_DEVICE",
    "SESSION_REPLAY",
    "AITM_SIGNIN",
    "LEGACY_AUTH",
}
TOKEN_CODES = {
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
    "USED_EXPIRED",
    "USED_BEFORE_NBF",
    "SUBJECT_MISMATCH",
}


@pytest.mark.parametrize(
    ("files", "absent"),
    [
        (("gateway.parquet", "jwks.json"), {"signins", "risks", "actions"}),
        (("purview_audit.csv",), {"tokens", "signins", "risks"}),
        (("signins.json",), {"tokens", "risks", "actions"}),
        (("entra_audit.json",), {"tokens", "signins", "risks"}),
        (("risk_detections.json",), {"tokens", "signins", "actions"}),
    ],
)
def test_an_indicator_whose_needs_are_absent_finds_nothing(
    files: tuple[str, ...], absent: set[str], tmp_path: Path
) -> None:
    for name in files:
        shutil.copy(SAMPLE / name, tmp_path / name)
    con = connect()
    try:
        report = load(con, [str(tmp_path)], Options())
        annotate(Case.start(Options(), con), report)
        loaded = {need for need, sql in NEEDS.items() if con.execute(sql).fetchall()}
        assert set(NEEDS) - loaded == absent
        skipped = {ind.code for ind in CATALOGUE if set(ind.needs) & absent}
        expected = set()
        for need, codes in (("tokens", TOKEN_CODES), ("signins", SIGNIN_CODES), ("actions", ACTION_CODES)):
            if need in absent:
                expected |= set(codes)
        if "risks" in absent:
            expected.add("RISK_DETECTION")
        assert skipped == expected
        hits = "SELECT code FROM token_indicators UNION SELECT code FROM row_indicators"
        fired = {code for (code,) in con.execute(hits).fetchall()}
        assert fired and not fired & skipped
        for ind in CATALOGUE:
            if ind.code in skipped:  # run anyway: nothing
                union = " UNION ALL ".join(f"({sql})" for sql in ind.sql)
                assert con.execute(f"SELECT count(*) FROM ({union})").fetchone() == (0,), ind.code
    finally:
        con.close()
