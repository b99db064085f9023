"""Fixtures shared across test files: the indicator tests' generated keys and key list (indicator_kit),
the Pilot tests' working folder (tui_pilot.repo_cwd)."""

pytest_plugins = ["indicator_kit", "tui_pilot"]
