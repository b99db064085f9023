"""The suite on every core (pytest-xdist, `-n auto` in the README's test command): each test module
runs whole on one worker, so a module's fixtures (a generated sample, a scan) are built once, and
every Spark module shares one worker, so the run starts one JVM and one local session.

`--dist loadgroup` (pyproject's addopts) sends each `xdist_group` to one worker; this hook gives
every test its module's group. Without `-n` it changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

SPARK_GROUP = "spark"


def group_of(item: pytest.Item) -> str:
    """The worker group of a test: "spark" for the Spark modules, else its module's file name."""
    name = Path(str(item.fspath)).stem
    return SPARK_GROUP if name.startswith("test_spark") else name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test in its module's group, the Spark group first: a worker takes the groups in this
    order, and the Spark group is the longest (minutes), so started last it alone ran on at the end."""
    for item in items:
        item.add_marker(pytest.mark.xdist_group(group_of(item)))
    items.sort(key=lambda item: group_of(item) != SPARK_GROUP)  # stable: the rest keep their order
