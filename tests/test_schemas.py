"""The JSON Schemas in schemas/ are what clients in other languages build against: they must be
valid schemas and say exactly what the models say."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from workflows.schemas import DIRECTORY, SCHEMAS, Schema

REGENERATE = "run `make schemas` (python -m workflows.schemas) and commit schemas/"


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.name)
def test_checked_in_schema_matches_the_model(schema: Schema) -> None:
    path = DIRECTORY / schema.filename
    assert path.exists(), f"schemas/{schema.filename} is missing: {REGENERATE}"
    assert path.read_text() == schema.text(), (
        f"schemas/{schema.filename} differs from {schema.model.__name__}: {REGENERATE}"
    )
    Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_every_checked_in_schema_is_generated() -> None:
    stale = {path.name for path in DIRECTORY.glob("*.json")} - {schema.filename for schema in SCHEMAS}

    assert not stale, (
        f"schemas/ has files no model generates: {sorted(stale)}; delete them or add their models to SCHEMAS"
    )
