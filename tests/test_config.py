"""[tool.rmsport] in pyproject.toml: lookup, key spelling, validation, precedence."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from rmsport.cli.config import KEYS, ConfigError, click_callback, find_pyproject, load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        pytest.param('to = "torch"', {"to": "torch"}, id="to"),
        pytest.param('target = "experimental"', {"target": "experimental"}, id="target"),
        pytest.param('eps-mapping = "matched"', {"eps_mapping": "matched"}, id="dashes"),
        pytest.param('eps_mapping = "matched"', {"eps_mapping": "matched"}, id="underscores"),
        pytest.param('output-format = "sarif"', {"output_format": "sarif"}, id="output-format"),
        pytest.param('exclude = ["a/", "*.pyi"]', {"exclude": ["a/", "*.pyi"]}, id="exclude-list"),
        pytest.param('extend-exclude = "gen/"', {"extend_exclude": ["gen/"]}, id="extend-exclude-string"),
        pytest.param("force-exclude = true", {"force_exclude": True}, id="force-exclude"),
        pytest.param("verify = true\nquiet = false", {"verify": True, "quiet": False}, id="bools"),
        pytest.param("jobs = 4", {"jobs": 4}, id="jobs"),
        pytest.param("", {}, id="empty-table"),
    ],
)
def test_values(tmp_path: Path, toml: str, expected: dict) -> None:
    pyproject = write(tmp_path / "pyproject.toml", f"[tool.rmsport]\n{toml}\n")
    assert load_config([tmp_path]) == (expected, pyproject)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        pytest.param('too = "torch"', "[tool.rmsport] too: unknown key (known keys: eps-mapping,", id="unknown-key"),
        pytest.param(
            'to = "tensorflow"', "[tool.rmsport] to: 'tensorflow' is not one of 'mindspore', 'torch'", id="bad-choice"
        ),
        pytest.param("target = 1", "[tool.rmsport] target: 1 is not one of 'nn', 'experimental'", id="choice-type"),
        pytest.param('verify = "yes"', "[tool.rmsport] verify: must be true or false, not 'yes'", id="bool"),
        pytest.param("jobs = 0", "[tool.rmsport] jobs: must be a whole number >= 1, not 0", id="jobs-zero"),
        pytest.param("jobs = true", "[tool.rmsport] jobs: must be a whole number >= 1, not True", id="jobs-bool"),
        pytest.param(
            "exclude = [1]", "[tool.rmsport] exclude: must be a list of glob strings, not [1]", id="exclude-type"
        ),
        pytest.param(
            'eps-mapping = "matched"\neps_mapping = "literal"',
            "[tool.rmsport] eps_mapping: given twice",
            id="both-spellings",
        ),
        pytest.param("to = ", "invalid TOML", id="bad-toml"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    pyproject = write(tmp_path / "pyproject.toml", f"[tool.rmsport]\n{toml}\n")
    with pytest.raises(ConfigError) as info:
        load_config([tmp_path])
    text = str(info.value)
    assert text.startswith(f"{pyproject}: ")
    assert message in text
    assert "\n" not in text


def test_table_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool]\nrmsport = "x"\n')
    with pytest.raises(ConfigError, match=r"\[tool.rmsport\] must be a table"):
        load_config([tmp_path])


def test_nearest_file_with_the_table_wins(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", '[tool.rmsport]\nto = "torch"\n')
    write(tmp_path / "pkg" / "pyproject.toml", '[project]\nname = "pkg"\n')  # no table: keep looking
    inner = write(tmp_path / "pkg" / "sub" / "pyproject.toml", '[tool.rmsport]\ntarget = "experimental"\n')
    write(tmp_path / "pkg" / "sub" / "m.py", "")
    write(tmp_path / "pkg" / "a.py", "")
    assert load_config([tmp_path / "pkg" / "a.py"]) == ({"to": "torch"}, outer)
    assert load_config([tmp_path / "pkg" / "sub" / "m.py"]) == ({"target": "experimental"}, inner)
    # Common folder of both is pkg/: the outer file applies.
    assert load_config([tmp_path / "pkg" / "a.py", tmp_path / "pkg" / "sub" / "m.py"]) == ({"to": "torch"}, outer)


def test_no_config(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "")
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')  # no [tool.rmsport]
    assert find_pyproject([tmp_path / "a.py"]) is None
    assert load_config([tmp_path / "a.py"]) == ({}, None)


def test_stdin_uses_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[tool.rmsport]\nto = "torch"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config([]) == ({"to": "torch"}, pyproject)


def test_every_key_has_a_validator() -> None:
    assert set(KEYS) == {
        "to",
        "target",
        "eps_mapping",
        "mindspore_device",  # issue 9
        "output_format",
        "exclude",
        "extend_exclude",
        "force_exclude",
        "verify",
        "quiet",
        "jobs",
    }


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), is_eager=True, callback=click_callback)
@click.option("--to", type=click.Choice(["mindspore", "torch"]), default="mindspore")
@click.option("--eps-mapping", type=click.Choice(["literal", "matched"]), default="literal")
@click.option("--verify/--no-verify", default=False)
@click.option("--extend-exclude", multiple=True)
def demo(paths, to, eps_mapping, verify, extend_exclude):
    click.echo(f"{to} {eps_mapping} {verify} {list(extend_exclude)}")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param([], "torch matched True ['gen/']", id="config-only"),
        pytest.param(["a.py", "."], "torch matched True ['gen/']", id="several-paths"),
        pytest.param(["--to", "mindspore"], "mindspore matched True ['gen/']", id="cli-wins-choice"),
        pytest.param(["--no-verify"], "torch matched False ['gen/']", id="cli-wins-flag"),
        pytest.param(["--extend-exclude", "x/"], "torch matched True ['x/']", id="cli-wins-multiple"),
    ],
)
def test_command_line_wins_over_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args, expected) -> None:
    write(
        tmp_path / "pyproject.toml",
        '[tool.rmsport]\nto = "torch"\neps-mapping = "matched"\nverify = true\nextend-exclude = ["gen/"]\n',
    )
    write(tmp_path / "a.py", "")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(demo, [*args, "a.py"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_bad_config_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "pyproject.toml", '[tool.rmsport]\nto = "jax"\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(demo, ["."])
    assert result.exit_code == 2
    assert "[tool.rmsport] to: 'jax' is not one of" in result.output
