"""Fixtures shared across test files: the indicator tests' generated keys and key list (indicator_kit)."""

pytest_plugins = ["indicator_kit"]
