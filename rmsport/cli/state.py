"""``rmsport state``: move a training run's optimizer state between torch and MindSpore.

Exit codes (README "Exit codes"): 0 written; 1 the state cannot be carried faithfully
(missing, extra or mis-shaped parameter; nothing written); 2 usage (options, --names /
--name-map / --key / --call, missing extra); 123 SRC cannot be read or holds no RMSprop
state, or DST cannot be written.  Every error is one line on stderr; DST is written only
after the whole conversion succeeded, and atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..options import TARGET_CHOICES, TO_CHOICES
from ..state.errors import USAGE, StateError

TORCH_API = "torch.optim.RMSprop"


@click.group(name="state")
def state_group() -> None:
    """Move optimizer state (RMSProp) between torch and MindSpore checkpoints.

    \b
      rmsport state convert run.pt opt.ckpt --to mindspore --target experimental
      rmsport state convert opt.ckpt run.pt --to torch --call "nn.RMSProp(params, momentum=0.9)"
    """


@state_group.command(name="convert")
@click.argument("src", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dst", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--to", type=click.Choice(TO_CHOICES), default=None,
              help="Framework of DST (default: torch when SRC ends in .ckpt, else mindspore).")
@click.option("--target", type=click.Choice(TARGET_CHOICES), default=None,
              help="The MindSpore class: mindspore.nn.RMSProp (nn, default with --to mindspore) or "
                   "mindspore.experimental.optim.RMSprop. With --to torch: the class SRC came from "
                   "(default: detected; nn keeps global_step and learning_rate).")
@click.option("--key", default=None, help="With --to mindspore: the key of SRC's dict that holds the "
                                         "optimizer state_dict (default: found).")
@click.option("--names", "names_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="One MindSpore parameter name per line, in the torch optimizer's parameter order.")
@click.option("--name-map", "name_map_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --to mindspore: JSON object renaming the torch names of the model state_dict in "
                   "SRC to MindSpore names (e.g. {\"bn.weight\": \"bn.gamma\"}).")
@click.option("--call", "call", default=None,
              help="With --to torch: the MindSpore constructor call of the optimizer that wrote SRC, for "
                   "the hyperparameters a checkpoint does not keep, e.g. \"nn.RMSProp(params, momentum=0.9)\".")
@click.option("--step", type=click.IntRange(min=0), default=None,
              help="With --to torch: torch's step count (experimental keeps none; default: SRC's global_step, or 0).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
def convert_state(src: Path, dst: Path, to: str | None, target: str | None, key: str | None,
                  names_file: Path | None, name_map_file: Path | None, call: str | None, step: int | None,
                  quiet: bool) -> None:
    """Convert the optimizer state in SRC into DST for the other framework."""
    from .app import _print_error, _stderr_console

    console = _stderr_console()
    to = to or ("torch" if src.suffix == ".ckpt" else "mindspore")
    try:
        summary, notes = _convert(src, dst, to, target, key, names_file, name_map_file, call, step)
    except StateError as exc:
        _print_error(console, exc.message)
        sys.exit(exc.exit_code)
    if not quiet:
        for note in notes:
            console.print(f"note: {note}")
        for line in summary:
            console.print(line)


def _convert(src, dst, to, target, key, names_file, name_map_file, call, step) -> tuple[list[str], list[str]]:
    from ..state import io, migrate
    from ..state.names import batchnorm_hints, infer_names, read_name_map, read_names_file

    if to == "mindspore":
        for flag, value in (("--call", call), ("--step", step)):
            if value is not None:
                raise StateError(f"{flag} applies with --to torch (SRC's param_groups hold torch's "
                                 "hyperparameters and steps)", USAGE)
        if dst.suffix != ".ckpt":
            raise StateError(f"DST {dst} must end in .ckpt (MindSpore appends it to other names)", USAGE)
        if names_file is not None and name_map_file is not None:
            raise StateError("--names already gives MindSpore names; --name-map renames inferred ones: use one",
                             USAGE)
        target = target or "nn"
        names = read_names_file(names_file) if names_file is not None else None
        name_map = read_name_map(name_map_file) if name_map_file is not None else {}
        io.require_frameworks()
        sd, model_shapes, used_key = io.read_torch(src, key)
        state_shapes = migrate.torch_state_shapes(sd)
        shapes = None
        if names is None:
            if model_shapes is None:
                raise StateError(f"SRC {src} holds no model state_dict beside the optimizer to take names from: "
                                 "give --names FILE (one MindSpore name per line, in optimizer order)", USAGE)
            names, shapes = infer_names(model_shapes, state_shapes, name_map)
        state = migrate.from_torch(sd, names, shapes=shapes)
        if names_file is None and model_shapes is not None:
            state.notes.extend(batchnorm_hints(model_shapes, name_map))
        entries = migrate.to_mindspore(state, target)
        io.write_ckpt(dst, entries)
        return _summary_to_mindspore(dst, state, entries, target, used_key), state.notes

    # --to torch
    if key is not None or name_map_file is not None:
        flag = "--key" if key is not None else "--name-map"
        raise StateError(f"{flag} applies with --to mindspore", USAGE)
    if dst.suffix == ".ckpt":
        raise StateError(f"DST {dst} ends in .ckpt but --to torch writes a torch.save file (.pt)", USAGE)
    names = read_names_file(names_file) if names_file is not None else None
    planned = _plan_call(call, target) if call is not None else None
    io.require_frameworks()
    ckpt = io.read_ckpt(src)
    # The class SRC came from: --target, else the --call's class, else what the checkpoint holds.
    planned_source = None
    if planned is not None:
        planned_source = next(t for t in ("nn", "experimental") if _ms_api(t) == planned.src_api)
    source = target or planned_source or migrate.detect_source(ckpt)
    if planned is None:
        planned = _plan_call(f"{_ms_api(source)}(params)", source)
    hyper = _hyper_from(planned.dst_kwargs)
    state = migrate.from_mindspore(ckpt, source=source, hyper=hyper, names=names, step=step)
    sd = migrate.to_torch(state)
    io.write_torch(dst, sd)
    return _summary_to_torch(dst, state, source), state.notes


def _ms_api(target: str) -> str:
    from ..state.slots import API_OF_TARGET

    return API_OF_TARGET[target]


def _plan_call(call: str, target: str | None):
    from ..engine.single_call import CallError, plan_single_call
    from ..options import Options

    try:
        planned = plan_single_call(call, Options(to="torch"), to_given=True)
    except CallError as exc:
        raise StateError(f"--call: {exc}", USAGE) from None
    if target is not None and planned.src_api != _ms_api(target):
        raise StateError(f"--call builds {planned.src_api} but --target {target} says {_ms_api(target)}", USAGE)
    return planned


def _hyper_from(torch_kwargs: dict):
    from ..numerics.reference import defaults
    from ..state.model import GroupHyper

    kw = {**defaults(TORCH_API), **torch_kwargs}
    return GroupHyper(lr=float(kw["lr"]), alpha=float(kw["alpha"]), eps=float(kw["eps"]),
                      momentum=float(kw["momentum"]), centered=bool(kw["centered"]),
                      weight_decay=float(kw["weight_decay"]), maximize=bool(kw["maximize"]))


def _torch_call(hyper) -> str:
    return (f"{TORCH_API}(params, lr={hyper.lr!r}, alpha={hyper.alpha!r}, eps={hyper.eps!r}, "
            f"weight_decay={hyper.weight_decay!r}, momentum={hyper.momentum!r}, centered={hyper.centered!r}"
            + (", maximize=True" if hyper.maximize else "") + ")")


def _summary_to_mindspore(dst, state, entries, target, used_key) -> list[str]:
    from ..engine.single_call import CallError, plan_single_call
    from ..options import Options

    where = f" (optimizer under key {used_key!r})" if used_key else ""
    slots = sorted({name.split(".", 1)[0] for name, _ in entries if "." in name})
    scalars = [f"{name}={arr.reshape(-1)[0]:g}" for name, arr in entries if "." not in name]
    lines = [f"wrote {dst}: {len(state.params)} parameters{where}; {', '.join(slots)}"
             + (f"; {', '.join(scalars)}" if scalars else "")]
    try:
        planned = plan_single_call(_torch_call(state.groups[state.params[0].group]),
                                   Options(to="mindspore", target=target))
        lines.append(f"build the optimizer as: {planned.rewritten_text}")
    except CallError as exc:
        lines.append(f"no faithful {_ms_api(target)} constructor: {exc}")
    lines.append("load it with: rmsport.state.load_into_mindspore(optimizer, path), or "
                 "mindspore.load_param_into_net(optimizer, mindspore.load_checkpoint(path), strict_load=True)")
    return lines


def _summary_to_torch(dst, state, source) -> list[str]:
    hyper = state.groups[0]
    return [
        f"wrote {dst}: {len(state.params)} parameters from {_ms_api(source)}, in this order: "
        + ", ".join(p.name for p in state.params[:6]) + (", ..." if len(state.params) > 6 else ""),
        f"build the optimizer as: {_torch_call(hyper).replace('params', 'model.parameters()', 1)} "
        "and call optimizer.load_state_dict(torch.load(path)); the parameters must come in the order above",
    ]


def replay_command(out, console, planned, grads: Path | None, state_file: Path | None, steps: int | None,
                   plot: Path | None) -> int:
    """``rmsport compare CALL --grads FILE.npz [--state FILE]``; returns the exit code."""
    from .app import _print_error

    try:
        rep, started = _replay(planned, grads, state_file, steps, plot)
    except StateError as exc:
        _print_error(console, exc.message)
        return exc.exit_code
    from ..numerics.replay import render_replay

    render_replay(out, planned.src_api, planned.src_kwargs, planned.dst_api, planned.dst_kwargs, rep,
                  source=str(grads), started_from=started)
    return 0


def _replay(planned, grads, state_file, steps, plot):
    from ..numerics.replay import GradsError, load_grads, replay
    from ..state.errors import MISMATCH, UNREADABLE

    if grads is None:
        raise StateError("--state needs --grads FILE.npz (the gradients to replay from that state)", USAGE)
    if plot is not None:
        raise StateError("--plot draws the standard problem; it does not combine with --grads", USAGE)
    try:
        recording = load_grads(grads)
    except GradsError as exc:
        raise StateError(str(exc), UNREADABLE) from None
    start = None
    if state_file is not None:
        from ..state import io

        io.require_frameworks()
        start = {p.name: p for p in _start_state(planned, state_file, list(recording.grads)).params}
    try:
        rep = replay(planned.src_api, planned.src_kwargs, planned.dst_api, planned.dst_kwargs, recording,
                     start=start, steps=steps)
    except ValueError as exc:
        raise StateError(f"--grads {grads}: {exc}", MISMATCH) from None
    return rep, str(state_file) if state_file is not None else None


def _start_state(planned, state_file: Path, grad_names: list[str]):
    """The neutral state in ``state_file``: a torch file (positions follow the .npz order) or a .ckpt."""
    from ..state import io, migrate

    try:
        if state_file.suffix == ".ckpt":
            torch_kwargs = planned.src_kwargs if planned.src_api == TORCH_API else planned.dst_kwargs
            ckpt = io.read_ckpt(state_file)
            return migrate.from_mindspore(ckpt, source=migrate.detect_source(ckpt),
                                          hyper=_hyper_from(torch_kwargs))
        sd, _model, _key = io.read_torch(state_file, None)
        return migrate.from_torch(sd, grad_names)
    except StateError as exc:
        raise StateError(f"--state {state_file}: {exc.message}", exc.exit_code) from None
