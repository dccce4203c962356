"""Region names harmonised through the alias table ``datasets/regions.csv``.

Sources spell one first-order administrative division many ways (``Al Başrah
province``, ``Al Basrah``, ``Basra``); the alias table names each division once,
per country, and lists its other spellings. Names the table does not know are
tidied (spacing collapsed, an administrative suffix dropped) and kept.
"""

from __future__ import annotations

import functools
import unicodedata

import pandas as pd

from .. import registry

__all__ = ["harmonise_region", "region_key", "display_name"]

_SUFFIXES = ("governorate", "province", "muhafazat", "region", "state")


def region_key(name: str) -> str:
    """Spelling-insensitive key: no accents, case, apostrophe style, spacing or suffix."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").casefold()
    text = " ".join(text.replace("-", " ").split())
    for suffix in _SUFFIXES:
        if text.endswith(" " + suffix):
            text = text[: -len(suffix) - 1]
    return text


def display_name(name: str) -> str:
    """A raw name tidied for display: spacing collapsed, administrative suffix dropped."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    for suffix in _SUFFIXES:
        if text.casefold().endswith(" " + suffix):
            return text[: -len(suffix) - 1]
    return text


@functools.cache
def _alias_table() -> dict[tuple[str, str], str]:
    """(country, region key) -> harmonised name, built once from the registry's table."""
    table = registry.region_aliases()
    out: dict[tuple[str, str], str] = {}
    for country, region, alias in table.itertuples(index=False):
        out[(str(country).casefold(), region_key(str(region)))] = str(region)
        out[(str(country).casefold(), region_key(str(alias)))] = str(region)
    return out


def harmonise_region(country: pd.Series, raw: pd.Series) -> pd.Series:
    """Harmonised admin-1 names: the alias table's name where known, else the tidied raw name.

    ``Al Başrah  province``, ``Al Basrah`` and ``Basra`` (Iraq) all become
    ``Al Başrah``; ``At-Ta'mim province`` becomes ``Kirkūk``.
    """
    aliases = _alias_table()
    pairs = pd.DataFrame({"country": country.astype("string"), "raw": raw.astype("string")})
    mapping: dict[tuple[object, object], object] = {}
    for c, r in pairs.drop_duplicates().itertuples(index=False):
        if r is pd.NA or r is None:
            mapping[(c, r)] = pd.NA
            continue
        key = ("" if c is pd.NA else str(c).casefold(), region_key(str(r)))
        mapping[(c, r)] = aliases.get(key, display_name(str(r)))
    lookup = pd.DataFrame(
        [(c, r, v) for (c, r), v in mapping.items()], columns=["country", "raw", "harmonised"]
    ).astype("string")
    merged = pairs.merge(lookup, on=["country", "raw"], how="left")
    return pd.Series(merged["harmonised"].to_numpy(), index=raw.index, dtype="string")
