"""RMS103 says what a reference that is not a call is, and what to do about it (issue 14)."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli as rmsport

from rmsport.engine.convert import Options, convert_source

HEADER = "import functools\nimport torch\nfrom torch.optim import RMSprop\n\n"


def rms103(body: str) -> list[str]:
    result = convert_source(HEADER + body, Options(), path="m.py")
    return [f.message for f in result.findings if f.code == "RMS103"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            "class Mine(torch.optim.RMSprop):\n    pass\n",
            "torch.optim.RMSprop is the base class of Mine; not rewritten: the subclass inherits its "
            "constructor and update rule, so port Mine by hand (its super().__init__ call uses the old argument names)",
            id="base-class",
        ),
        pytest.param(
            "def make(p) -> torch.optim.RMSprop:\n    ...\n",
            "torch.optim.RMSprop is a type annotation (return annotation of make()); not rewritten: annotations "
            "construct nothing; change it to mindspore.nn.RMSProp by hand if the code now holds one",
            id="return-annotation",
        ),
        pytest.param(
            "def f(opt: RMSprop | None = None):\n    ...\n",
            "torch.optim.RMSprop is a type annotation (annotation of parameter opt)",
            id="parameter-annotation",
        ),
        pytest.param(
            "opts: dict[str, RMSprop] = {}\n",
            "torch.optim.RMSprop is a type annotation (annotation of opts)",
            id="variable-annotation",
        ),
        pytest.param(
            "ok = isinstance(opt, (RMSprop, torch.optim.Adam))\n",
            "torch.optim.RMSprop is used in a type check (isinstance()); not rewritten: once the calls are "
            "converted the objects are mindspore.nn.RMSProp, so update the check by hand",
            id="isinstance",
        ),
        pytest.param("ok = issubclass(cls, RMSprop)\n", "used in a type check (issubclass())", id="issubclass"),
        pytest.param("ok = type(opt) is RMSprop\n", "used in a type check (comparison)", id="type-is"),
        pytest.param(
            "TABLE = {'rmsprop': torch.optim.RMSprop, 'adam': torch.optim.Adam}\n",
            "torch.optim.RMSprop is a value in a table (dict TABLE); not rewritten: it is called where it is "
            "looked up, with arguments rmsport cannot see; convert that call by hand",
            id="dict-table",
        ),
        pytest.param("CHOICES = [RMSprop]\n", "is a value in a table (list CHOICES)", id="list-table"),
        pytest.param("register({'r': RMSprop})\n", "is a value in a table (dict passed to register())", id="table-arg"),
        pytest.param(
            "make = functools.partial(torch.optim.RMSprop, lr=0.1)\n",
            "torch.optim.RMSprop is passed to functools.partial() as a value; not rewritten: it is called there, "
            "with arguments rmsport cannot see; convert that call by hand",
            id="partial",
        ),
        pytest.param("build(opt_cls=RMSprop)\n", "is passed to build() as a value", id="keyword-argument"),
        pytest.param(
            "Opt = RMSprop if fast else torch.optim.SGD\n",
            "torch.optim.RMSprop is assigned to Opt; not rewritten: calls through Opt pass their arguments "
            "elsewhere; convert them by hand",
            id="alias",
        ),
        pytest.param(
            "def g(kind=RMSprop):\n    ...\n",
            "torch.optim.RMSprop is the default of parameter kind of g(); not rewritten",
            id="default",
        ),
        pytest.param(
            "def g():\n    return RMSprop\n",
            "torch.optim.RMSprop is returned from g(); not rewritten: the caller calls it",
            id="return",
        ),
    ],
)
def test_message_names_the_kind_of_reference(body: str, message: str) -> None:
    messages = rms103(body)
    assert len(messages) == 1, messages
    assert message in messages[0]
    assert "arguments are passed elsewhere" not in messages[0]


def test_only_argument_like_references_talk_about_arguments() -> None:
    """The old one-size wording ("its arguments are passed elsewhere") fits only
    references that someone calls later; annotations, checks and base classes
    must not claim it."""
    for body in (
        "def make(p) -> torch.optim.RMSprop:\n    ...\n",
        "ok = isinstance(opt, RMSprop)\n",
        "class Mine(RMSprop):\n    pass\n",
    ):
        (message,) = rms103(body)
        assert "argument" not in message.split("not rewritten")[0]
        assert "cannot see" not in message


def test_going_to_torch_names_the_torch_class() -> None:
    source = "import mindspore\n\ndef make() -> mindspore.nn.RMSProp:\n    ...\n"
    result = convert_source(source, Options(to="torch"), path="m.py")
    (finding,) = [f for f in result.findings if f.code == "RMS103"]
    assert "change it to torch.optim.RMSprop by hand" in finding.message


def test_cli_reports_the_annotation_wording(tmp_path) -> None:
    path = tmp_path / "m.py"
    path.write_text("import torch\n\n\ndef make(p) -> torch.optim.RMSprop:\n    ...\n")
    result = rmsport("check", "--output-format", "json", str(path), text=True)
    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "RMS103" and finding["line"] == 4 and finding["severity"] == "warning"
    assert finding["message"].startswith("torch.optim.RMSprop is a type annotation (return annotation of make())")
