"""Write ``datasets/fips10_4_adm1.csv`` from a published FIPS 10-4 list.

Source: ``data/data.csv`` of https://github.com/datasets/fips-10-4 at commit
04734cd7174e79c6d022c618b62367b7bd56cdae (2025-01-16), which that repository's
``scripts/process.py`` makes from Eric Muller's transcription of FIPS PUB 10-4,
http://efele.net/maps/fips-10/data/fips-414.txt (every row tagged ``414``; public
domain dedication). FIPS PUB 10-4, "Countries, Dependencies, Areas of Special
Sovereignty, and Their Principal Administrative Divisions" (NIST, 1995, with change
notices; withdrawn 2008, maintained since by the NGA as GEC) is a work of the US
government and in the public domain. Download it and run::

    curl -LO https://raw.githubusercontent.com/datasets/fips-10-4/04734cd7174e79c6d022c618b62367b7bd56cdae/data/data.csv
    python datasets/make_fips10_4.py data.csv

The script checks the file's SHA-256, so the table it writes is the committed one,
byte for byte. What it changes, and why:

* ``process.py`` joins efele's variant-name column to the name with two spaces
  (``Ghowr  Ghor``), its English-name column with one (``HaDarom Southern``), and
  deletes commas; the name is the part before two spaces. The divisions whose name
  it joined with one space or stripped of commas (``_MANGLED``) are left out: no rule
  recovers their names from this file, and the table takes names from it alone.
* Stray DEL characters (Ethiopia) and surrounding spaces are removed.
* ``_CORRECTIONS``: transcription slips, each where MaxMind's FIPS 10-4 region list
  (``libGeoIP/regionName.c`` of maxmind/geoip-api-c) and GeoNames
  (``admin1CodesASCII.txt``, FIPS-coded for these countries) both give a different
  name for the same code.
* Two divisions of one country with the same name (a city and the province around
  it: Almaty, Maputo, Toshkent...) would be counted as one region; the city-type one
  is named ``<name> (city)``.
* Country names are the FIPS short names in upper case; they are written in title
  case (``IRAQ`` -> ``Iraq``), one row per country with an empty ``adm1_code``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sys
from collections import Counter
from pathlib import Path

SOURCE_SHA256 = "56c98c4a83eeb898e4a0c4798ce43a8ff571e19aef2548144c47f8923ca31179"
TARGET = Path(__file__).resolve().parent / "fips10_4_adm1.csv"

#: Codes whose name ``process.py`` joined to the English name with one space or
#: stripped of its commas (efele's text shows which): the name in the source is not
#: the FIPS name and cannot be recovered from it by rule, so these divisions are left
#: out (a GDELT record keeps the code) and these countries keep the source's text
#: (``BAHAMAS THE`` without its article).
_MANGLED = frozenset(
    {
        "AR23",
        "BF00",
        "CH14",
        "CH20",
        "CH21",
        "CM04",
        "CM07",
        "CM08",
        "CM09",
        "CM12",
        "CM13",
        "CM14",
        "GA00",
        "IS01",
        "IS02",
        "IS03",
        "IS04",
        "IS06",
        "KN00",
        "KS00",
        "PJ00",
        "RPF4",
        "RPF5",
        "UKB7",
        "UKG6",
        "UKH9",
        "UKT9",
        "UKU8",
        "UKX1",
        "UKX6",
        "UKX7",
        "UKX9",
        "UKY1",
        "UKY4",
        "UKY7",
        "UKZ3",
        "UP11",
        "UP12",
        "UP20",
    }
)

#: code -> (name in the source, corrected name): a division's corrected name is the one
#: MaxMind and GeoNames both give; a country's, GeoNames' countryInfo for that FIPS code.
_CORRECTIONS = {
    "BU52": ("Ruse", "Razgrad"),  # the source repeats BU53's name
    "TD00": ("TRINIDAD", "TRINIDAD AND TOBAGO"),  # GeoNames' countryInfo, FIPS code TD
    "PA22": ("Asunció", "Asunción"),  # last letter lost
    "TH77": ("Amnta Charoen", "Amnat Charoen"),
    "VM75": ("Bìn Dương", "Bình Dương"),
    "VM76": ("Bìn Phước", "Bình Phước"),
}

_SMALL = {"and", "of", "the", "da", "de", "du"}


def title(name: str) -> str:
    """``COTE D'IVOIRE`` -> ``Cote d'Ivoire``; small words lower case but the first."""

    def word(w: str, first: bool) -> str:
        if "-" in w:
            return "-".join(word(p, first and i == 0) for i, p in enumerate(w.split("-")))
        if w.startswith("("):
            return "(" + word(w[1:], True)
        low = w.lower()
        if low.rstrip(")") in _SMALL and not first:
            return low
        if low.startswith("d'") and len(low) > 2:
            return "d'" + low[2:].capitalize()
        if low.startswith("mc") and len(low) > 2:
            return "Mc" + low[2:].capitalize()
        return low.capitalize()

    if not name.isupper():
        return name
    return " ".join(word(w, i == 0) for i, w in enumerate(name.split()))


def _clean(code: str, name: str) -> str:
    name = name.replace("\x7f", "").split("  ")[0].strip()
    if code in _CORRECTIONS:
        wrong, right = _CORRECTIONS[code]
        if name != wrong:
            raise ValueError(f"{code}: expected {wrong!r} in the source, found {name!r}")
        return right
    return name


def build(text: str) -> str:
    """The table's CSV text from the source CSV's text."""
    rows = list(csv.DictReader(io.StringIO(text)))
    countries: dict[str, str] = {}
    divisions: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        code = row["region_code"]
        name = _clean(code, row["region_name"])
        if code.endswith("00") and row["region_division"] == "country":
            if name.endswith(" THE"):  # "BAHAMAS, THE" stripped of its comma
                name = name[: -len(" THE")]
            countries[code[:2]] = title(name)
        elif code not in _MANGLED:
            divisions.setdefault(code[:2], []).append((code, name, row["region_division"]))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["country_code", "country", "adm1_code", "adm1_name"])
    for cc in sorted(countries):
        writer.writerow([cc, countries[cc], "", ""])
        own = sorted(divisions.get(cc, []))
        repeated = Counter(name for _, name, _ in own)
        for code, name, kind in own:
            if repeated[name] > 1 and any(k in kind for k in ("city", "municipality", "urban")):
                name = f"{name} (city)"
            writer.writerow([cc, countries[cc], code, name])
    orphans = set(divisions) - set(countries)
    if orphans:
        raise ValueError(f"divisions without a country row: {sorted(orphans)}")
    return out.getvalue()


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python datasets/make_fips10_4.py data.csv")
    raw = Path(argv[0]).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{argv[0]}: SHA-256 {digest}, expected {SOURCE_SHA256}")
    text = build(raw.decode("utf-8").replace("\r\n", "\n"))
    partial = TARGET.with_name(TARGET.name + ".partial")  # written whole, then renamed
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, TARGET)


if __name__ == "__main__":
    main(sys.argv[1:])
