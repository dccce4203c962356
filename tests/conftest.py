"""Shared fixtures: where the real data lives, and how tests that need it behave.

Tests that read ``../shared`` (UCDP files, R reference outputs) use the
``shared_dir`` fixture: outside CI a missing folder skips the test with a reason;
with the ``CI`` environment variable set, it fails, so CI can never pass by
skipping the real-data checks. Tests that draw a page in headless Chromium use the
``dump_dom`` fixture, which skips (or, in CI, fails) the same way without Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
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


# ----------------------------------------------------------------------------- browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=30000",
    "--window-size=1280,1600",  # the width the report is laid out for
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; CI must have it (apt-get install chromium)")
    pytest.skip("chromium is not installed")


def _offline_prefix() -> list[str]:
    """``unshare -n`` (a network namespace with no interface) when this system allows it."""
    unshare = shutil.which("unshare")
    for prefix in ([unshare, "-n"], [unshare, "-n", "-r"]) if unshare else []:
        if subprocess.run([*prefix, "true"], capture_output=True).returncode == 0:
            return prefix
    return []


def _dump_dom(page: Path, profile: Path) -> str:
    command = [
        *_offline_prefix(),
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="session")
def dump_dom() -> Callable[[Path, Path], str]:
    """``dump_dom(page, profile)``: the page's DOM after its scripts ran in headless
    Chromium, with no network (``unshare -n`` where the system allows it)."""
    _chromium()
    return _dump_dom


#: Fixtures that read ../shared: a test using any of them is marked ``shared``.
_SHARED_FIXTURES = {"shared_dir", "ucdp_dir", "reference_dir"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that reads the shared data (through the fixtures above, directly
    or through a fixture of its module) ``shared``, so ``-m "not shared"`` runs without it."""
    for item in items:
        if _SHARED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.shared)


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
