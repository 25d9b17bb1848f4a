"""Convert the RMSProp calls of one module's source text: the public core.

How the work is split, and why (measured, see README "Performance"):

1. a byte-level test (``might_contain_calls``) skips files that cannot matter;
2. ``ast.parse`` + one scope walk (``analysis.py``) find the calls by binding;
3. only the source text of each rewritten call, and of each import statement we
   change, goes through libcst (``rewrite.py``, ``imports.py``), and the results
   are spliced back by offset, so every other byte of the file is untouched by
   construction.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field

from .analysis import LineIndex, Reference, analyse
from ..tables.optimizers import APIS, DIRECTIONS, MISSPELLED
from ..findings import CODES, Finding
from .imports import Edit, plan_imports
from ..options import EPS_CHOICES, TARGET_CHOICES, TO_CHOICES, Options
from .plan import CallPlan, plan_call
from .prefilter import might_contain_calls

__all__ = [
    "EPS_CHOICES",
    "TARGET_CHOICES",
    "TO_CHOICES",
    "Conversion",
    "Options",
    "ParseError",
    "convert_source",
    "might_contain_calls",
    "parse",
]


# Findings that stay true when a file is left unchanged after all.
_KEPT_ON_ABANDON = frozenset({"RMS002", "RMS102", "RMS103"})
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass
class Conversion:
    source: str
    findings: list[Finding] = field(default_factory=list)
    changed: bool = False


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
    source: str, options: Options | None = None, *, path: str = "<stdin>", predict: bool = False
) -> Conversion:
    """Rewrite the RMSProp calls in ``source`` as ``options`` say.

    Returns the new text (identical when nothing changed) and the findings.
    Raises ``ParseError`` when ``source`` is not parsable Python.

    ``predict=True`` (``rmsport check`` without ``--diff``) stops after planning:
    the findings and ``changed`` are what a conversion would report, ``source`` is
    returned as given, and libcst is never imported.  The one thing it cannot
    foresee is a call that the libcst stage refuses (RMS002, e.g. an argument to
    drop whose value holds a comment); convert reports those.
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
    return _Converter(source, options, path, analysis, predict).run()


class _Converter:
    def __init__(self, source: str, options: Options, path: str, analysis, predict: bool = False) -> None:
        self.source = source
        self.predict = predict
        self.options = options
        self.path = path
        self.analysis = analysis
        self.index = LineIndex(source)
        match = _NEWLINE.search(source)
        self.newline = match.group() if match else "\n"
        self.findings: list[Finding] = []
        self.direction = DIRECTIONS[(options.to, options.target)]
        # What this run writes; a misspelling of it is fixed even though it is
        # not a source of the direction.
        self.target_apis = set(self.direction.values())

    # -- findings ----------------------------------------------------------
    def add(self, code: str, message: str, node: ast.AST, severity: str | None = None, **extra) -> Finding:
        start, end = self.index.span(node)
        line, column = self.index.position(start)
        end_line, end_column = self.index.position(end)
        finding = Finding(self.path, line, column, end_line, end_column, code, message, severity or "", **extra)
        self.findings.append(finding)
        return finding

    # -- the pass ------------------------------------------------------------
    def run(self) -> Conversion:
        pending: list[tuple[Reference, CallPlan]] = []
        for ref in self.analysis.references:
            dst = self.direction.get(ref.api.qualname)
            misspelled = ref.spelled in MISSPELLED
            if dst is None:
                # Not a source of this direction; a misspelled target class is
                # still fixed, since it cannot run as written.
                if misspelled and ref.api.qualname in self.target_apis:
                    dst = ref.api.qualname
                else:
                    continue
            if misspelled:
                self.add(
                    "RMS102",
                    f"{ref.spelled} does not exist (AttributeError); the class is {ref.api.qualname}",
                    ref.node,
                )
            if ref.call is None:
                self.add(
                    "RMS103",
                    f"{ref.spelled} is referenced but not called here, so its arguments are passed elsewhere; "
                    "not rewritten: convert the place that passes them by hand",
                    ref.node,
                )
                continue
            plan = plan_call(
                ref.call,
                ref.api,
                APIS[dst],
                eps_mapping=self.options.eps_mapping,
                device=self.options.mindspore_device,
                qualname_of=lambda node, scope=ref.scope: self.analysis.qualname_of(node, scope),
            )
            if plan.blocked:
                for code, message, node, severity in plan.reports:
                    if CODES[code][0] == "error":  # the call stays as it is: only say why
                        self.add(code, message, node if node is not None else ref.call, severity)
            else:
                pending.append((ref, plan))  # its findings are added once it is rewritten

        accepted = [(ref, plan, *self.index.span(ref.call)) for ref, plan in pending]  # type: ignore[arg-type]
        if not accepted:
            return self._done(self.source)

        if self.predict:
            for ref, plan, _, _ in accepted:
                self._report_rewrite(ref, plan)
            self.findings.sort(key=lambda f: (f.line, f.column, f.code))
            return Conversion(self.source, self.findings, True)

        imports, built = self._build(accepted)
        edits: list[Edit] = list(imports.edits)
        for ref, plan, start, end, text in built:
            if not any(s <= start and end <= e and (s, e) != (start, end) for _, _, s, e, _ in built):
                edits.append(Edit(start, end, text))
        for ref, plan, start, end, text in built:
            self._report_rewrite(ref, plan)

        new_source = _apply(self.source, edits)
        try:
            ast.parse(new_source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:  # pragma: no cover - a bug guard
            self.findings = [f for f in self.findings if f.code in _KEPT_ON_ABANDON or f.severity == "error"]
            self.add("RMS002", f"rewrite produced code that does not parse ({exc}); file left unchanged",
                     self.analysis.tree.body[0])
            return self._done(self.source)
        return self._done(new_source)

    def _build(self, accepted: list[tuple[Reference, CallPlan, int, int]]):
        """New text for each call, and the import edits they need.

        A call that libcst refuses is left unchanged with RMS002 and the rest are
        planned again without it, so one odd call never blocks the others.
        """
        import libcst as cst

        from .rewrite import CannotRewrite, build_call

        # A misspelled attribute (``ms.nn.RMSprop``) only needs its last name
        # fixed; the import that reached it is right and stays.
        def attr_fix(ref: Reference, plan: CallPlan) -> bool:
            return plan.spelling_only and isinstance(ref.node, ast.Attribute)

        config = cst.PartialParserConfig(default_newline=self.newline)
        module = cst.Module([], default_newline=self.newline)
        failed: set[int] = set()
        while True:
            live = [item for item in accepted if id(item[0]) not in failed]
            imports = plan_imports(
                self.analysis,
                self.index,
                [(ref, plan.dst.qualname) for ref, plan, _, _ in live if not attr_fix(ref, plan)],
                self.newline,
            )
            built: list[tuple[Reference, CallPlan, int, int, str]] = []
            # Innermost first, so that a call nested in another one's arguments
            # is already rewritten inside the outer call's text.
            for ref, plan, start, end in sorted(live, key=lambda item: item[3] - item[2]):
                text = self.source[start:end]
                inner = [Edit(s - start, e - start, t) for _, _, s, e, t in built if start <= s and e <= end]
                if inner:
                    text = _apply(text, inner)
                try:
                    node = cst.parse_expression(text, config=config)
                    if not isinstance(node, cst.Call):
                        raise CannotRewrite("the call's text is not a plain call")
                    if attr_fix(ref, plan) and isinstance(node.func, cst.Attribute):
                        func: cst.BaseExpression = node.func.with_changes(
                            attr=cst.Name(plan.dst.qualname.rsplit(".", 1)[1])
                        )
                    else:
                        func = cst.parse_expression(imports.spellings[plan.dst.qualname])
                    new_text = module.code_for_node(build_call(node, plan, func))
                except (CannotRewrite, cst.ParserSyntaxError) as exc:
                    reason = str(exc) if isinstance(exc, CannotRewrite) else f"libcst cannot parse it ({exc.message})"
                    self.add("RMS002", f"call left unchanged: {reason}", ref.call)  # type: ignore[arg-type]
                    failed.add(id(ref))
                    break
                built.append((ref, plan, start, end, new_text))
            else:
                return imports, built

    def _report_rewrite(self, ref: Reference, plan: CallPlan) -> None:
        assert ref.call is not None
        for code, message, node, severity in plan.reports:
            self.add(code, message, node if node is not None else ref.call, severity)
        self.add(
            "RMS101",
            f"{ref.spelled} -> {plan.dst.qualname}" + (" (spelling fixed)" if plan.spelling_only else ""),
            ref.call,
        )
        if self.options.verify and not plan.spelling_only:
            self.findings.append(self._verification(ref, plan))

    def _done(self, new_source: str) -> Conversion:
        self.findings.sort(key=lambda f: (f.line, f.column, f.code))
        return Conversion(new_source, self.findings, new_source != self.source)

    def _verification(self, ref: Reference, plan: CallPlan) -> Finding:
        """RMS401 from rmsport.numerics.advice (the numbers and their wording live there)."""
        from ..numerics.advice import eps_alternative_matters, verification

        device = self.options.mindspore_device
        alternative = None
        if plan.all_literal and eps_alternative_matters(plan.src.qualname, plan.dst.qualname, device):
            # The other --eps-mapping's keywords, simulated in the same pass.
            other = "matched" if self.options.eps_mapping == "literal" else "literal"
            assert ref.call is not None
            alt = plan_call(
                ref.call, plan.src, plan.dst, eps_mapping=other, device=device,
                qualname_of=lambda node, scope=ref.scope: self.analysis.qualname_of(node, scope),
            )
            if alt.all_literal and not alt.blocked:
                alternative = dict(alt.dst_kwargs)
        ver = verification(
            plan.src.qualname, dict(plan.src_kwargs), plan.dst.qualname, dict(plan.dst_kwargs),
            device=device, literal=plan.all_literal, not_literal=tuple(plan.not_literal),
            grouped=plan.grouped, eps_mapping=self.options.eps_mapping, alternative_kwargs=alternative,
        )
        assert ref.call is not None
        start, end = self.index.span(ref.call)
        line, column = self.index.position(start)
        end_line, end_column = self.index.position(end)
        return Finding(self.path, line, column, end_line, end_column, "RMS401", ver.message, ver.severity,
                       verification=ver.result)


def _apply(source: str, edits: list[Edit]) -> str:
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    out = []
    pos = 0
    for edit in edits:
        if edit.start < pos:  # pragma: no cover - guarded by the nesting check
            raise RuntimeError("overlapping edits")
        out.append(source[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(source[pos:])
    return "".join(out)
