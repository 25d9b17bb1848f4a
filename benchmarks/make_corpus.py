"""Generate a corpus of realistic PyTorch training code to benchmark rmsport on.

    python benchmarks/make_corpus.py DIR [--files 2000] [--lines 450000]
                                         [--calls-fraction 0.01 | --all-calls] [--seed 0]

Writes ``--files`` modules of about ``--lines`` lines in total under ``DIR``,
laid out like a research repository (``models/``, ``data/``, ``train/``,
``utils/`` in a few packages, about 20 modules a folder, each a mix of
nn.Module classes, datasets, training loops and helpers), plus a ``.gitignore``
and noise a walk must skip (``__pycache__``, ``.git``).  A fraction of the
modules (1% by default; all with ``--all-calls``) build ``torch.optim.RMSprop``
optimizers, spelled the ways people spell them.  Same seed, same bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

KINDS = ("models", "data", "train", "utils")

HEADER = '''"""{doc}"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
'''

CALL_IMPORTS = (
    "from torch import optim\n",
    "from torch.optim import RMSprop\n",
    "import torch.optim as optim\n",
)

MODEL = '''

class {name}(nn.Module):
    """{name}: {depth} residual blocks of width {width}."""

    def __init__(self, in_features: int = {width}, num_classes: int = {classes}, dropout: float = 0.{drop}) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Linear(in_features, {width}),
            nn.LayerNorm({width}),
            nn.GELU(),
        )
        self.blocks = nn.ModuleList(
            [
                nn.Sequential(nn.Linear({width}, {width}), nn.ReLU(), nn.Dropout(dropout))
                for _ in range({depth})
            ]
        )
        self.head = nn.Linear({width}, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)
'''

DATASET = '''

class {name}(Dataset):
    """Windows of length {window} over a memory-mapped array in ``root``."""

    def __init__(self, root: str, split: str = "train", window: int = {window}, transform=None) -> None:
        self.root = root
        self.split = split
        self.window = window
        self.transform = transform
        path = os.path.join(root, f"{{split}}.npy")
        self.data = np.load(path, mmap_mode="r") if os.path.exists(path) else np.zeros(({rows}, {cols}))
        self.mean = float(self.data.mean()) if len(self.data) else 0.0
        self.std = float(self.data.std()) or 1.0

    def __len__(self) -> int:
        return max(0, len(self.data) - self.window)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        chunk = np.asarray(self.data[index : index + self.window + 1], dtype=np.float32)
        chunk = (chunk - self.mean) / self.std
        x = torch.from_numpy(chunk[:-1])
        y = torch.from_numpy(chunk[1:])
        if self.transform is not None:
            x = self.transform(x)
        return x, y


def make_{lower}_loader(root: str, batch_size: int = {batch}, workers: int = 2) -> DataLoader:
    dataset = {name}(root)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers, drop_last=True)
'''

TRAIN = '''

def train_{lower}(
    model: nn.Module, loader: DataLoader, optimizer, epochs: int = {epochs}, device: str = "cpu"
) -> list[float]:
    """Plain training loop with gradient clipping and a running loss."""
    model.to(device)
    history = []
    for epoch in range(epochs):
        model.train()
        running = 0.0
        for step, (inputs, targets) in enumerate(loader):
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad(set_to_none=True)
            outputs = model(inputs)
            loss = F.mse_loss(outputs, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm={clip})
            optimizer.step()
            running += loss.item()
            if step % {log_every} == 0:
                print(f"epoch {{epoch}} step {{step}} loss {{running / (step + 1):.4f}}")
        history.append(running / max(1, len(loader)))
    return history


@torch.no_grad()
def evaluate_{lower}(model: nn.Module, loader: DataLoader, device: str = "cpu") -> float:
    model.eval()
    total, count = 0.0, 0
    for inputs, targets in loader:
        outputs = model(inputs.to(device))
        total += F.mse_loss(outputs, targets.to(device), reduction="sum").item()
        count += targets.numel()
    return total / max(1, count)
'''

UTIL = """

@dataclass
class {name}Config:
    lr: float = {lr}
    weight_decay: float = 0.0
    warmup_steps: int = {warmup}
    total_steps: int = {total}
    seed: int = {seed}


def {lower}_schedule(step: int, config: {name}Config) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.total_steps - config.warmup_steps)
    return 0.5 * config.lr * (1.0 + math.cos(math.pi * min(1.0, progress)))


def {lower}_count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def {lower}_save(model: nn.Module, path: str, extra: Optional[dict[str, Any]] = None) -> None:
    state = {{"model": model.state_dict(), "extra": extra or {{}}}}
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    torch.save(state, path)
"""

CALLS = (
    "\n\ndef build_{lower}_optimizer(model: nn.Module, lr: float = {lr}):\n"
    "    return optim.RMSprop(model.parameters(), lr=lr, alpha=0.9, eps=1e-08, momentum=0.{drop})\n",
    "\n\ndef build_{lower}_optimizer(model: nn.Module):\n"
    "    optimizer = torch.optim.RMSprop(\n"
    "        model.parameters(),\n"
    "        lr={lr},\n"
    "        weight_decay=1e-4,\n"
    "    )\n"
    "    return optimizer\n",
    "\n\ndef build_{lower}_optimizer(model: nn.Module):\n" "    return RMSprop(model.parameters(), {lr})\n",
)

TEMPLATES = {"models": (MODEL, UTIL), "data": (DATASET, UTIL), "train": (TRAIN, MODEL), "utils": (UTIL, TRAIN)}
WORDS = "alpha beta gamma delta sigma omega vision audio text graph point token patch frame pixel wave".split()


def _name(rng: random.Random) -> str:
    return "".join(word.capitalize() for word in rng.sample(WORDS, 2)) + str(rng.randrange(100))


def _block(rng: random.Random, template: str) -> str:
    name = _name(rng)
    return template.format(
        name=name,
        lower=name.lower(),
        depth=rng.randrange(2, 9),
        width=rng.choice((64, 128, 256, 512)),
        classes=rng.choice((10, 100, 1000)),
        drop=rng.randrange(1, 6),
        window=rng.choice((16, 32, 64)),
        rows=rng.randrange(100, 1000),
        cols=rng.randrange(4, 64),
        batch=rng.choice((16, 32, 64, 128)),
        epochs=rng.randrange(1, 50),
        clip=rng.choice((0.5, 1.0, 5.0)),
        log_every=rng.choice((10, 50, 100)),
        lr=rng.choice((0.01, 0.001, 3e-4)),
        warmup=rng.randrange(100, 2000),
        total=rng.randrange(10000, 100000),
        seed=rng.randrange(1000),
    )


def make_module(rng: random.Random, kind: str, target_lines: int, with_calls: bool) -> str:
    parts = [HEADER.format(doc=f"{kind.capitalize()} for the {_name(rng)} experiments.")]
    if with_calls:
        parts.append("".join(CALL_IMPORTS))
    lines = sum(part.count("\n") for part in parts)
    templates = TEMPLATES[kind]
    while lines < target_lines:
        block = _block(rng, rng.choice(templates))
        parts.append(block)
        lines += block.count("\n")
    if with_calls:
        for template in rng.sample(CALLS, rng.randrange(1, len(CALLS) + 1)):
            parts.append(_block(rng, template))
    return "".join(parts)


def make_corpus(
    root: Path, *, files: int = 2000, lines: int = 450_000, calls_fraction: float = 0.01, seed: int = 0
) -> list[Path]:
    """Write the corpus; return the paths of the modules that hold calls."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".gitignore").write_text("*.log\n/outputs/\n__pycache__/\n")
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    per_file = max(20, lines // max(1, files))
    with_calls = set(rng.sample(range(files), max(1, round(files * calls_fraction)))) if calls_fraction < 1 else None
    call_files = []
    for index in range(files):
        package, slot = divmod(index, 80)
        kind = KINDS[(slot // 20) % len(KINDS)]
        folder = root / f"project{package}" / kind
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}_{slot % 20:02d}.py"
        calls = with_calls is None or index in with_calls
        jitter = rng.randrange(-per_file // 3, per_file // 3 + 1)
        path.write_text(make_module(rng, kind, per_file + jitter, calls))
        if calls:
            call_files.append(path)
        if slot == 0:
            (folder / "__init__.py").write_text("")
            cache = folder / "__pycache__"
            cache.mkdir(exist_ok=True)
            (cache / f"{kind}_00.cpython-311.py").write_text("# stale\n")
    return call_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=450_000)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--calls-fraction", type=float, default=0.01)
    group.add_argument("--all-calls", action="store_true", help="every module holds RMSprop calls")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    fraction = 1.0 if args.all_calls else args.calls_fraction
    call_files = make_corpus(
        args.directory, files=args.files, lines=args.lines, calls_fraction=fraction, seed=args.seed
    )
    total = sum(p.read_text().count("\n") for p in args.directory.rglob("*.py") if "__pycache__" not in p.parts)
    print(f"{args.directory}: {args.files} modules, {total} lines, {len(call_files)} with RMSprop calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
