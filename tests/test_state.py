"""Optimizer-state migration and gradient replay without the frameworks: the math, the names, the errors.

The real-framework proof (train, migrate, continue in the other framework) is
tests/test_state_frameworks.py; here every conversion is checked against the
numpy reference core, so a wrong fold (``moment = lr * momentum_buffer``) or a
lost slot shows up as a different trajectory, not only as a different number.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import ROOT, run_cli

from rmsport.numerics import reference as R
from rmsport.numerics.replay import GradsError, load_grads, replay, Recording
from rmsport.state.errors import MISMATCH, UNREADABLE, USAGE, StateError
from rmsport.state.migrate import from_mindspore, from_torch, to_mindspore, to_torch, torch_state_shapes
from rmsport.state.model import GroupHyper
from rmsport.state.names import infer_names, read_name_map, read_names_file

SHAPES = {"fc1.weight": (3, 4), "fc1.bias": (3,), "bn.gamma": (3,), "fc2.weight": (1, 3)}
NAMES = list(SHAPES)


def group(**kw):
    g = {"lr": 0.01, "momentum": 0.9, "alpha": 0.99, "eps": 1e-8, "centered": False, "weight_decay": 0,
         "capturable": False, "foreach": None, "maximize": False, "differentiable": False}
    g.update(kw)
    return g


def torch_sd(rng, *, groups=None, step=7, shapes=SHAPES):
    groups = groups or [group(params=list(range(len(shapes))))]
    state = {}
    for gi, g in enumerate(groups):
        for pos in g["params"]:
            shape = list(shapes.values())[pos]
            entry = {"step": float(step), "square_avg": rng.random(shape, dtype=np.float32) + 0.1}
            if g["momentum"] > 0:
                entry["momentum_buffer"] = rng.standard_normal(shape).astype(np.float32)
            if g["centered"]:
                entry["grad_avg"] = 0.1 * rng.standard_normal(shape).astype(np.float32)
            state[pos] = entry
    return {"state": state, "param_groups": groups}


def as_ckpt(entries):
    return dict(entries)


# -- the math ---------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    lr=st.sampled_from([1e-3, 0.01, 0.3]),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    centered=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_nn_state_continues_torch_trajectory(lr, momentum, centered, seed):
    """nn's update from the migrated state == torch's from the original, once epsilon sits in the same place.

    This isolates what the migration must get right (the fold of lr into moment, the running
    square average instead of nn's 1, mean_grad) from the one rule difference it cannot change.
    """
    rng = np.random.default_rng(seed)
    sd = torch_sd(rng, groups=[group(params=[0, 1], lr=lr, momentum=momentum, centered=centered)],
                  shapes={"w": (4, 2), "b": (3,)})
    state = from_torch(sd, ["w", "b"])
    ckpt = as_ckpt(to_mindspore(state, "nn"))
    assert float(ckpt["learning_rate"]) == pytest.approx(lr, rel=1e-7)
    assert ckpt["global_step"].tolist() == [7]
    torch_cfg = R.config_for(R.TORCH, {"lr": lr, "momentum": momentum, "centered": centered})
    nn_cfg = R.config_for(R.MS_NN, {"learning_rate": lr, "decay": 0.99, "momentum": float(momentum),
                                    "epsilon": 1e-8, "centered": centered})._replace(eps_in_sqrt=False)
    for pos, name in enumerate(["w", "b"]):
        entry = sd["state"][pos]
        zeros = np.zeros_like(entry["square_avg"], dtype=np.float64)
        t_state = R.RMSPropState(0, entry["square_avg"].astype(np.float64), entry.get("grad_avg", zeros) * 1.0,
                                 entry.get("momentum_buffer", zeros) * 1.0)
        n_state = R.RMSPropState(0, ckpt[f"mean_square.{name}"].astype(np.float64),
                                 ckpt[f"mean_grad.{name}"].astype(np.float64) if centered else zeros,
                                 ckpt[f"moment.{name}"].astype(np.float64))
        p_t = p_n = rng.standard_normal(zeros.shape)
        p0 = p_t.copy()
        for _ in range(15):
            g = rng.standard_normal(zeros.shape)
            p_t, t_state = R.update(g, t_state, p_t, torch_cfg)
            p_n, n_state = R.update(g, n_state, p_n, nn_cfg)
        moved = np.abs(p_t - p0).max()
        # float32 storage of moment = lr * buf costs ~1e-7 of the buffer: the only difference.
        assert np.abs(p_t - p_n).max() <= 1e-6 * moved + 1e-12


def test_fresh_nn_state_would_not_continue_the_run():
    """The control for the test above: without the migrated state, nn's fresh state (s=1) is far off."""
    rng = np.random.default_rng(1)
    g = 0.01 * rng.standard_normal((30, 5))
    sd = torch_sd(rng, shapes={"w": (5,)}, groups=[group(params=[0], momentum=0.0)])
    sd["state"][0]["square_avg"] = np.full(5, 1e-4, np.float32)
    rec = Recording(grads={"w": g}, params={})
    nn_kwargs = {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-16, "momentum": 0.0}
    from_state = replay(R.TORCH, {"momentum": 0, "eps": 1e-12}, R.MS_NN, nn_kwargs, rec,
                        start={"w": from_torch(sd, ["w"]).params[0]})
    fresh_nn = R.simulate(R.MS_NN, {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-16}, np.zeros(5), g)
    torch_from_state = replay(R.TORCH, {}, R.TORCH, {}, rec, start={"w": from_torch(sd, ["w"]).params[0]})
    assert from_state.result["max_rel_diff"] < 1e-6
    gap_fresh = np.abs(fresh_nn[-1] - torch_from_state.comparison.src[-1]).max()
    assert gap_fresh > 0.5 * np.abs(torch_from_state.comparison.src[-1]).max()


@settings(max_examples=30, deadline=None)
@given(target=st.sampled_from(["nn", "experimental"]), momentum=st.sampled_from([0.0, 0.9]),
       centered=st.booleans(), seed=st.integers(0, 2**16))
def test_round_trip_torch_mindspore_torch(target, momentum, centered, seed):
    rng = np.random.default_rng(seed)
    sd = torch_sd(rng, groups=[group(params=[0, 1, 2, 3], momentum=momentum, centered=centered, lr=0.03)])
    ckpt = as_ckpt(to_mindspore(from_torch(sd, NAMES), target))
    expected = {"nn": {"mean_square", "moment"} | ({"mean_grad"} if centered else set()),
                "experimental": {"mean_square", "moment", "mean_grad"}}[target]
    assert {k.split(".", 1)[0] for k in ckpt if "." in k} == expected
    assert ("global_step" in ckpt) == (target == "nn") == ("learning_rate" in ckpt)
    hyper = GroupHyper(lr=0.03, alpha=0.99, eps=1e-8, momentum=momentum, centered=centered, weight_decay=0.0)
    back = to_torch(from_mindspore(ckpt, source=target, hyper=hyper, step=None if target == "nn" else 7))
    assert back["param_groups"][0]["params"] == [0, 1, 2, 3]
    for pos in range(4):
        a, b = sd["state"][pos], back["state"][pos]
        assert set(a) == set(b)
        assert b["step"] == 7.0
        for key in ("square_avg", "momentum_buffer", "grad_avg"):
            if key in a:
                np.testing.assert_allclose(b[key], a[key], rtol=2e-7, atol=0)


def test_per_group_lr_is_folded_per_parameter_and_reported():
    rng = np.random.default_rng(2)
    sd = torch_sd(rng, groups=[group(params=[0, 1], lr=0.1), group(params=[2, 3], lr=0.001)])
    state = from_torch(sd, NAMES)
    ckpt = as_ckpt(to_mindspore(state, "nn"))
    np.testing.assert_allclose(ckpt["moment.fc1.weight"], 0.1 * sd["state"][0]["momentum_buffer"], rtol=1e-6)
    np.testing.assert_allclose(ckpt["moment.bn.gamma"], 0.001 * sd["state"][2]["momentum_buffer"], rtol=1e-6)
    assert "learning_rate" not in ckpt
    assert any("different lr" in n for n in state.notes)


def test_what_cannot_be_carried_is_reported():
    rng = np.random.default_rng(3)
    sd = torch_sd(rng, groups=[group(params=[0, 1, 2, 3], weight_decay=0.01, maximize=True, initial_lr=0.02)])
    sd["state"][1]["step"] = 3.0
    state = from_torch(sd, NAMES)
    ckpt = as_ckpt(to_mindspore(state, "nn"))
    text = "\n".join(state.notes)
    assert "different step counts (3..7): global_step = 7" in text
    assert "maximize" in text and "beta/gamma" in text and "lr scheduler" in text
    assert ckpt["global_step"].dtype == np.int32 and ckpt["learning_rate"].shape == ()
    exp_state = from_torch(sd, NAMES)
    to_mindspore(exp_state, "experimental")
    assert any("keeps no step count" in n for n in exp_state.notes)


def test_never_stepped_parameter_starts_from_torch_fresh_state():
    rng = np.random.default_rng(4)
    sd = torch_sd(rng)
    del sd["state"][3]
    with pytest.raises(StateError, match="never took a step") as exc:
        from_torch(sd, NAMES)
    assert exc.value.exit_code == MISMATCH
    state = from_torch(sd, NAMES, shapes=list(SHAPES.values()))
    ckpt = as_ckpt(to_mindspore(state, "nn"))
    assert not ckpt["mean_square.fc2.weight"].any() and ckpt["mean_square.fc2.weight"].shape == (1, 3)


# -- errors: every one names the parameter and writes nothing (the CLI writes only after these) ----------


@pytest.mark.parametrize(
    ("mutate", "names", "message", "code"),
    [
        (None, NAMES[:3], r"holds 4 parameters but 3 names were given: parameter 3 \(shape \(1, 3\)\) has no name",
         MISMATCH),
        (None, [*NAMES, "extra.w"], r"'extra.w' has no parameter in SRC", MISMATCH),
        (lambda sd: sd["state"][1].__setitem__("momentum_buffer", np.zeros(4, np.float32)), NAMES,
         r"'fc1.bias': momentum_buffer has shape \(4,\), square_avg \(3,\)", MISMATCH),
        (lambda sd: sd["state"][2].pop("momentum_buffer"), NAMES, r"'bn.gamma': its group uses momentum_buffer",
         MISMATCH),
        (lambda sd: sd["param_groups"][0].pop("alpha"), NAMES, r"another optimizer.*'alpha'", UNREADABLE),
        (lambda sd: sd.pop("param_groups"), NAMES, r"no 'state'/'param_groups'.*--key", UNREADABLE),
        (lambda sd: sd["state"].__setitem__(9, {}), NAMES, r"entry 9 that no param group lists", UNREADABLE),
    ],
)
def test_torch_side_errors(mutate, names, message, code):
    sd = torch_sd(np.random.default_rng(5))
    if mutate:
        mutate(sd)
    with pytest.raises(StateError, match=message) as exc:
        from_torch(sd, names)
    assert exc.value.exit_code == code


def test_nn_cannot_mix_centered_groups():
    sd = torch_sd(np.random.default_rng(6), groups=[group(params=[0, 1]), group(params=[2, 3], centered=True)])
    with pytest.raises(StateError, match="disagree on centered"):
        to_mindspore(from_torch(sd, NAMES), "nn")
    to_mindspore(from_torch(sd, NAMES), "experimental")  # experimental keeps per-group flags


def _nn_ckpt():
    rng = np.random.default_rng(7)
    return as_ckpt(to_mindspore(from_torch(torch_sd(rng), NAMES), "nn"))


HYPER = GroupHyper(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.9, centered=False, weight_decay=0.0)


@pytest.mark.parametrize(
    ("mutate", "kwargs", "message"),
    [
        (lambda c: c.pop("moment.fc1.bias"), {}, r"SRC has mean_square.fc1.bias but no moment.fc1.bias"),
        (lambda c: c.pop("mean_square.fc1.bias"), {}, r"SRC has moment.fc1.bias but no mean_square.fc1.bias"),
        (lambda c: c.__setitem__("moment.bn.gamma", np.zeros((2, 2), np.float32)), {},
         r"moment.bn.gamma has shape \(2, 2\) but mean_square.bn.gamma has \(3,\)"),
        (lambda c: c.__setitem__("fc2.weight", np.zeros((3, 1), np.float32)), {},
         r"fc2.weight has shape \(3, 1\) but mean_square.fc2.weight has \(1, 3\)"),
        (None, {"names": [*NAMES, "head.bias"]}, r"'head.bias' from --names has no mean_square.head.bias"),
        (None, {"names": NAMES[1:]}, r"SRC holds state for 'fc1.weight', which --names does not list"),
        (lambda c: c.__setitem__("learning_rate", np.array(0.0, np.float32)), {}, r"learning_rate is 0"),
        (None, {"source": "experimental"}, r"only mindspore.nn.RMSProp keeps"),
    ],
)
def test_mindspore_side_errors(mutate, kwargs, message):
    ckpt = _nn_ckpt()
    if mutate:
        mutate(ckpt)
    kwargs = {"source": "nn", "hyper": HYPER, **kwargs}
    with pytest.raises(StateError, match=message) as exc:
        from_mindspore(ckpt, **kwargs)
    assert exc.value.exit_code == MISMATCH


def test_experimental_moment_without_momentum_is_refused():
    rng = np.random.default_rng(8)
    ckpt = as_ckpt(to_mindspore(from_torch(torch_sd(rng), NAMES), "experimental"))
    with pytest.raises(StateError, match=r"moment.fc1.weight is non-zero.*--call"):
        from_mindspore(ckpt, source="experimental", hyper=GroupHyper(**{**vars(HYPER), "momentum": 0.0}))


def test_nn_centered_comes_from_the_checkpoint_and_order_from_names():
    rng = np.random.default_rng(9)
    sd = torch_sd(rng, groups=[group(params=[0, 1, 2, 3], centered=True)])
    ckpt = as_ckpt(to_mindspore(from_torch(sd, NAMES), "nn"))
    order = ["fc2.weight", "fc1.weight", "fc1.bias", "bn.gamma"]
    state = from_mindspore(ckpt, source="nn", hyper=HYPER, names=order)
    assert [p.name for p in state.params] == order and state.groups[0].centered
    assert any("torch gets centered=True" in n for n in state.notes)
    np.testing.assert_array_equal(state.params[0].grad_avg, sd["state"][3]["grad_avg"])


def test_nn_learning_rate_schedule_is_reported():
    ckpt = _nn_ckpt()
    ckpt["learning_rate"] = np.array([0.1, 0.05, 0.02, 0.01, 0.01, 0.01, 0.005, 0.001], np.float32)
    state = from_mindspore(ckpt, source="nn", hyper=HYPER)
    assert state.groups[0].lr == pytest.approx(0.005)  # the lr of step 7 (global_step = 7)
    assert any("schedule's position is not carried" in n for n in state.notes)


# -- names ------------------------------------------------------------------------------


def test_infer_names_skips_buffers_and_applies_the_map():
    model = {"fc1.weight": (3, 4), "fc1.bias": (3,), "bn.weight": (3,), "bn.bias": (3,), "bn.running_mean": (3,),
             "bn.running_var": (3,), "bn.num_batches_tracked": (), "fc2.weight": (1, 3)}
    names, shapes = infer_names(model, [(3, 4), (3,), (3,), (3,), (1, 3)], {"bn.weight": "bn.gamma",
                                                                           "bn.bias": "bn.beta"})
    assert names == ["fc1.weight", "fc1.bias", "bn.gamma", "bn.beta", "fc2.weight"]
    assert shapes[-1] == (1, 3)
    with pytest.raises(StateError, match=r"parameter 0 has state of shape \(4, 3\) but model parameter "
                                         r"'fc1.weight' has shape \(3, 4\).*--names"):
        infer_names(model, [(4, 3), (3,), (3,), (3,), (1, 3)], {})
    with pytest.raises(StateError, match="has 5 parameters but the optimizer holds 4"):
        infer_names(model, [(3, 4), (3,), (3,), (3,)], {})
    with pytest.raises(StateError, match="'bn.wieght' is not a parameter") as exc:
        infer_names(model, [(3, 4)] * 5, {"bn.wieght": "bn.gamma"})
    assert exc.value.exit_code == USAGE


def test_names_and_name_map_files(tmp_path):
    f = tmp_path / "names.txt"
    f.write_text("# MindSpore names\nfc1.weight\n\nfc1.bias  # bias\n")
    assert read_names_file(f) == ["fc1.weight", "fc1.bias"]
    f.write_text("a\nb\na\n")
    with pytest.raises(StateError, match=r"names.txt:3: 'a' repeats line 1"):
        read_names_file(f)
    m = tmp_path / "map.json"
    m.write_text('{"bn.weight": 3}')
    with pytest.raises(StateError, match="must be a JSON object of torch name -> MindSpore name"):
        read_name_map(m)
    m.write_text("{oops")
    with pytest.raises(StateError, match="not JSON"):
        read_name_map(m)
    with pytest.raises(StateError, match="cannot read") as exc:
        read_names_file(tmp_path / "missing.txt")
    assert exc.value.exit_code == USAGE


def test_torch_state_shapes_marks_unstepped_positions():
    sd = torch_sd(np.random.default_rng(10))
    del sd["state"][2]
    assert torch_state_shapes(sd) == [(3, 4), (3,), None, (1, 3)]


# -- gradient replay -------------------------------------------------------------------


def _write_npz(path, grads, params=None):
    arrays = {f"grad/{k}": v for k, v in grads.items()}
    arrays.update({f"param/{k}": v for k, v in (params or {}).items()})
    np.savez(path, **arrays)


def test_load_grads_checks_the_format(tmp_path):
    p = tmp_path / "g.npz"
    _write_npz(p, {"w": np.ones((4, 2, 3), np.float32), "b": np.ones((4, 3), np.float32)}, {"w": np.zeros((2, 3))})
    rec = load_grads(p)
    assert list(rec.grads) == ["w", "b"] and rec.steps == 4 and rec.params["w"].shape == (2, 3)
    bad = [
        ({"grad/w": np.ones((4, 2)), "grad/b": np.ones((3, 2))}, "grad/b has 3 steps, the first entry 4"),
        ({"w": np.ones((4, 2))}, "entry 'w' is neither grad/<name> nor param/<name>"),
        ({"grad/w": np.ones((4, 2)), "param/w": np.ones(3)}, r"param/w has shape \(3,\), its gradients \(2,\)"),
        ({"grad/w": np.array([[np.nan]])}, "holds inf or nan"),
        ({"grad/w": np.ones((2, 2), dtype=np.int64)}, "must be a float array"),
        ({"param/w": np.ones(2)}, "no grad/<name> entries"),
    ]
    for arrays, message in bad:
        np.savez(p, **arrays)
        with pytest.raises(GradsError, match=message):
            load_grads(p)
    p.write_bytes(b"not a zip")
    with pytest.raises(GradsError, match="cannot read as .npz"):
        load_grads(p)


def test_replay_verdicts_follow_the_rules():
    rng = np.random.default_rng(11)
    rec = Recording(grads={"w": rng.standard_normal((50, 3, 2)), "b": 1e-6 * rng.standard_normal((50, 2))},
                    params={})
    exp = replay(R.TORCH, {"lr": 0.01, "momentum": 0.9}, R.MS_EXP, {"lr": 0.01, "momentum": 0.9}, rec)
    assert exp.result["verdict"] == "equivalent" and exp.result["steps"] == 50
    nn = replay(R.TORCH, {"lr": 0.01}, R.MS_NN, {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-8}, rec)
    assert nn.result["verdict"] == "divergent" and nn.result["first_divergent_step"] == 1
    assert set(nn.per_param) == {"w", "b"}
    short = replay(R.TORCH, {}, R.MS_EXP, {}, rec, steps=5)
    assert short.result["steps"] == 5 and short.comparison.src.shape == (6, 8)


def test_replay_start_state_must_cover_the_recording():
    rec = Recording(grads={"w": np.ones((3, 2))}, params={})
    state = from_torch(torch_sd(np.random.default_rng(12), shapes={"v": (2,)}), ["v"])
    with pytest.raises(ValueError, match="no parameter 'w'"):
        replay(R.TORCH, {}, R.MS_EXP, {}, rec, start={p.name: p for p in state.params})


# -- the command line, where no framework is needed ---------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "mindspore", "--call", "nn.RMSProp(p)"], "--call applies with --to torch"),
        (["--to", "mindspore", "--names", "n.txt", "--name-map", "m.json"], "use one"),
        (["--to", "torch", "--key", "optimizer"], "--key applies with --to mindspore"),
        (["--to", "torch", "--call", "torch.optim.RMSprop(p)"], "--call:"),
        (["--to", "torch", "--call", "nn.RMSProp(p)", "--target", "experimental"],
         "--call builds mindspore.nn.RMSProp but --target experimental"),
    ],
)
def test_state_usage_errors(tmp_path, args, message):
    (tmp_path / "src.pt").write_bytes(b"x")
    dst = "out.pt" if "torch" in args else "out.ckpt"
    r = run_cli("state", "convert", "src.pt", dst, *args, cwd=tmp_path, text=True)
    assert r.returncode == USAGE, r.stderr
    assert r.stderr.count("\n") == 1 and message in r.stderr and r.stderr.startswith("error: ")
    assert not (tmp_path / dst).exists()


def test_state_dst_suffix_and_missing_src(tmp_path):
    (tmp_path / "src.pt").write_bytes(b"x")
    r = run_cli("state", "convert", "src.pt", "out.bin", cwd=tmp_path, text=True)
    assert r.returncode == USAGE and "DST out.bin must end in .ckpt" in r.stderr
    r = run_cli("state", "convert", "nope.pt", "out.ckpt", cwd=tmp_path, text=True)
    assert r.returncode == USAGE and "nope.pt" in r.stderr


@pytest.mark.parametrize(("missing", "to"), [("torch", "mindspore"), ("mindspore", "torch"), ("mindspore", "mindspore"),
                                             ("torch", "torch")])
def test_missing_extra_is_one_line_naming_it(tmp_path, missing, to):
    """Simulate an install without the frameworks: importing the module fails."""
    src = tmp_path / ("src.pt" if to == "mindspore" else "src.ckpt")
    src.write_bytes(b"x")
    dst = tmp_path / ("out.ckpt" if to == "mindspore" else "out.pt")
    code = (f"import sys; sys.modules[{missing!r}] = None\n"
            "from rmsport.cli import main\n"
            f"main(['state', 'convert', {str(src)!r}, {str(dst)!r}, '--to', {to!r}])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == USAGE
    assert r.stderr == (f"error: rmsport state needs torch and MindSpore ({missing} is missing): "
                        "pip install 'rmsport[state]'\n")
    assert not dst.exists()


def test_compare_replays_recorded_gradients(tmp_path):
    rng = np.random.default_rng(13)
    _write_npz(tmp_path / "g.npz", {"fc.weight": 0.1 * rng.standard_normal((40, 2, 3)),
                                    "fc.bias": 0.1 * rng.standard_normal((40, 2))})
    call = "torch.optim.RMSprop(p, lr=0.01, momentum=0.9)"
    r = run_cli("compare", call, "--target", "experimental", "--grads", "g.npz", cwd=tmp_path, text=True)
    assert r.returncode == 0, r.stderr
    assert "replaying 40 recorded steps from g.npz, from a fresh state" in r.stdout
    assert "fc.weight" in r.stdout and "verdict: equivalent" in r.stdout
    r = run_cli("compare", call, "--grads", "g.npz", "--steps", "10", cwd=tmp_path, text=True)
    assert r.returncode == 0 and "verdict: divergent" in r.stdout and "steps 10" in r.stdout


def test_compare_replay_errors(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"no")
    (tmp_path / "s.pt").write_bytes(b"no")
    call = "torch.optim.RMSprop(p)"
    r = run_cli("compare", call, "--grads", "bad.npz", cwd=tmp_path, text=True)
    assert r.returncode == UNREADABLE and r.stderr.startswith("error: bad.npz: cannot read as .npz")
    r = run_cli("compare", call, "--state", "s.pt", cwd=tmp_path, text=True)
    assert r.returncode == USAGE and "--state needs --grads" in r.stderr
    _write_npz(tmp_path / "g.npz", {"w": np.ones((3, 2))})
    r = run_cli("compare", call, "--grads", "g.npz", "--plot", "x.png", cwd=tmp_path, text=True)
    assert r.returncode == USAGE and "does not combine with --grads" in r.stderr


def test_compare_state_without_the_extra(tmp_path):
    _write_npz(tmp_path / "g.npz", {"w": np.ones((3, 2))})
    (tmp_path / "s.pt").write_bytes(b"x")
    code = ("import sys; sys.modules['mindspore'] = None\n"
            "from rmsport.cli import main\n"
            "main(['compare', 'torch.optim.RMSprop(p)', '--grads', 'g.npz', '--state', 's.pt'])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == USAGE
    assert r.stderr.endswith("error: rmsport state needs torch and MindSpore (mindspore is missing): "
                             "pip install 'rmsport[state]'\n")
