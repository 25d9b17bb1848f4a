"""Following a rewritten optimizer through its module (``rmsport/engine/uses.py``).

Each test writes a small module, converts it, and asserts which uses are reported
(code and line) and which schedulers are rewritten; ``check`` (predict) must report
the same as ``convert``.
"""

from __future__ import annotations

import pytest

from rmsport.engine.convert import Options, convert_source

EXP = Options(target="experimental")
NN = Options(target="nn")
TO_TORCH = Options(to="torch")


def _run(source: str, options: Options) -> tuple[str, list[tuple[str, int]]]:
    result = convert_source(source, options, path="t.py")
    predicted = convert_source(source, options, path="t.py", predict=True)
    uses = sorted((f.code, f.line) for f in result.findings if f.code >= "RMS5")
    assert uses == sorted((f.code, f.line) for f in predicted.findings if f.code >= "RMS5")
    return result.source, uses


def test_local_variable_in_training_loop():
    src = (
        "import torch\n"
        "def train(model, data):\n"
        "    opt = torch.optim.RMSprop(model.parameters())\n"
        "    for loss in data:\n"
        "        opt.zero_grad()\n"
        "        loss.backward()\n"
        "        opt.step()\n"
    )
    _, uses = _run(src, NN)
    assert uses == [("RMS501", 5), ("RMS501", 7)]


def test_module_variable_used_in_functions_but_not_a_shadowing_parameter():
    src = (
        "import torch\n"
        "opt = torch.optim.RMSprop(model.parameters())\n"
        "def a():\n"
        "    opt.step()\n"
        "def b(opt):\n"
        "    opt.step()\n"  # another object: b's parameter
        "def c():\n"
        "    opt = make()\n"
        "    opt.step()\n"  # a local of c
    )
    _, uses = _run(src, NN)
    assert uses == [("RMS501", 4)]


def test_self_attribute_across_methods_and_copies():
    src = (
        "import torch\n"
        "class T:\n"
        "    def __init__(self, m):\n"
        "        self.optimizer = torch.optim.RMSprop(m.parameters())\n"
        "    def save(self):\n"
        "        return self.optimizer.state_dict()\n"
        "    def lr(self, value):\n"
        "        optimizer = self.optimizer\n"
        "        optimizer.param_groups[0]['lr'] = value\n"
        "class Other:\n"
        "    def save(self):\n"
        "        return self.optimizer.state_dict()\n"  # another class's attribute
    )
    _, uses = _run(src, NN)
    assert uses == [("RMS502", 9), ("RMS504", 6)]
    _, uses = _run(src, EXP)
    assert uses == [("RMS503", 9)]


def test_factory_return_value_and_passed_parameter():
    src = (
        "import torch\n"
        "def make(m):\n"
        "    return torch.optim.RMSprop(m.parameters(), lr=0.1)\n"
        "def set_lr(optimizer, lr):\n"
        "    o = optimizer\n"
        "    for g in o.param_groups:\n"
        "        g['lr'] = lr\n"
        "def main(m):\n"
        "    opt = make(m)\n"
        "    set_lr(opt, 0.01)\n"
        "    sched = torch.optim.lr_scheduler.StepLR(opt, 5)\n"
    )
    out, uses = _run(src, EXP)
    assert uses == [("RMS503", 7)]
    assert "sched = optim.lr_scheduler.StepLR(optimizer=opt, step_size=5)" in out
    _, uses = _run(src, NN)
    assert uses == [("RMS502", 6), ("RMS505", 11)]


def test_method_factory():
    src = (
        "import torch\n"
        "class A:\n"
        "    def build(self):\n"
        "        return torch.optim.RMSprop(self.net.parameters())\n"
        "    def run(self):\n"
        "        o = self.build()\n"
        "        o.step()\n"
    )
    _, uses = _run(src, EXP)
    assert uses == [("RMS501", 7)]


def test_scheduler_on_another_optimizer_is_left_alone():
    src = (
        "import torch\n"
        "a = torch.optim.RMSprop(m.parameters())\n"
        "b = torch.optim.Adam(m.parameters())\n"
        "s = torch.optim.lr_scheduler.StepLR(b, 5)\n"
        "t = torch.optim.lr_scheduler.StepLR(optimizer=a, step_size=5)\n"
    )
    out, uses = _run(src, EXP)
    assert uses == []
    assert "s = torch.optim.lr_scheduler.StepLR(b, 5)" in out
    assert "t = optim.lr_scheduler.StepLR(optimizer=a, step_size=5)" in out
    assert "import torch\n" in out  # still used by Adam and the other scheduler


def test_scheduler_imported_inside_the_function():
    src = (
        "import torch\n"
        "def f(m):\n"
        "    from torch.optim.lr_scheduler import ExponentialLR\n"
        "    opt = torch.optim.RMSprop(m.parameters())\n"
        "    return ExponentialLR(opt, 0.9)\n"
    )
    out, _ = _run(src, EXP)
    assert "ExponentialLR(optimizer=opt, gamma=0.9)" in out
    assert "from torch.optim.lr_scheduler import ExponentialLR" not in out
    assert convert_source(out, EXP).source == out  # a fixed point


def test_grad_scaler_step():
    src = (
        "import torch\n"
        "opt = torch.optim.RMSprop(m.parameters())\n"
        "scaler = torch.amp.GradScaler()\n"
        "scaler.step(opt)\n"
    )
    _, uses = _run(src, EXP)
    assert uses == [("RMS501", 4)]


def test_mindspore_uses_going_to_torch():
    src = (
        "import mindspore as ms\n"
        "opt = ms.nn.RMSProp(net.trainable_params(), learning_rate=0.01)\n"
        "model = ms.train.Model(net, loss_fn=loss, optimizer=opt)\n"
        "def step(grads):\n"
        "    opt(grads)\n"
        "    return opt.get_lr(), opt.learning_rate\n"
    )
    _, uses = _run(src, TO_TORCH)
    assert uses == [("RMS501", 5), ("RMS502", 6), ("RMS502", 6), ("RMS507", 3)]


def test_experimental_scheduler_on_nn_source_is_an_error():
    src = (
        "from mindspore import nn\n"
        "from mindspore.experimental import optim\n"
        "opt = nn.RMSProp(net.trainable_params())\n"
        "s = optim.lr_scheduler.StepLR(opt, 3)\n"
    )
    _, uses = _run(src, TO_TORCH)
    assert uses == [("RMS505", 4)]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)", "RMS506"),
        ("torch.optim.lr_scheduler.ChainedScheduler([], optimizer=opt)", "RMS506"),
        ("torch.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01, cycle_momentum=True)", "RMS506"),
        ("torch.optim.lr_scheduler.StepLR(opt, 5, verbose=False)", "RMS506"),
        ("torch.optim.lr_scheduler.StepLR(opt, 5.0)", "RMS508"),
        ("torch.optim.lr_scheduler.MultiStepLR(opt, milestones=(3, 5))", "RMS508"),
        ("torch.optim.lr_scheduler.MultiStepLR(opt, milestones=ms)", "RMS509"),
        ("torch.optim.lr_scheduler.StepLR(opt, *args)", "RMS209"),
        ("torch.optim.lr_scheduler.StepLR(opt, 5, nope=1)", "RMS214"),
    ],
)
def test_scheduler_refusals(call: str, code: str | None):
    src = f"import torch\nopt = torch.optim.RMSprop(m.parameters())\ns = {call}\n"
    result = convert_source(src, EXP, path="t.py")
    codes = {f.code for f in result.findings if f.line == 3}
    if code is None:
        assert codes == set()
        return
    assert code in codes
    if code != "RMS509":
        assert f"s = {call}\n" in result.source, "left unchanged"


def test_ms_cycliclr_to_torch_pins_cycle_momentum():
    src = (
        "from mindspore.experimental import optim\n"
        "opt = optim.RMSprop(net.trainable_params())\n"
        "s = optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01)\n"
    )
    out = convert_source(src, TO_TORCH).source
    # 96 characters on one line: broken one argument per line (issue 14)
    assert "CyclicLR(\n    optimizer=opt,\n    base_lr=0.001,\n    max_lr=0.01,\n    cycle_momentum=False,\n)" in out


def test_a_user_class_named_model_is_not_mindspore_wiring():
    src = (
        "from mindspore import nn\n"
        "class Model:\n"
        "    def __init__(self, net, optimizer):\n"
        "        self.net = net\n"
        "opt = nn.RMSProp(net.trainable_params())\n"
        "m = Model(net, optimizer=opt)\n"
        "w = nn.TrainOneStepCell(net, opt)\n"
    )
    _, uses = _run(src, TO_TORCH)
    assert uses == [("RMS507", 7)]


def test_class_level_assignment_is_not_followed_as_a_module_variable():
    src = (
        "import torch\n"
        "class Config:\n"
        "    opt = torch.optim.RMSprop(params)\n"
        "opt = object()\n"
        "opt.step()\n"
    )
    _, uses = _run(src, NN)
    assert uses == []


def test_rewritten_scheduler_checkpoint_is_reported():
    src = (
        "import torch\n"
        "class T:\n"
        "    def __init__(self, m):\n"
        "        self.opt = torch.optim.RMSprop(m.parameters())\n"
        "        self.sched = torch.optim.lr_scheduler.StepLR(self.opt, 5)\n"
        "    def save(self):\n"
        "        return {'opt': self.opt.state_dict(), 'sched': self.sched.state_dict()}\n"
        "    def load(self, ckpt):\n"
        "        self.sched.load_state_dict(ckpt['sched'])\n"
    )
    _, uses = _run(src, EXP)
    # experimental has state_dict() for the optimizer; its schedulers have none.
    assert uses == [("RMS504", 7), ("RMS504", 9)]


def test_passed_by_keyword_to_a_module_function():
    src = (
        "import torch\n"
        "def fit(model, *, optimizer, epochs=1):\n"
        "    optimizer.zero_grad()\n"
        "opt = torch.optim.RMSprop(m.parameters())\n"
        "fit(m, optimizer=opt)\n"
    )
    _, uses = _run(src, EXP)
    assert uses == [("RMS501", 3)]


def test_recursive_factory_terminates():
    src = (
        "import torch\n"
        "def make(m, again=False):\n"
        "    if again:\n"
        "        return make(m)\n"
        "    return torch.optim.RMSprop(m.parameters())\n"
        "opt = make(m)\n"
        "opt.step()\n"
    )
    _, uses = _run(src, NN)
    assert uses == [("RMS501", 7)]


@pytest.mark.parametrize(
    "spawn",
    [
        "threading.Thread(target=learn, args=(flags, model, optimizer))",
        "mp.Process(target=learn, args=[flags, model, optimizer])",
        "threading.Thread(target=learn, args=(flags, model), kwargs={'optimizer': optimizer})",
    ],
)
def test_handed_to_a_thread_or_process(spawn: str):
    # Asynchronous trainers (an actor/learner split) hand the optimizer to the
    # learner's thread: its uses there are the optimizer's uses.
    src = (
        "import threading\n"
        "import torch\n"
        "import torch.multiprocessing as mp\n"
        "def learn(flags, model, optimizer):\n"
        "    optimizer.zero_grad()\n"
        "    optimizer.step()\n"
        "def main(flags, model):\n"
        "    optimizer = torch.optim.RMSprop(model.parameters(), lr=flags.lr)\n"
        f"    worker = {spawn}\n"
        "    worker.start()\n"
    )
    _, uses = _run(src, NN)
    assert uses == [("RMS501", 5), ("RMS501", 6)]


def test_a_thread_of_something_else_or_an_unknown_position_is_not_followed():
    src = (
        "import threading\n"
        "import torch\n"
        "def learn(flags, model, optimizer):\n"
        "    optimizer.step()\n"
        "def main(flags, model, rest):\n"
        "    optimizer = torch.optim.RMSprop(model.parameters())\n"
        "    a = threading.Timer(1.0, learn, args=(flags, model, optimizer))\n"
        "    b = threading.Thread(target=learn, args=(*rest, optimizer))\n"
        "    c = learn(*rest, optimizer)\n"
    )
    _, uses = _run(src, NN)
    assert uses == []


def test_loading_a_torch_state_into_the_experimental_optimizer():
    # Measured with MindSpore 2.10: experimental RMSprop's load_state_dict wants its own names
    # and raises RuntimeError on {"state", "param_groups"} (tests/test_frameworks.py checks it for real).
    src = (
        "import torch\n"
        "def resume(model, path):\n"
        "    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01)\n"
        "    state = optimizer.state_dict()\n"
        "    optimizer.load_state_dict(torch.load(path)['optimizer'])\n"
        "    return optimizer\n"
    )
    _, uses = _run(src, EXP)
    assert uses == [("RMS504", 5)]
    _, uses = _run(src, NN)
    assert uses == [("RMS504", 4), ("RMS504", 5)]


def test_schedulers_stay_with_an_optimizer_the_build_refuses():
    # The optimizer call was left unchanged (RMS002: dropping `foreach` would lose the comment in
    # its value) while its scheduler became MindSpore's: a MindSpore scheduler on a torch optimizer.
    src = (
        "import torch\n"
        "opt = torch.optim.RMSprop(model.parameters(), lr=0.01, foreach=(  # why\n"
        "    None))\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, 5)\n"
        "other = torch.optim.RMSprop(model2.parameters(), lr=0.01)\n"
        "sched2 = torch.optim.lr_scheduler.StepLR(other, 5)\n"
    )
    result = convert_source(src, EXP, path="t.py")
    codes = sorted((f.code, f.line) for f in result.findings if f.code in ("RMS002", "RMS101", "RMS505"))
    assert codes == [("RMS002", 2), ("RMS101", 5), ("RMS101", 6), ("RMS505", 4)]
    lines = result.source.splitlines()
    assert lines[:2] == ["import torch", "from mindspore.experimental import optim"]
    assert lines[2:5] == src.splitlines()[1:4]  # the refused optimizer and its scheduler, as they were
    assert lines[-2:] == [
        "other = optim.RMSprop(params=model2.trainable_params(), lr=0.01)",
        "sched2 = optim.lr_scheduler.StepLR(optimizer=other, step_size=5)",
    ]
