"""`../shared/data` (real public samples beside the checkout): the one place a test finds it, and
skips when it is absent.

`TRIAGE_REQUIRE_SHARED_DATA=1` turns that skip into a failure: `.ci/run` sets it when the folder
is there beside the checkout, so a test that stops finding its file (renamed, moved) fails instead
of being skipped unseen. A clean clone elsewhere (CI's) has no `../shared/data`: there the switch
is not set, and the run's summary counts the skips.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REQUIRE = "TRIAGE_REQUIRE_SHARED_DATA"


def shared_data(*parts: str) -> Path:
    """`../shared/data/<parts>`; skips the calling test when absent (fails it when required)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        what = f"../shared/data/{'/'.join(parts)} not present"
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{what} ({REQUIRE}=1)", pytrace=False)
        pytest.skip(what)
    return path
