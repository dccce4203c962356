"""fetch(): downloads into the cache, verifies checksums, explains licensed data sets.

Every download here is from a local ``file://`` address: tests never use the network.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from trends import registry
from trends.datasets import fetch
from trends.errors import TrendsError

CSV = "id,date_start,date_end\n1,2019-01-01,2019-01-01\n2,2019-02-03,2019-02-03\n"


def _zip(folder: Path) -> Path:
    path = folder / "ged191-csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ged191.csv", CSV)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_downloads_unzips_and_caches(tmp_path: Path) -> None:
    source = _zip(tmp_path)
    cache = tmp_path / "cache"
    out = fetch("ucdp-ged", "19.1", cache=cache, url=source.as_uri(), sha256=_sha(source))
    assert out == cache / "datasets" / "ucdp-ged" / "19.1" / "ged191.csv"
    assert out.read_text() == CSV
    # A second call uses the cache: the source can be gone.
    source.unlink()
    again = fetch("ucdp-ged", "19.1", cache=cache, url=source.as_uri())
    assert again == out and again.read_text() == CSV


def test_fetch_plain_csv_is_returned_as_is(tmp_path: Path) -> None:
    source = tmp_path / "GEDEvent_v22_0_2.csv"
    source.write_text(CSV)
    out = fetch("ucdp-candidate", "22.0.2", cache=tmp_path / "c", url=source.as_uri())
    assert out.name == "GEDEvent_v22_0_2.csv" and out.read_text() == CSV


def test_checksum_mismatch_is_an_error_and_nothing_is_kept(tmp_path: Path) -> None:
    source = _zip(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(TrendsError, match="checksum mismatch.*expected 0+"):
        fetch("ucdp-ged", "19.1", cache=cache, url=source.as_uri(), sha256="0" * 64)
    assert list((cache / "datasets" / "ucdp-ged" / "19.1").iterdir()) == []


def test_registry_checksum_is_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checksum recorded in the registry applies without being passed."""
    source = _zip(tmp_path)
    entry = registry.get("ucdp-ged")
    patched = {**entry, "versions": {**entry["versions"], "19.1": {"sha256": "f" * 64}}}
    monkeypatch.setattr(registry, "get", lambda dataset: patched)
    with pytest.raises(TrendsError, match="checksum mismatch"):
        fetch("ucdp-ged", "19.1", cache=tmp_path / "c", url=source.as_uri())
    good = {**entry, "versions": {"19.1": {"download": source.as_uri(), "sha256": _sha(source)}}}
    monkeypatch.setattr(registry, "get", lambda dataset: good)
    out = fetch("ucdp-ged", "19.1", cache=tmp_path / "c")  # the registry's own address
    assert out.read_text() == CSV


@pytest.mark.parametrize(
    ("dataset", "words"), [("acled", "acleddata.com"), ("gtd", "start.umd.edu/gtd")]
)
def test_licensed_data_sets_explain_how_to_get_them(dataset: str, words: str) -> None:
    with pytest.raises(TrendsError, match="cannot be downloaded by trends") as info:
        fetch(dataset, "export")
    assert words in str(info.value)
    assert registry.get(dataset)["access"] == "licence"


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(TrendsError, match=r"'18\.1'.*'19\.1'.*'25\.1'"):
        fetch("ucdp-ged", "18.1")


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(TrendsError, match="'nope'.*ucdp-ged"):
        fetch("nope", "1")


def test_no_address_recorded(tmp_path: Path) -> None:
    with pytest.raises(TrendsError, match="no download address"):
        fetch("ucdp-ged-syria", "652.1601.1911", cache=tmp_path)


def test_failed_download_is_a_clear_error(tmp_path: Path) -> None:
    missing = (tmp_path / "absent.zip").as_uri()
    with pytest.raises(TrendsError, match="cannot download"):
        fetch("ucdp-ged", "19.1", cache=tmp_path / "c", url=missing)


def test_registry_keeps_its_keys_and_covers_the_releases() -> None:
    for version, last in [("19.1", "2018-12-31"), ("23.1", "2022-12-31"), ("25.1", "2024-12-31")]:
        first, end = registry.coverage("ucdp-ged", version)
        assert str(first.date()) == "1989-01-01" and str(end.date()) == last
        assert registry.get("ucdp-ged")["versions"][version]["download"].startswith(
            "https://ucdp.uu.se/downloads/ged/ged"
        )
    for dataset in ("ucdp-ged", "ucdp-ged-syria", "ucdp-candidate", "acled", "gtd"):
        entry = registry.get(dataset)
        for key in ("name", "citation", "licence", "caveats", "bibtex", "homepage"):
            assert entry[key], (dataset, key)
        assert entry["bibtex"].lstrip().startswith("@")
    assert registry.get("acled")["columns"]["event_id"] == "event_id_cnty"
    assert registry.get("gtd")["columns"]["fatalities"] == "nkill"


@pytest.mark.parametrize(
    ("dataset", "version", "words"),
    [
        ("ucdp-ged", "19.1", "https://ucdp.uu.se/downloads/ged/ged191-csv.zip; "
         "trends.datasets.fetch('ucdp-ged', '19.1') downloads it"),
        ("ucdp-candidate", "22.0.2", "GEDEvent_v22_0_2.csv"),
        ("ucdp-ged-syria", "652.1601.1911", "UCDP's download page (https://ucdp.uu.se/downloads/)"),
        ("acled", "export", "cannot be downloaded by trends: ACLED data need your own account"),
        ("gtd", "export", "end user agreement"),
    ],
)  # fmt: skip
def test_where_to_get_names_the_publishers_file(dataset: str, version: str, words: str) -> None:
    from trends.fetch import where_to_get

    assert words in where_to_get(dataset, version)
