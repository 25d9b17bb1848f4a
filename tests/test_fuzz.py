"""Fuzzing the CLI: random bytes, random text and mutated real files.

Whatever comes in, ``rmsport convert -`` / ``rmsport check -`` and the same on
files must never show a traceback and must exit with 0, 1, 2 or 123; ``convert
-`` given input it cannot parse (or read) prints the input unchanged.  Most
examples run in-process through click's ``CliRunner`` (fast); a batch of the
same kind of inputs then goes through the real executable, as files and as
stdin.
"""

from __future__ import annotations

import ast
import codecs
import os
import random
import subprocess
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmsport.cli import main
from rmsport.engine.convert import Options, ParseError, convert_source, might_contain_calls
from rmsport.files.sourcefile import SourceError, decode, encode

ROOT = Path(__file__).resolve().parent.parent
EXIT_CODES = {0, 1, 2, 123}

settings.register_profile(
    "fuzz-dev", max_examples=80, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "fuzz-ci", max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "fuzz-thorough", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
)
_NAME = os.environ.get("RMSPORT_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
PROFILE = settings.get_profile(f"fuzz-{_NAME}" if _NAME in ("dev", "ci", "thorough") else "fuzz-dev")

SEEDS: list[bytes] = [
    b"import torch\nopt = torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9, eps=1e-6)\n",
    b"import torch as th\n\nopt = th.optim.RMSprop(\n    params,  # the params\n    0.001,\n"
    b"    momentum=0.9,\n    centered=True,\n)\r\n",
    b"from torch.optim import RMSprop as R\nfrom torch import nn\n\nclass M(nn.Module):\n"
    b"    def opt(self):\n        return R(self.parameters(), weight_decay=1e-4, maximize=False)\n",
    b"from torch import optim\n"
    b"opt = optim.RMSprop([{'params': a.parameters(), 'lr': 0.1}, {'params': b}], lr=0.01)\n",
    b"import torch\nopt = torch.optim.RMSprop(model.parameters(), *args, **kwargs)\n"
    b"opt2 = torch.optim.RMSProp(p, eps=0)\n",
    b"import mindspore\nfrom mindspore import nn\n"
    b"opt = nn.RMSProp(net.trainable_params(), learning_rate=0.1, decay=0.9,"
    b" momentum=0.0, epsilon=1e-10, loss_scale=2.0)\n",
    b"from mindspore.experimental import optim\nopt = optim.RMSprop(net.trainable_params(), lr=0.01)\n",
    b"import mindspore as ms\nopt = ms.nn.RMSProp(params, learning_rate=ms.nn.ExponentialDecayLR(0.1, 0.9, 4))\n",
    b"# -*- coding: latin-1 -*-\nimport torch\n# caf\xe9\nopt = torch.optim.RMSprop(p, lr=1e-3)  # \xe9\n",
    b"\xef\xbb\xbfimport torch\r\nopt = torch.optim.RMSprop(p)\r\n",
    b"import torch\nif x:\n\topt = torch.optim.RMSprop(p, lr=lr if x else 0.1)\nelse:\n\topt = None\n",
    b"import keras\nimport torch\nk = keras.optimizers.RMSprop(0.001)\nt = torch.optim.Adam(p)\n"
    b"s = 'torch.optim.RMSprop(p)'\n",
    b"from torch.optim import *\nopt = RMSprop(p, 0.1, 0.9, 1e-8, 0, 0.9, True)\nisinstance(opt, RMSprop)\n",
    b"import torch\nOPTS = {'rms': torch.optim.RMSprop}\nclass My(torch.optim.RMSprop):\n    pass\n",
    b"import torch\ndef f(RMSprop=torch.optim.RMSprop):\n    return lambda: torch.optim.RMSprop(p, lr=f'{x}')\n",
]
# real source files of this project and fixtures are mutated too
for _path in sorted([*ROOT.joinpath("rmsport").glob("*.py"), *ROOT.joinpath("fixtures").rglob("*.py")])[:12]:
    try:
        _data = _path.read_bytes()
    except OSError:
        continue
    if len(_data) < 40_000:
        SEEDS.append(_data)

NASTY = [b"\x00", b"\xff", b"\xef\xbb\xbf", b"\r", b"\n", b"\r\n", b"\t", b" ", b"(", b")", b"[", b"]", b",", b"=",
         b"'", b'"', b'"""', b"\\", b"#", b"*", b"**", b":", b"lambda", b"RMSprop(", b"torch.optim.", b"\xc3",
         b"\xe9", b"# coding: latin-1\n", b"# coding: klingon\n", b"\x0c",
         b"\xe2\x80\xa8", b"\\\n", b"f'{", b"}", b"import torch\n", b"from torch.optim import RMSprop\n"]


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "insert", "flip", "delete", "duplicate", "random"]))
        at = draw(st.integers(0, len(data)))
        if op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(NASTY))
        elif op == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 80))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


inputs = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.text(alphabet=st.sampled_from(list("torch.optim.RMSprop(params, lr=0.1) \n\t#'\"[]{}:*=\\")), max_size=300).map(
        str.encode
    ),
    mutated(),
)


def parses(data: bytes) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning on fuzzed literals
        try:
            ast.parse(data)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def invoke(args: list[str], data: bytes):
    result = CliRunner().invoke(main, args, input=data, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"rmsport {' '.join(args)} raised {result.exception!r} on {data[:300]!r}") from (
            result.exception
        )
    text = result.output
    assert "Traceback" not in text, text
    assert result.exit_code in EXIT_CODES, (result.exit_code, text, data[:300])
    return result


def expected_stdout(data: bytes, options: Options) -> bytes:
    """What ``convert -`` must print: the core's result in the input's own
    encoding (cookie, BOM, line endings), or the input unchanged."""
    if not might_contain_calls(data):
        return data
    try:
        source = decode(data)
        conversion = convert_source(source.text, options, path="-")
        return encode(source, conversion.source)
    except (SourceError, ParseError):
        return data


def check_convert_stdin(data: bytes, args: list[str], options: Options) -> None:
    result = invoke(args, data)
    assert result.exit_code != 2, result.output
    assert result.stdout_bytes == expected_stdout(data, options)
    if result.exit_code == 123:
        assert result.stdout_bytes == data, "convert - must echo input it cannot convert"
    elif result.stdout_bytes != data:
        assert parses(result.stdout_bytes)


@PROFILE
@given(inputs)
def test_convert_stdin_never_crashes(data):
    check_convert_stdin(data, ["convert", "-"], Options())


@PROFILE
@given(inputs)
def test_convert_to_torch_stdin_never_crashes(data):
    check_convert_stdin(data, ["convert", "--to", "torch", "-"], Options(to="torch"))


@PROFILE
@given(inputs)
def test_convert_stdin_as_notebook_never_crashes(data):
    result = invoke(["convert", "--stdin-filename", "nb.ipynb", "-"], data)
    assert result.exit_code != 2, result.output
    if result.exit_code == 123:
        assert result.stdout_bytes == data


@PROFILE
@given(inputs)
def test_check_stdin_never_crashes(data):
    result = invoke(["check", "-"], data)
    assert result.exit_code != 2, result.output
    if not parses(data) and might_contain_calls(data):
        # (files that cannot hold a call are not parsed at all, by design)
        assert result.exit_code == 123


@pytest.mark.slow
@PROFILE
@given(st.lists(inputs, min_size=1, max_size=6))
def test_convert_files_never_crashes(tmp_path_factory, datas):
    folder = tmp_path_factory.mktemp("fuzz")
    paths = []
    for i, data in enumerate(datas):
        path = folder / f"f{i}.py"
        path.write_bytes(data)
        paths.append(path)
    invoke(["convert", str(folder)], b"")
    for path, data in zip(paths, datas):
        after = path.read_bytes()
        assert after == data or parses(after), f"{path.name} was rewritten into something unparsable"
        if not parses(data):
            assert after == data, "an unparsable file was modified"
    invoke(["check", str(folder)], b"")


# --- the real executable ---------------------------------------------------------




def corpus(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        base = bytearray(rng.choice(SEEDS))
        kind = i % 4
        if kind == 0:
            out.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300))))
            continue
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(base))
            if kind == 1:
                del base[at:]
            elif kind == 2:
                base[at:at] = rng.choice(NASTY)
            elif at < len(base):
                base[at] = rng.getrandbits(8)
        out.append(bytes(base))
    return out


@pytest.mark.parametrize("command", ["convert", "check"])
def test_real_cli_on_a_fuzzed_tree(tmp_path, command):
    datas = corpus(1234, 120)
    for i, data in enumerate(datas):
        (tmp_path / f"f{i:03d}.py").write_bytes(data)
    proc = subprocess.run([*cli(), command, str(tmp_path)], capture_output=True, timeout=300)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert "Traceback" not in proc.stdout.decode("utf-8", "replace")
    assert proc.returncode in EXIT_CODES - {2}, (proc.returncode, stderr[-2000:])
    for i, data in enumerate(datas):
        after = (tmp_path / f"f{i:03d}.py").read_bytes()
        if command == "check" or not parses(data):
            assert after == data
        else:
            assert parses(after)
    leftovers = [p.name for p in tmp_path.iterdir() if not p.name.endswith(".py")]
    assert leftovers == []


@pytest.mark.slow
def test_real_cli_stdin():
    """A batch of fuzzed inputs through the real executable's stdin."""
    datas = corpus(99, 12)
    for data in datas:
        for args in (["convert", "-"], ["check", "-"]):
            proc = subprocess.run([*cli(), *args], input=data, capture_output=True, timeout=120)
            stderr = proc.stderr.decode("utf-8", "replace")
            assert "Traceback" not in stderr, stderr
            assert proc.returncode in EXIT_CODES - {2}, (proc.returncode, stderr)
            if args[0] == "convert":
                assert proc.stdout == expected_stdout(data, Options())


STDIN_KEEPS_BYTES = {
    "latin-1": b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    "latin-1-converted": b"# coding: latin-1\nimport torch\nopt = torch.optim.RMSprop(p)  # \xe9\n",
    "bom": b"\xef\xbb\xbf# only a comment\n",
    "bom-converted": b"\xef\xbb\xbfimport torch\nopt = torch.optim.RMSprop(p)  # caf\xc3\xa9\n",
    "undecodable": b"x = '\xff'\n",
    "undecodable-with-call": b"import torch\nopt = torch.optim.RMSprop(p)  # \x80\n",
}


@pytest.mark.parametrize("name", sorted(STDIN_KEEPS_BYTES))
def test_real_cli_stdin_keeps_encoding(name):
    data = STDIN_KEEPS_BYTES[name]
    proc = subprocess.run([*cli(), "convert", "-"], input=data, capture_output=True, timeout=120)
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    if name.startswith("undecodable"):
        # a file that cannot hold a call is not decoded at all (exit 0)
        assert proc.returncode == (123 if might_contain_calls(data) else 0)
        assert proc.stdout == data
    elif name.endswith("converted"):
        assert proc.returncode in (0, 1)
        assert b"RMSProp(" in proc.stdout
        # the BOM and the comment after the call are kept byte for byte
        assert proc.stdout.startswith(codecs.BOM_UTF8) == data.startswith(codecs.BOM_UTF8)
        assert proc.stdout.rsplit(b"#", 1)[1] == data.rsplit(b"#", 1)[1]
    else:
        assert proc.returncode == 0
        assert proc.stdout == data


# --- issue 10: hostile values and resource limits ------------------------------------

# Values that once cost a whole file (a traceback or RMS001 "internal error") or
# minutes of CPU; mutated, and with --verify and the eps mapping that takes roots.
HOSTILE_SEEDS = [
    b"import torch\nopt = torch.optim.RMSprop(p, lr=((((9**64)**64)**64)**64)**64)\n",
    b"import torch\nopt = torch.optim.RMSprop(p, lr=(10**64)**64, eps=1e-8)\nb = torch.optim.RMSprop(q)\n",
    b"import mindspore.nn as nn\nopt = nn.RMSProp(p, epsilon=-1)\nopt2 = nn.RMSProp(p, learning_rate=0.1)\n",
    b"import torch\nopt = torch.optim.RMSprop(p, lr=1e308 * 10, eps=-(2**64)**16, alpha=(-1) ** 0.5)\n",
    b"import mindspore.nn as nn\nopt = nn.RMSProp(p, learning_rate=2**1023, epsilon=1e-300 ** 2, decay=1e999)\n",
]


@st.composite
def hostile(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(HOSTILE_SEEDS)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.sampled_from([b"**64", b"**63", b"(", b")", b"-", b"9", b"*10**300", b".5", b"e308"]))
    return bytes(data)


@PROFILE
@given(hostile(), st.sampled_from([[], ["--verify"], ["--to", "torch", "--eps-mapping", "matched", "--verify"],
                                   ["--eps-mapping", "matched", "--verify"]]))
def test_hostile_values_cost_their_call_not_the_file(data, extra):
    import time

    started = time.perf_counter()
    result = invoke(["convert", *extra, "-"], data)
    assert time.perf_counter() - started < 20, data
    assert "internal error" not in result.output, result.output
    if result.exit_code == 123:
        assert not parses(data) or b"RMS001" in result.output.encode()


def _nofile(limit: int):
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


@pytest.mark.slow
def test_real_cli_under_random_resource_limits(tmp_path):
    """Few file descriptors and absurd -j: one clear line per problem, a defined
    exit code, every file fully old or fully converted, no temp file left."""
    rng = random.Random(10)
    good = b"import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n"
    for attempt in range(8):
        folder = tmp_path / f"t{attempt}"
        folder.mkdir()
        datas = [good] * 6 + corpus(attempt, 4)
        for i, data in enumerate(datas):
            (folder / f"f{i:02d}.py").write_bytes(data)
        limit = rng.choice([8, 10, 12, 16, 24, 64])
        jobs = rng.choice(["1", "2", "100000"])
        command = rng.choice(["convert", "check"])
        proc = subprocess.run(
            [*cli(), command, "-j", jobs, str(folder)],
            capture_output=True, timeout=300, preexec_fn=_nofile(limit),
        )
        stderr = proc.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, (limit, jobs, stderr[-3000:])
        assert proc.returncode in {0, 1, 123}, (limit, jobs, proc.returncode, stderr[-2000:])
        names = sorted(p.name for p in folder.iterdir())
        assert names == [f"f{i:02d}.py" for i in range(len(datas))], names
        for i, data in enumerate(datas):
            after = (folder / f"f{i:02d}.py").read_bytes()
            assert after == data or (command == "convert" and parses(after))
