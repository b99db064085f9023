"""Fixtures shared across test files: the indicator tests' generated keys and key list (indicator_kit),
the Pilot tests' working folder (tui_pilot.repo_cwd), Spark's local session and loopback cluster
(spark_kit), the `unprivileged` mark (unprivileged:
run as `nobody` in a child when the suite runs as root) and one xdist worker per module (parallel)."""

pytest_plugins = ["indicator_kit", "spark_kit", "tui_pilot", "unprivileged", "parallel"]
