"""Shared fixtures: where the real data lives, and how tests that need it behave.

Tests that read ``../shared`` (UCDP files, R reference outputs) use the
``shared_dir`` fixture: outside CI a missing folder skips the test with a reason;
with the ``CI`` environment variable set, it fails, so CI can never pass by
skipping the real-data checks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TRENDS_SHARED", REPO.parent / "shared"))


def _need(path: Path) -> Path:
    if path.exists():
        return path
    message = f"{path} is absent (the shared data and references live beside the checkout)"
    if os.environ.get("CI"):
        pytest.fail(message + "; CI must have it")
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the checkout (or ``$TRENDS_SHARED``)."""
    return _need(SHARED)


@pytest.fixture(scope="session")
def ucdp_dir(shared_dir: Path) -> Path:
    """The folder of UCDP event files."""
    return _need(shared_dir / "data" / "ucdp")


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    """The folder of R reference outputs."""
    return _need(shared_dir / "reference")


@pytest.fixture(scope="session")
def spark():
    """One SparkSession for every Spark test: local mode on two cores, UTC, no UI.

    Without pyspark (``pip install "trends[spark]"``) the tests skip with a reason;
    with the ``CI`` environment variable set they fail, so CI never passes by skipping.
    """
    import shutil

    message = None
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        message = 'pyspark is not installed (pip install "trends[spark]")'
    if message is None and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        message = "Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"
    if message is not None:
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must run the Spark tests")
        pytest.skip(message)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("trends-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
