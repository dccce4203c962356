"""CITATION.cff is valid CFF 1.2.0 (checked against the official schema)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import trends

REPO = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).resolve().parent / "data" / "cff-schema-1.2.0.json"  # see data/README.md


@pytest.fixture(scope="module")
def cff() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_is_valid_cff_1_2_0(cff):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(cff, schema)


def test_citation_version_matches_package(cff):
    assert str(cff["version"]) == trends.__version__


def test_schema_rejects_a_broken_citation(cff):
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = {k: v for k, v in cff.items() if k != "authors"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
