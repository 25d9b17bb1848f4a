"""Generate trees shaped like real PyTorch research repositories, to benchmark on.

    python benchmarks/corpus.py DIR [--lines 40000] [--seed 0]
    python benchmarks/corpus.py DIR --call-dense --files 40

The shape follows what four public RL/vision repositories measured (about 240
files and 40k lines together, read with ``git archive``; none of their code is
used here):

* file sizes drawn from their distribution (10% under 5 lines, median ~110,
  90th percentile ~370, a few near 1,000);
* 3-4 projects side by side, each a package with ``models/``, ``algos/``,
  ``utils/``, ``tests/`` and scripts, 3-5 folders deep;
* a root ``.gitignore`` of ~145 patterns (the usual Python template plus ML
  entries: runs, checkpoints, wandb, logs, ``*.pt``), and nested ``.gitignore``
  files in the projects, docs and data folders, with negations;
* ignored run and checkpoint folders full of ``.py`` snapshots (wandb and hydra
  copy the code of every run), which a walk must never enter;
* ~3.5% of the modules mention RMSprop (most build it, some only name it), and
  ~1.5% of the source files are notebooks.

``--call-dense`` writes modules with an RMSprop call every ~13-17 lines instead:
keyword and positional arguments, comments inside calls, param groups.
Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_corpus import CALL_IMPORTS, HEADER, TEMPLATES, _block  # noqa: E402

# Line counts of real modules at the 0, 10, 25, 50, 75, 90, 99 and 100th percentile.
SIZE_QUANTILES = [(0.0, 1), (0.10, 4), (0.25, 40), (0.50, 107), (0.75, 229), (0.90, 365), (0.99, 877), (1.0, 990)]
RMSPROP_SHARE = 0.035
NOTEBOOK_SHARE = 0.015
KINDS = ("models", "algos", "utils", "envs", "tests")

# The GitHub Python template, trimmed the way research repositories keep it, plus ML entries.
ROOT_GITIGNORE = """\
# Byte-compiled / optimized / DLL files
__pycache__/
*.py[cod]
*$py.class
*.so
.Python
build/
develop-eggs/
dist/
downloads/
eggs/
.eggs/
lib/
lib64/
parts/
sdist/
var/
wheels/
share/python-wheels/
*.egg-info/
.installed.cfg
*.egg
MANIFEST
*.manifest
*.spec
pip-log.txt
pip-delete-this-directory.txt
htmlcov/
.tox/
.nox/
.coverage
.coverage.*
.cache
nosetests.xml
coverage.xml
*.cover
*.py,cover
.hypothesis/
.pytest_cache/
cover/
*.mo
*.pot
*.log
local_settings.py
db.sqlite3
db.sqlite3-journal
instance/
.webassets-cache
.scrapy
docs/_build/
.pybuilder/
target/
.ipynb_checkpoints
profile_default/
ipython_config.py
.python-version
Pipfile.lock
poetry.lock
__pypackages__/
celerybeat-schedule
celerybeat.pid
*.sage.py
.env
.venv
env.bak/
venv.bak/
.spyderproject
.spyproject
.ropeproject
/site
.mypy_cache/
.dmypy.json
dmypy.json
.pyre/
.pytype/
cython_debug/
.idea/
.vscode/
*.swp
*.swo
*~
.DS_Store
Thumbs.db
# experiments
runs/
wandb/
outputs/
multirun/
lightning_logs/
mlruns/
logs/
tb_logs/
checkpoints/
ckpt/
saved_models/
trained_models/
results/
*.pt
*.pth
*.ckpt
*.pkl
*.npz
*.npy
*.h5
*.hdf5
*.tfevents.*
events.out.*
*.mp4
*.gif
!docs/**/*.gif
*.png
!docs/**/*.png
*.csv
data/raw/
data/processed/
/data/*
!/data/README.md
!/data/.gitignore
MUJOCO_LOG.TXT
*.lprof
*.prof
junk/
scratch/
tmp/
*.tmp
*.bak
*.orig
nohup.out
slurm-*.out
*.sublime-project
*.sublime-workspace
.fuse_hidden*
ghostdriver.log
git_rewrite_commit_history.sh
keys/
/env
/venv
*.zip
*.tar.gz
videos/
"""

PROJECT_GITIGNORE = """\
# local experiment folders of this project
exp_*/
sweeps/
*_local.py
!run_local.py
generated/
"""
DOCS_GITIGNORE = "_build/\n_autosummary/\n*.inv\n!objects.inv\n"
DATA_GITIGNORE = "*\n!.gitignore\n!README.md\n"
RUN_GITIGNORE = "*\n"  # what tools write into their own output folders

CALL_STYLES = (
    "optim.RMSprop(model.parameters(), lr={lr}, alpha=0.99, eps=1e-5)",
    "optim.RMSprop(\n        model.parameters(), {lr}, eps=args.eps, alpha=args.alpha)",
    "torch.optim.RMSprop(\n        model.parameters(),\n        lr={lr},  # tuned on the validation split\n"
    "        weight_decay=1e-4,\n        centered=True,\n    )",
    "RMSprop(\n        [\n            {{\"params\": model.encoder.parameters(), \"lr\": {lr}}},\n"
    "            {{\"params\": model.head.parameters()}},\n        ],\n        lr={lr},\n        momentum=0.9,\n    )",
    "optim.RMSprop(params=model.parameters(), lr=self.lr, alpha=self.alpha, eps=self.eps)",
)


def _size(rng: random.Random) -> int:
    """A module length drawn from the real distribution (piecewise linear)."""
    u = rng.random()
    for (q0, n0), (q1, n1) in zip(SIZE_QUANTILES, SIZE_QUANTILES[1:]):
        if u <= q1:
            return max(1, round(n0 + (n1 - n0) * (u - q0) / (q1 - q0)))
    return SIZE_QUANTILES[-1][1]


def _module(rng: random.Random, kind: str, lines: int, rmsprop: bool) -> str:
    if lines < 8 and not rmsprop:
        return "".join(f"from .{kind}_{i} import *  # noqa: F401,F403\n" for i in range(lines))
    parts = [HEADER.format(doc=f"{kind.capitalize()} for the experiments.")]
    if rmsprop:
        parts.append("".join(CALL_IMPORTS))
    count = sum(p.count("\n") for p in parts)
    templates = TEMPLATES[{"algos": "train", "envs": "data", "tests": "utils"}.get(kind, kind)]
    while count < lines:
        block = _block(rng, rng.choice(templates))
        parts.append(block)
        count += block.count("\n")
    if rmsprop:
        if rng.random() < 0.25:  # named but not called: a choice table
            parts.append('\n\nOPTIMIZERS = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}\n')
        else:
            call = rng.choice(CALL_STYLES).format(lr=rng.choice((7e-4, 1e-3, 5e-4)))
            parts.append(f"\n\ndef make_optimizer(model, args=None):\n    return {call}\n")
    return "".join(parts)


def _notebook(rng: random.Random, rmsprop: bool) -> str:
    cells = ["%matplotlib inline\nimport torch\nimport torch.nn as nn\nfrom torch import optim"]
    for _ in range(rng.randrange(4, 12)):
        cells.append(_block(rng, rng.choice(TEMPLATES["utils"])).strip())
    if rmsprop:
        cells.append("opt = optim.RMSprop(model.parameters(), lr=1e-3)")
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": [line + "\n" for line in cell.split("\n")]}
            for cell in cells
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1) + "\n"


def make_tree(root: Path, *, lines: int = 40_000, seed: int = 0) -> dict[str, int]:
    """Write a real-shaped tree of about ``lines`` source lines; returns counts."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".gitignore").write_text(ROOT_GITIGNORE)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / ".gitignore").write_text(DATA_GITIGNORE)
    (root / "data" / "prepare_cache.py").write_text("# written by prepare.py\n")
    stats = {"files": 0, "lines": 0, "rmsprop": 0, "notebooks": 0, "ignored_files": 0}
    projects = max(1, min(4, lines // 10_000 + 1))
    total = 0
    index = 0
    while total < lines:
        project = f"project{index % projects}"
        package = root / project / f"pkg{index % projects}"
        kind = KINDS[rng.randrange(len(KINDS))]
        depth = rng.choice((0, 0, 1, 1, 2))
        folder = package / kind
        for level in range(depth):
            folder = folder / f"{kind[:-1]}_{rng.randrange(6)}"
        folder.mkdir(parents=True, exist_ok=True)
        # Exactly the share, spread evenly: chance alone made 40k-line trees vary 2x.
        rmsprop = int((index + 1) * RMSPROP_SHARE) > int(index * RMSPROP_SHARE)
        if rng.random() < NOTEBOOK_SHARE:
            path = root / project / "notebooks" / f"explore_{index}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            text = _notebook(rng, rmsprop)
            stats["notebooks"] += 1
        else:
            path = folder / f"{kind}_{index}.py"
            text = _module(rng, kind, _size(rng), rmsprop)
        path.write_text(text)
        count = text.count("\n")
        total += count
        stats["files"] += 1
        stats["rmsprop"] += rmsprop
        index += 1
    for number in range(projects):
        project = root / f"project{number}"
        (project / ".gitignore").write_text(PROJECT_GITIGNORE)
        (project / "docs").mkdir(exist_ok=True)
        (project / "docs" / ".gitignore").write_text(DOCS_GITIGNORE)
        (project / "docs" / "conf.py").write_text('project = "demo"\nextensions = ["sphinx.ext.autodoc"]\n')
        stats["files"] += 1
        # Ignored output folders: code snapshots of every run, which must never be read.
        sources = sorted(project.rglob("*.py"))[:40]
        for run in range(max(2, lines // 20_000)):
            for folder in (
                project / "wandb" / f"run-2024{run:04d}-abc{run}" / "files" / "code",
                project / "outputs" / f"2024-05-{run % 28 + 1:02d}" / f"12-{run % 60:02d}-00" / ".hydra",
                project / "checkpoints" / f"step_{run * 1000}",
                project / f"exp_{run}",
            ):
                folder.mkdir(parents=True, exist_ok=True)
                for source in sources[: 4 + run % 8]:
                    (folder / source.name).write_bytes(source.read_bytes())
                    stats["ignored_files"] += 1
            (project / "wandb" / ".gitignore").write_text(RUN_GITIGNORE)
        cache = project / f"pkg{number}" / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / "stale.cpython-311.py").write_text("# stale\n")
    stats["lines"] = total
    return stats


def make_call_dense(root: Path, *, files: int = 40, seed: int = 0) -> int:
    """Modules with an RMSprop call every ~13-17 lines; returns the number of calls."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    calls = 0
    for index in range(files):
        parts = [HEADER.format(doc="Optimizers for every experiment."), "".join(CALL_IMPORTS)]
        for _ in range(rng.randrange(15, 60)):
            call = rng.choice(CALL_STYLES).format(lr=rng.choice((7e-4, 1e-3, 5e-4, 0.01)))
            name = f"make_{rng.choice(('actor', 'critic', 'encoder', 'policy', 'value'))}_{calls}"
            body = [
                f"\n\ndef {name}(model, args, self=None):",
                f'    """Optimizer {calls}: see the experiment table."""',
                "    scale = getattr(args, 'scale', 1.0)",
                "    if scale <= 0:",
                "        raise ValueError(f'bad scale {scale}')",
                "    model.train()",
                f"    optimizer = {call}",
                "    return optimizer\n",
            ]
            filler = rng.randrange(0, 5)
            body[6:6] = [f"    step_{k} = scale * {k + 1}" for k in range(filler)]
            parts.append("\n".join(body))
            calls += 1
        (root / f"optimizers_{index:03d}.py").write_text("".join(parts))
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--lines", type=int, default=40_000)
    parser.add_argument("--call-dense", action="store_true")
    parser.add_argument("--files", type=int, default=40, help="with --call-dense")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.call_dense:
        print(f"{args.directory}: {make_call_dense(args.directory, files=args.files, seed=args.seed)} calls")
    else:
        print(f"{args.directory}: {make_tree(args.directory, lines=args.lines, seed=args.seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
