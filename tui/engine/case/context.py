"""The case context: what one `open` or `scan` knows, built once and handed down the stages.

Options, the connection and the intel exist from the start; the key lists once the loader has
found the inputs (a JWKS among them counts); the organisation once the events are stored. Each
step returns a new `Case`, so the intel and the key lists are read exactly once per open or scan
(tests/test_engine_layout.py counts it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from tui.engine.core.db import connect
from tui.engine.core.options import Options
from tui.engine.indicators.org import Org
from tui.engine.tokens.intel import Intel, load_intel
from tui.engine.tokens.verify import KeyLists


@dataclass(frozen=True)
class Case:
    """Options, connection, intel, key lists and organisation of one set of inputs."""

    options: Options
    con: duckdb.DuckDBPyConnection
    intel: Intel
    key_lists: KeyLists = KeyLists()
    org: Org | None = None

    @classmethod
    def start(cls, options: Options, con: duckdb.DuckDBPyConnection | None = None) -> Case:
        """The case before loading: the intel (built-in and `--ioc`) read now, once."""
        return cls(options=options, con=con or connect(), intel=load_intel(tuple(options.iocs)))

    def with_key_lists(self, found: Sequence[Path]) -> Case:
        """The key lists to verify with: `--jwks` files, then those found among the inputs, once each."""
        paths = tuple(dict.fromkeys([*map(Path, self.options.jwks), *map(Path, found)]))
        if paths == self.key_lists.paths:
            return self
        return replace(self, key_lists=KeyLists.read(paths))

    def with_org(self, org: Org) -> Case:
        """The case once the organisation is known (given or inferred from the stored events)."""
        return replace(self, org=org)
