"""The converter pipeline: select -> plan -> build -> splice -> check.

Each stage is a function over plain records, so a new kind of rewrite (a
scheduler, a use of the optimizer object) is another stage or another rule,
not another branch inside one class:

* ``select`` decides which references this run converts and to what (the
  direction table), and reports the ones it cannot touch (RMS102, RMS103);
* ``plan`` asks ``plan.py`` what happens to each argument (``ast`` only);
* ``build`` turns the plans into text, one call at a time: by offset edits on
  the call's text where that is exact (``textbuild.py``), else with libcst,
  and drops a call that libcst refuses (RMS002) without blocking the others;
* ``splice`` applies the offset-keyed edits, innermost calls first;
* ``check`` refuses a result that does not parse.

Reporting is separate (``report_rewrites``), and so is verification
(``verification.py``), which only reads the planned calls.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..findings import CODES, Finding
from ..options import Options
from ..tables.optimizers import APIS, DIRECTIONS, MISSPELLED, Api
from .analysis import Analysis, LineIndex, Reference
from .imports import Edit, ImportPlan, plan_imports
from .layout import fit_call
from .plan import CallPlan, plan_call
from .references import describe_reference
from .textbuild import build_text

_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass
class Module:
    """The module being converted, and how to point at places in it."""

    source: str
    path: str
    analysis: Analysis
    opaque: str = ""  # code that runs with the module but is not in it (notebook magics): keeps imports
    index: LineIndex = field(init=False)
    newline: str = field(init=False)

    def __post_init__(self) -> None:
        self.index = LineIndex(self.source)
        match = _NEWLINE.search(self.source)
        self.newline = match.group() if match else "\n"

    def finding(self, code: str, message: str, node: ast.AST, severity: str | None = None, **extra) -> Finding:
        start, end = self.index.span(node)
        line, column = self.index.position(start)
        end_line, end_column = self.index.position(end)
        return Finding(self.path, line, column, end_line, end_column, code, message, severity or "", **extra)


@dataclass
class Site:
    """A call this run rewrites, with its plan."""

    ref: Reference
    call: ast.Call
    plan: CallPlan
    start: int
    end: int

    @property
    def spelling_only(self) -> bool:
        return self.plan.spelling_only


@dataclass
class Built:
    """A site's new text."""

    site: Site
    text: str


@dataclass
class Selection:
    sites: list[Site] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def planner(module: Module, ref: Reference, options: Options) -> Callable[[Api, str], CallPlan]:
    """``plan(dst, eps_mapping)`` for one reference (verification re-plans with the other mapping)."""
    assert ref.call is not None
    call = ref.call

    def plan(dst: Api, eps_mapping: str) -> CallPlan:
        return plan_call(
            call,
            ref.api,
            dst,
            eps_mapping=eps_mapping,
            device=options.mindspore_device,
            qualname_of=lambda node: module.analysis.qualname_of(node, ref.scope),
            value_of=lambda node: module.analysis.value_of(node, ref.scope, call),
        )

    return plan


def call_failure(exc: Exception) -> str:
    """Why planning or simulating one call failed, as an RMS002 message says it."""
    if isinstance(exc, OverflowError):
        return f"a value is too large for a float ({exc})"
    return f"cannot plan or simulate it ({type(exc).__name__}: {exc})"


# -- select + plan ------------------------------------------------------------
def select(module: Module, options: Options) -> Selection:
    """The references this run rewrites, planned; findings for those it cannot."""
    direction = DIRECTIONS[(options.to, options.target)]
    # What this run writes; a misspelling of it is fixed even though it is not
    # a source of the direction, since it cannot run as written.
    target_apis = set(direction.values())
    out = Selection()
    for ref in module.analysis.references:
        dst = direction.get(ref.api.qualname)
        misspelled = ref.spelled in MISSPELLED
        if ref.via_getattr is not None:
            if dst is not None:
                out.findings.append(
                    module.finding(
                        "RMS104",
                        f"{ref.spelled} is reached through getattr with a string; not rewritten: write "
                        "the target class there by hand (or spell it as an attribute and convert again)",
                        ref.via_getattr,
                    )
                )
            continue
        if ref.via_star is not None:
            if dst is not None:
                out.findings.append(
                    module.finding(
                        "RMS106",
                        f"{ref.root.id} is imported nowhere in this module: only `from {ref.via_star.qualname} "
                        f"import *` can bring it, and rmsport cannot see what that binds; {ref.spelled} is not "
                        f"rewritten: add `import {ref.root.id}` here and convert again, or convert it by hand",
                        ref.node,
                    )
                )
            continue
        if dst is None:
            if misspelled and ref.api.qualname in target_apis:
                dst = ref.api.qualname
            else:
                continue
        if misspelled:
            out.findings.append(
                module.finding(
                    "RMS102",
                    f"{ref.spelled} does not exist (AttributeError); the class is {ref.api.qualname}"
                    + _positional_order_note(ref),
                    ref.node,
                )
            )
        if ref.call is None:
            out.findings.append(
                module.finding(
                    "RMS103",
                    describe_reference(ref.spelled, ref.node, module.analysis.tree, dst),
                    ref.node,
                )
            )
            continue
        # One call's odd value (a complex root, a float overflow) must cost that
        # call, not the file: anything raised while planning it leaves it
        # unchanged with RMS002 (issue 10).
        try:
            plan = planner(module, ref, options)(APIS[dst], options.eps_mapping)
        except Exception as exc:  # noqa: BLE001 - the per-call boundary
            out.findings.append(module.finding("RMS002", f"call left unchanged: {call_failure(exc)}", ref.call))
            continue
        if ref.fallback and not plan.blocked:
            plan.report(
                "RMS105",
                f"{ref.root.id} falls back to None on line {getattr(ref.fallback[0].node, 'lineno', '?')} "
                "(an except clause) when "
                f"the import fails; the call can only run with the imported class, so it is rewritten for "
                f"{plan.dst.qualname}, imported where the old import was (with the same fallback when "
                f"{ref.root.id} is not used elsewhere)",
                ref.node,
            )
        if plan.blocked:
            # The call stays as it is: only say why.
            for code, message, node, severity in plan.reports:
                if CODES[code][0] == "error":
                    out.findings.append(module.finding(code, message, node if node is not None else ref.call, severity))
            continue
        start, end = module.index.span(ref.call)
        out.sites.append(Site(ref, ref.call, plan, start, end))
    return out


def _positional_order_note(ref: Reference) -> str:
    """For a torch-looking misspelling of a MindSpore class called with positional
    arguments: where MindSpore's order reads them differently from torch's."""
    from ..tables.optimizers import TORCH

    if ref.call is None or ref.api.framework != "mindspore" or len(ref.call.args) < 3:
        return ""
    torch_order = APIS[TORCH].positional
    differ = [
        f"argument {i + 1} ({ast.unparse(node)}) is {ref.api.keywords[mine]} in MindSpore's order, "
        f"{APIS[TORCH].keywords[theirs]} in torch's"
        for i, (node, mine, theirs) in enumerate(zip(ref.call.args, ref.api.positional, torch_order))
        if mine != theirs
    ]
    if not differ:
        return ""
    return "; the torch-style spelling suggests torch's argument order: " + "; ".join(differ) + (
        " (the call is converted in MindSpore's order: check it)"
    )


# -- build --------------------------------------------------------------------
def _attr_fix(site: Site) -> bool:
    # A misspelled attribute (``ms.nn.RMSprop``) only needs its last name fixed;
    # the import that reached it is right and stays.
    return site.spelling_only and isinstance(site.ref.node, ast.Attribute)


def build(
    module: Module, sites: list[Site], *, line_length: int | None = None, text_path: bool = True
) -> tuple[ImportPlan, list[Built], list[Finding]]:
    """New text for each call, and the import edits they need.

    Most calls are written by offset edits on their own text (``textbuild.py``,
    no libcst); the others, and every call when ``text_path`` is False (the
    tests compare the two), go through libcst.  A call that libcst refuses is
    left unchanged with RMS002 and the rest are planned again without it, so one
    odd call never blocks the others.  A call that no longer fits its line is
    broken one argument per line (``layout.py``; ``line_length`` is the
    project's, None: judged from the file).
    """
    refused: list[Finding] = []
    live = list(sites)
    while True:
        imports = plan_imports(
            module.analysis,
            module.index,
            [(s.ref, s.plan.dst.qualname) for s in live if not _attr_fix(s)],
            module.newline,
            module.opaque,
        )
        built: list[Built] = []
        failed: Site | None = None
        # Innermost first, so that a call nested in another one's arguments is
        # already rewritten inside the outer call's text.
        for site in sorted(live, key=lambda s: s.end - s.start):
            text = module.source[site.start : site.end]
            inner = [
                Edit(b.site.start - site.start, b.site.end - site.start, b.text)
                for b in built
                if site.start <= b.site.start and b.site.end <= site.end
            ]
            if inner:
                text = splice(text, _outermost(inner))
            new_text = None
            if text_path and not inner:
                new_text = _build_text(module, site, imports)
            if new_text is not None:
                if not any(o is not site and o.start <= site.start and site.end <= o.end for o in live):
                    new_text = fit_call(module.source, site.start, site.end, text, new_text, line_length, module.newline)
                built.append(Built(site, new_text))
                continue
            import libcst as cst  # only for the calls the text path leaves (importing it costs too)

            from .rewrite import CannotRewrite

            try:
                new_text = _build_libcst(module, site, text, imports)
                if not any(o is not site and o.start <= site.start and site.end <= o.end for o in live):
                    # the outermost call is laid out as a whole, the ones inside it with it
                    new_text = fit_call(module.source, site.start, site.end, text, new_text, line_length, module.newline)
            except (CannotRewrite, cst.ParserSyntaxError) as exc:
                reason = str(exc) if isinstance(exc, CannotRewrite) else f"libcst cannot parse it ({exc.message})"
                refused.append(module.finding("RMS002", f"call left unchanged: {reason}", site.call))
                failed = site
                break
            built.append(Built(site, new_text))
        if failed is None:
            return imports, built, refused
        # The schedulers built on a refused optimizer stay torch with it: a MindSpore
        # scheduler cannot drive a torch optimizer.  (A refused scheduler leaves its
        # optimizer converted, with the error on the scheduler, as plan-stage refusals do.)
        tied = [s for s in live if s is not failed and getattr(s.plan, "optimizer_plan", None) is failed.plan]
        line = module.index.position(failed.start)[0]
        for site in tied:
            refused.append(module.finding(
                "RMS505",
                f"call left unchanged: the optimizer it drives (line {line}) is left unchanged, and a "
                f"{site.plan.dst.qualname} cannot drive a {failed.plan.src.qualname}; convert them together "
                "once that call is fixed",
                site.call,
            ))
        live = [s for s in live if s is not failed and s not in tied]


def _build_libcst(module: Module, site: Site, text: str, imports: ImportPlan) -> str:
    """The call's new text through libcst: parse ``text``, apply the plan, print.

    Raises ``CannotRewrite`` or libcst's ``ParserSyntaxError`` when it cannot.
    """
    import libcst as cst

    from .rewrite import CannotRewrite, build_call, parse_value

    config, empty = _libcst_for(module.newline)
    node = cst.parse_expression(text, config=config)
    if not isinstance(node, cst.Call):
        raise CannotRewrite("the call's text is not a plain call")
    if _attr_fix(site) and isinstance(node.func, cst.Attribute):
        func: cst.BaseExpression = node.func.with_changes(attr=cst.Name(site.plan.dst.qualname.rsplit(".", 1)[1]))
    else:
        func = parse_value(imports.spellings[site.plan.dst.qualname])
    return empty.code_for_node(build_call(node, site.plan, func, comments="#" in text))


@functools.lru_cache(maxsize=4)
def _libcst_for(newline: str) -> tuple:
    """libcst's parser config and an empty module (for ``code_for_node``) writing ``newline``."""
    import libcst as cst

    return cst.PartialParserConfig(default_newline=newline), cst.Module([], default_newline=newline)


def _build_text(module: Module, site: Site, imports: ImportPlan) -> str | None:
    """The call's new text by offset edits (``textbuild.py``), or None: use libcst."""
    attr_name = func_text = None
    if _attr_fix(site):
        if not isinstance(site.call.func, ast.Attribute):
            return None
        attr_name = site.plan.dst.qualname.rsplit(".", 1)[1]
    else:
        func_text = imports.spellings.get(site.plan.dst.qualname)
        if func_text is None:
            return None
    index, base = module.index, site.start
    return build_text(
        module.source[site.start : site.end],
        site.call,
        lambda lineno, col: index.offset(lineno, col) - base,
        site.plan,
        func_text,
        attr_name,
        module.newline,
    )


def _outermost(edits: list[Edit]) -> list[Edit]:
    """Drop edits nested inside another edit: the outer text already holds them."""
    return [e for e in edits if not any(o.start <= e.start and e.end <= o.end and o is not e for o in edits)]


def edits_for(imports: ImportPlan, built: list[Built]) -> list[Edit]:
    return [*imports.edits, *_outermost([Edit(b.site.start, b.site.end, b.text) for b in built])]


# -- splice + check -------------------------------------------------------------
def splice(source: str, edits: list[Edit]) -> str:
    """Apply non-overlapping offset edits (the nesting is resolved by the caller)."""
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    out = []
    pos = 0
    for edit in edits:
        if edit.start < pos:  # pragma: no cover - guarded by _outermost
            raise RuntimeError("overlapping edits")
        out.append(source[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(source[pos:])
    return "".join(out)


def check(new_source: str) -> str | None:
    """Why the new text must not be written, or None when it parses."""
    try:
        ast.parse(new_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return str(exc)
    return None


# -- reporting ------------------------------------------------------------------
def report_rewrite(module: Module, site: Site) -> list[Finding]:
    """The findings of a call that is (or would be) rewritten: the plan's, then RMS101."""
    findings = [
        module.finding(code, message, node if node is not None else site.call, severity)
        for code, message, node, severity in site.plan.reports
    ]
    findings.append(
        module.finding(
            "RMS101",
            f"{site.ref.spelled} -> {site.plan.dst.qualname}" + (" (spelling fixed)" if site.spelling_only else ""),
            site.call,
        )
    )
    return findings
