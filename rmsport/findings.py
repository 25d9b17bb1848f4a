"""Findings: what rmsport reports about a file, and the table of stable codes.

The codes are a public contract (JSON/SARIF output, README table, tests); add new
ones, never renumber.  Each code has one default severity; a few findings pick a
different one at run time (for example a verification verdict), which is why the
severity lives on the finding and not only here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"

# code -> (default severity, short title).  The README table is generated from
# this mapping by tests/test_docs.py, so the two cannot drift apart.
CODES: dict[str, tuple[str, str]] = {
    "RMS001": (ERROR, "file could not be read, decoded or parsed"),
    "RMS002": (ERROR, "internal error while converting a call; the call is left unchanged"),
    "RMS003": (WARNING, "file written, but its owner or group could not be kept (fchown refused)"),
    "RMS101": (INFO, "call rewritten (or would be rewritten by convert)"),
    "RMS102": (WARNING, "misspelled class name that raises AttributeError in the real framework"),
    "RMS103": (WARNING, "reference that is not a call (base class, type check, annotation, table, argument, alias); not rewritten"),
    "RMS104": (WARNING, "class reached through getattr with a literal name; not rewritten"),
    "RMS105": (WARNING, "import of the class has a fallback in an except clause; rewritten for the import"),
    "RMS106": (WARNING, "class reached through a name only a star import can bind (from m import *); not rewritten"),
    "RMS201": (INFO, "default drift: an omitted argument is pinned to the source default"),
    "RMS202": (INFO, "argument with no counterpart that changes no math; dropped"),
    "RMS203": (INFO, "int literal written as a float to pass MindSpore's type check"),
    "RMS204": (WARNING, "non-literal value where MindSpore requires a Python float; not checkable"),
    "RMS205": (ERROR, "epsilon must be > 0 in MindSpore; call left unchanged"),
    "RMS206": (ERROR, "maximize=True has no counterpart in mindspore.nn.RMSProp; call left unchanged"),
    "RMS207": (ERROR, "param group uses a key the target API lacks; call left unchanged"),
    "RMS208": (ERROR, "learning-rate list, Tensor or schedule has no torch constructor spelling; call left unchanged"),
    "RMS209": (ERROR, "*args or **kwargs splat whose contents cannot be seen; call left unchanged"),
    "RMS210": (WARNING, "loss_scale dropped going to torch; use torch.amp.GradScaler"),
    "RMS211": (WARNING, "non-literal learning rate going to torch; it must be a float or a Tensor"),
    "RMS212": (INFO, "params idiom rewritten (model.parameters() <-> net.trainable_params())"),
    "RMS213": (INFO, "epsilon mapped to keep the denominator's floor (--eps-mapping matched)"),
    "RMS214": (ERROR, "unknown keyword or too many positional arguments for the source API; call left unchanged"),
    "RMS215": (WARNING, "params or a value that the target could reject cannot be checked or lives on another line"),
    "RMS216": (INFO, "non-literal value written as float(...) to pass MindSpore's type check"),
    "RMS217": (ERROR, "torch Tensor learning rate that is not a one-element literal; call left unchanged"),
    "RMS218": (INFO, "one-element Tensor learning rate written as its number"),
    "RMS301": (WARNING, "semantic drift: square average starts at 1 in mindspore.nn.RMSProp, 0 in torch"),
    "RMS302": (WARNING, "semantic drift: epsilon inside the square root in mindspore.nn.RMSProp, outside in torch"),
    "RMS303": (WARNING, "semantic drift: mindspore.nn.RMSProp applies the learning rate inside the momentum buffer"),
    "RMS304": (WARNING, "semantic drift: mindspore.nn.RMSProp skips weight decay for params named beta/gamma"),
    "RMS305": (WARNING, "device drift: on CPU, MindSpore 2.10's nn.RMSProp kernel puts epsilon outside the root in SIMD blocks"),
    "RMS401": (INFO, "verification of the rewritten call against the original (see the verification field); warning when divergent"),
    # Uses of a rewritten optimizer, and the schedulers built on it (engine/uses.py).
    "RMS501": (WARNING, "training-step use of the optimizer the target lacks (step, zero_grad, GradScaler.step, optimizer(grads))"),
    "RMS502": (WARNING, "learning-rate access the target lacks (param_groups, add_param_group, learning_rate, get_lr)"),
    "RMS503": (WARNING, "number assigned to param_groups[i]['lr'] of mindspore.experimental; use mindspore.ops.assign"),
    "RMS504": (WARNING, "checkpoint method the target lacks (state_dict, load_state_dict of mindspore.nn.RMSProp or of a MindSpore scheduler), or that cannot read a torch checkpoint (load_state_dict of mindspore.experimental)"),
    "RMS505": (ERROR, "scheduler that cannot drive the target optimizer; call left unchanged"),
    "RMS506": (ERROR, "torch-only scheduler or scheduler feature; call left unchanged"),
    "RMS507": (WARNING, "MindSpore training wiring (TrainOneStepCell, Model) that torch lacks"),
    "RMS508": (ERROR, "scheduler argument of a type MindSpore's scheduler rejects; call left unchanged"),
    "RMS509": (WARNING, "non-literal scheduler argument where MindSpore requires an int or a list; not checkable"),
    "RMS510": (WARNING, "MindSpore learning-rate schedule written as a torch scheduler; step it in the training loop"),
}


@dataclass
class Finding:
    """One reported fact about a place in a file.

    Lines and columns are 1-based; columns count characters (not bytes) and
    ``end_column`` points just past the last character, like ruff's JSON.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    severity: str = ""
    cell: int | None = None  # notebook cell index (0-based), when the file is a notebook
    verification: dict[str, Any] | None = field(default=None)
    # Notebooks: (line, column, end_line, end_column) in the .ipynb file where the
    # cell's code is written, for github/SARIF; never in JSON (lines there are the cell's).
    file_region: tuple[int, int, int, int] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.severity:
            self.severity = CODES[self.code][0]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["file_region"]
        if data["cell"] is None:
            del data["cell"]
        if data["verification"] is None:
            del data["verification"]
        return data
