"""Download a data set release named in the registry into a user cache.

``fetch("ucdp-ged", "19.1")`` downloads UCDP's file for that release from the
address recorded in ``datasets/registry.toml``, verifies its SHA-256 checksum when
the registry records one, unpacks a zip archive, and returns the path of the data
file. A second call finds the file in the cache and downloads nothing.

Data sets whose licence requires the user's own account (ACLED, GTD) are never
downloaded: :func:`fetch` raises an error that says how to obtain them.

The cache is ``$TRENDS_CACHE`` if set, else ``$XDG_CACHE_HOME/trends`` (default
``~/.cache/trends``), under ``datasets/<id>/<version>/``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from . import registry
from .errors import OptionError, TrendsError

__all__ = ["fetch", "cache_dir", "where_to_get"]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """The root of the download cache (see the module docstring)."""
    if os.environ.get("TRENDS_CACHE"):
        return Path(os.environ["TRENDS_CACHE"])
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "trends"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _release(dataset: str, version: str) -> tuple[dict, dict]:
    entry = registry.get(dataset)
    versions = entry.get("versions", {})
    if version not in versions:
        raise OptionError(
            f"version {version!r} of {dataset!r} is not in the registry; known: {sorted(versions)}"
        )
    return entry, versions[version]


def _how_to_get(dataset: str, entry: dict) -> str:
    access = entry.get("access_note") or "see the publisher's site"
    home = entry.get("homepage", "")
    return f"{dataset} ({entry.get('name', dataset)}) cannot be downloaded by trends: {access}" + (
        f" ({home})" if home and home not in access else ""
    )


def where_to_get(dataset: str, version: str) -> str:
    """One sentence saying where the file of a release comes from.

    The publisher's download address and the :func:`fetch` call that downloads it
    when the registry records one; otherwise how to obtain the data set (the
    registry's access note and the publisher's site).
    """
    entry, release = _release(dataset, version)
    if entry.get("access", "open") != "open":
        return _how_to_get(dataset, entry)
    name = f"{entry.get('name', dataset)} {version}"
    address = release.get("download")
    if address:
        return (
            f"{name} is published at {address}; trends.datasets.fetch({dataset!r}, "
            f"{version!r}) downloads it into the cache and returns its path"
        )
    note = entry.get("access_note") or "the registry records no download address for it"
    return f"{name}: {note} ({entry.get('homepage', 'the publisher')})"


def fetch(
    dataset: str,
    version: str,
    *,
    cache: str | Path | None = None,
    url: str | None = None,
    sha256: str | None = None,
    force: bool = False,
) -> Path:
    """Download a release into the cache (once) and return the path of its data file.

    Parameters
    ----------
    dataset : str
        Registry id, e.g. ``"ucdp-ged"``, ``"ucdp-candidate"``.
    version : str
        Release, e.g. ``"19.1"`` or ``"22.0.2"``.
    cache : path, optional
        Cache folder instead of :func:`cache_dir`.
    url : str, optional
        Download from this address instead of the registry's (a mirror, or a local
        ``file://`` copy). The registry's checksum, if any, still applies.
    sha256 : str, optional
        Expected SHA-256 of the downloaded file; overrides the registry's.
    force : bool
        Download again even if the file is cached.

    Returns
    -------
    Path
        The data file (the CSV inside a zip archive is extracted beside it).

    Raises
    ------
    TrendsError
        Unknown id or version; a data set that needs the user's own licence (the
        message says how to get it); no download address recorded; a download that
        fails; a checksum that does not match (the bad file is not kept).
    """
    entry, release = _release(dataset, version)
    if entry.get("access", "open") != "open":
        raise TrendsError(_how_to_get(dataset, entry))
    address = url or release.get("download")
    if not address:
        raise TrendsError(
            f"the registry records no download address for {dataset} {version}; "
            f"get it from {entry.get('homepage', 'the publisher')} and pass its path as data"
        )
    expected = (sha256 or release.get("sha256") or "").lower() or None
    folder = Path(cache) if cache is not None else cache_dir()
    folder = folder / "datasets" / dataset / version
    name = Path(urllib.parse.unquote(urllib.parse.urlparse(address).path)).name
    if not name:
        raise TrendsError(f"download address {address!r} does not name a file")
    target = folder / name
    if force or not target.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        _download(address, target, expected)
    elif expected and file_sha256(target) != expected:
        logger.warning("cached %s does not match its checksum; downloading again", target)
        _download(address, target, expected)
    return _unpack(target)


def _download(address: str, target: Path, expected: str | None) -> None:
    logger.info("downloading %s", address)
    handle, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(address, timeout=60) as response:  # noqa: S310
                    shutil.copyfileobj(response, out, _CHUNK)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise TrendsError(f"cannot download {address}: {exc}") from exc
        if expected:
            actual = file_sha256(tmp)
            if actual != expected:
                raise TrendsError(
                    f"checksum mismatch for {address}: sha256 {actual}, expected {expected}; "
                    "the file was not kept"
                )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _unpack(path: Path) -> Path:
    """The data file: ``path`` itself, or the one CSV inside a zip archive."""
    if not zipfile.is_zipfile(path):
        return path
    with zipfile.ZipFile(path) as archive:
        members = [
            m
            for m in archive.namelist()
            if m.lower().endswith((".csv", ".parquet")) and not m.startswith("__MACOSX")
        ]
        if len(members) != 1:
            raise TrendsError(
                f"{path}: expected one CSV or Parquet file in the archive, found {members}"
            )
        member = members[0]
        out = path.parent / Path(member).name
        if not out.is_file() or out.stat().st_mtime < path.stat().st_mtime:
            with archive.open(member) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
    return out
