"""Convert the RMSProp calls of one module's source text: the public core.

How the work is split, and why (measured, see README "Performance"):

1. a byte-level test (``might_contain_calls``) skips files that cannot matter;
2. ``ast.parse`` + one scope walk (``analysis.py``) find the calls by binding;
3. each rewritten call is written by offset edits on its own text where that is
   plainly exact (``textbuild.py``: most calls); the others, and each import
   statement we change, go through libcst (``rewrite.py``, ``imports.py``); the
   results are spliced back by offset, so every other byte of the file is
   untouched by construction.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field

from ..findings import Finding
from ..options import EPS_CHOICES, TARGET_CHOICES, TO_CHOICES, Options
from .analysis import Analysis, analyse
from .lr_to_torch import insert_edits
from .pipeline import Module, Site, build, call_failure, edits_for, planner, report_rewrite, select, splice
from .plan import CallPlan
from .prefilter import might_contain_calls
from .safety import syntax_error_after
from .uses import follow

__all__ = [
    "EPS_CHOICES",
    "TARGET_CHOICES",
    "TO_CHOICES",
    "Conversion",
    "Options",
    "ParseError",
    "RewrittenCall",
    "convert_source",
    "might_contain_calls",
    "parse",
]


# Findings that stay true when a file is left unchanged after all.
_KEPT_ON_ABANDON = frozenset({"RMS002", "RMS102", "RMS103"})


@dataclass
class RewrittenCall:
    """One call as it was and as it was written (``Conversion.calls``)."""

    plan: CallPlan
    before: str
    after: str


@dataclass
class Conversion:
    source: str
    findings: list[Finding] = field(default_factory=list)
    changed: bool = False
    # The calls rewritten, in order of size (innermost first); empty for predict runs.
    calls: list[RewrittenCall] = field(default_factory=list)


class ParseError(Exception):
    """The text is not Python that this interpreter can parse."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def parse(source: str) -> ast.Module:
    """``ast.parse``, with every way it can fail turned into ``ParseError``."""
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        line = exc.lineno or 1
        reason = exc.msg or "invalid syntax"
        raise ParseError(f"cannot parse: {reason} (line {line})", line, exc.offset or 1) from None
    except (RecursionError, MemoryError):
        raise ParseError("cannot parse: expression nested too deeply for the Python parser") from None
    except ValueError as exc:  # e.g. source code string cannot contain null bytes
        raise ParseError(f"cannot parse: {exc}") from None


def convert_source(
    source: str, options: Options | None = None, *, path: str = "<stdin>", predict: bool = False, opaque: str = ""
) -> Conversion:
    """Rewrite the RMSProp calls in ``source`` as ``options`` say.

    Returns the new text (identical when nothing changed) and the findings.
    Raises ``ParseError`` when ``source`` is not parsable Python.

    ``predict=True`` (``rmsport check`` without ``--diff``) stops after planning:
    the findings and ``changed`` are what a conversion would report, ``source`` is
    returned as given, and libcst is never imported.  The one thing it cannot
    foresee is a call that the libcst stage refuses (RMS002, e.g. an argument to
    drop whose value holds a comment); convert reports those.

    ``opaque`` is code that runs with this module but that it cannot see (a
    notebook's magics and cells that do not parse): an import whose name occurs
    there is never removed.
    """
    options = options or Options()
    if not might_contain_calls(source):
        return Conversion(source)
    tree = parse(source)
    # The scope walk recurses about twice per nesting level; CPython accepts
    # expressions deeper than the default limit allows for that.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        analysis = analyse(tree)
    except RecursionError:
        raise ParseError("cannot analyse: expression nested too deeply", 1, 1) from None
    finally:
        sys.setrecursionlimit(limit)
    if not analysis.references:
        return Conversion(source)
    return _run(source, options, path, analysis, predict, opaque)


def _run(source: str, options: Options, path: str, analysis: Analysis, predict: bool, opaque: str = "") -> Conversion:
    """select -> plan -> build -> splice -> check, then the reports (see ``pipeline.py``)."""
    module = Module(source, path, analysis, opaque)
    selection = select(module, options)
    follow(module, selection, options)  # uses of the rewritten optimizers; their schedulers (uses.py)
    findings = list(selection.findings)
    verified: dict[int, Finding | None] = {}
    if options.verify:
        # Simulated before building: a call whose simulation raises is left
        # unchanged with RMS002, like one whose planning raises (select).
        kept = []
        for site in selection.sites:
            try:
                verified[id(site)] = _verification(module, site, options)
            except Exception as exc:  # noqa: BLE001 - the per-call boundary (issue 10)
                findings.append(module.finding("RMS002", f"call left unchanged: {call_failure(exc)}", site.call))
                continue
            kept.append(site)
        selection.sites = kept
    if not selection.sites:
        return _done(source, source, findings)
    if predict:
        for site in selection.sites:
            findings.extend(_reports(module, site, options, verified))
        return _done(source, source, findings, changed=True)

    imports, built, refused = build(module, selection.sites, line_length=options.line_length)
    findings.extend(refused)
    edits = edits_for(imports, built) + insert_edits(module, built, imports)
    new_source = splice(source, edits)
    for item in built:
        findings.extend(_reports(module, item.site, options, verified))
    # Only the statements around the edits are parsed again (safety.py).
    problem = syntax_error_after(source, edits, analysis.tree, module.index)
    if problem is not None:  # pragma: no cover - a bug guard
        findings = [f for f in findings if f.code in _KEPT_ON_ABANDON or f.severity == "error"]
        findings.append(
            module.finding(
                "RMS002", f"rewrite produced code that does not parse ({problem}); file left unchanged", analysis.tree.body[0]
            )
        )
        return _done(source, source, findings)
    conversion = _done(source, new_source, findings)
    conversion.calls = [RewrittenCall(b.site.plan, source[b.site.start : b.site.end], b.text) for b in built]
    return conversion


def _reports(module: Module, site: Site, options: Options, verified: dict[int, Finding | None]) -> list[Finding]:
    findings = report_rewrite(module, site)
    if options.verify:
        finding = verified[id(site)] if id(site) in verified else _verification(module, site, options)
        if finding is not None:
            findings.append(finding)
    return findings


def _verification(module: Module, site: Site, options: Options) -> Finding | None:
    import warnings

    from .verification import verification_finding

    def locate(code: str, message: str, **extra) -> Finding:
        return module.finding(code, message, site.call, **extra)

    with warnings.catch_warnings():
        # numpy's "overflow encountered" for a huge literal is not a message for
        # the user: the verdict already says "max abs diff inf".
        warnings.simplefilter("ignore", RuntimeWarning)
        return verification_finding(
            locate, site.plan, options.eps_mapping, planner(module, site.ref, options), options.mindspore_device
        )


def _done(source: str, new_source: str, findings: list[Finding], changed: bool | None = None) -> Conversion:
    findings.sort(key=lambda f: (f.line, f.column, f.code))
    return Conversion(new_source, findings, new_source != source if changed is None else changed)
