"""The README documents every finding code, with the severity the code has."""

from conftest import ROOT

from rmsport.findings import CODES


def test_readme_lists_every_code():
    readme = (ROOT / "README.md").read_text()
    for code, (severity, title) in CODES.items():
        assert f"| `{code}` | {severity} | {title} |" in readme, code


def test_changelog_is_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "Keep a Changelog" in text and "## [Unreleased]" in text


def test_prefilter_knows_every_class_name():
    from rmsport.tables.optimizers import CLASS_NAMES
    from rmsport.engine.prefilter import CLASS_NAMES as PREFILTER_NAMES

    assert set(PREFILTER_NAMES) == set(CLASS_NAMES)
