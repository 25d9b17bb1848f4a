"""The ``rmsport`` command line.

Contract (README "Command line"): diffs and machine output on stdout, human
messages on stderr; exit 0 nothing to do / success, 1 something to rewrite (check)
or an error finding, 2 usage error, 123 a file could not be read or parsed.

Only click and the standard library are imported at start-up; libcst, numpy and
rich come in when a command needs them, so ``--help`` and ``--version`` are fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..options import DEVICE_CHOICES, EPS_CHOICES, TARGET_CHOICES, TO_CHOICES
from .config import OUTPUT_FORMATS, click_callback

EXIT_OK, EXIT_FOUND, EXIT_USAGE, EXIT_FILE_ERROR = 0, 1, 2, 123


class _PlainConsole:
    """stderr when it is not a terminal: plain lines, and no rich import (~30 ms)."""

    plain = True
    is_terminal = False
    is_dumb_terminal = True

    def print(self, *objects: object, **_: object) -> None:
        sys.stderr.write(" ".join(str(o) for o in objects) + "\n")


def _print_error(console, message: str) -> None:
    if getattr(console, "plain", False):
        console.print(f"error: {message}")
    else:
        from rich.markup import escape

        console.print(f"[red]error:[/red] {escape(message)}")


def _stderr_console(quiet: bool = False):
    if not sys.stderr.isatty() and not os.environ.get("FORCE_COLOR"):
        return _PlainConsole()
    from rich.console import Console

    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True)


_DEVICE_OPTION = click.option(
    "--mindspore-device", type=click.Choice(DEVICE_CHOICES), default="ascend", show_default=True,
    help="Where the MindSpore side trains: on cpu, MindSpore 2.10's nn.RMSProp kernel puts epsilon outside "
         "the root in SIMD blocks, which changes RMS302, the --eps-mapping advice and --verify.",
)


def _common_options(func):
    decorators = [
        click.argument(
            "paths",
            nargs=-1,
            type=click.Path(exists=True, allow_dash=True, path_type=Path),
            is_eager=True,
            callback=click_callback,
        ),
        click.option("--to", type=click.Choice(TO_CHOICES), default="mindspore", show_default=True,
                     help="Framework to convert to."),
        click.option("--target", type=click.Choice(TARGET_CHOICES), default="nn", show_default=True,
                     help="With --to mindspore: nn.RMSProp, or mindspore.experimental.optim.RMSprop "
                          "(torch's names and math)."),
        click.option("--eps-mapping", type=click.Choice(EPS_CHOICES), default="literal", show_default=True,
                     help="literal keeps the value; matched writes eps**2 going to nn.RMSProp "
                          "(sqrt(epsilon) coming back) to keep the denominator's floor."),
        _DEVICE_OPTION,
        click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff instead of writing files."),
        click.option("--verify", is_flag=True,
                     help="Simulate each rewritten call against the original (numpy reference) and report a verdict."),
        click.option("--output-format", type=click.Choice(list(OUTPUT_FORMATS)), default="text", show_default=True,
                     help="text (stderr), or json/github/sarif on stdout."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar, no summary; findings only."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
                     help="Worker processes (default and maximum: the available cores)."),
        click.option("--exclude", multiple=True,
                     help="Gitignore-style glob to skip; replaces the defaults. Repeatable."),
        click.option("--extend-exclude", multiple=True, help="Gitignore-style glob to skip, added to the defaults."),
        click.option("--force-exclude", is_flag=True, help="Apply excludes to paths given explicitly too (pre-commit)."),
        click.option("--no-gitignore", "no_gitignore", is_flag=True, help="Do not honour .gitignore files."),
        click.option("--stdin-filename", default=None, help="Name to report for '-' (stdin)."),
        click.option("--cache/--no-cache", "cache", default=True, show_default=True,
                     help="Reuse the results of files whose bytes were seen before (RMSPORT_CACHE_DIR; "
                          "RMSPORT_NO_CACHE=1 turns it off)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


class OutputError(Exception):
    """stdout could not take what we wrote (``> /dev/full``, a closed pipe)."""


def _write(stream, data) -> None:
    try:
        stream.write(data)
        stream.flush()
    except OSError as exc:
        raise OutputError(exc.strerror or str(exc)) from None


def _silence_stdout() -> None:
    """After stdout failed, point it at /dev/null: Python flushes it again at
    exit and would print a second error (with a traceback) otherwise."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


class _Group(click.Group):
    """Every command ends in a defined exit code and one line, never a traceback:
    Ctrl-C 130, SIGTERM 143 (after removing temp files), stdout that cannot be
    written 123 (see README "Exit codes")."""

    _program = False  # run as a program (console script, python -m), not called by a test runner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The console script and ``python -m rmsport`` call the group; click's
        # CliRunner (tests, embedding) calls ``main()`` and must get its signals back.
        self._program = True
        return self.main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        from .interrupts import EXIT_INTERRUPTED, EXIT_TERMINATED, Terminated, sigterm_unwinds

        try:
            with sigterm_unwinds(then_ignore=self._program):
                return super().invoke(ctx)
        except KeyboardInterrupt:
            message, code = "interrupted; every file is either fully converted or untouched", EXIT_INTERRUPTED
        except Terminated:
            message, code = "terminated; every file is either fully converted or untouched", EXIT_TERMINATED
        except OutputError as exc:
            _silence_stdout()
            message, code = f"cannot write to stdout: {exc}", EXIT_FILE_ERROR
        except OSError as exc:  # the environment, not a file: out of descriptors, processes ...
            where = f" ({exc.filename})" if exc.filename else ""
            message, code = f"{exc.strerror or exc}{where}", EXIT_FILE_ERROR
        try:
            sys.stderr.write(f"error: {message}\n")
            sys.stderr.flush()
        except OSError:
            pass
        raise click.exceptions.Exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rmsport", message="%(prog)s %(version)s")
def main() -> None:
    """Port RMSProp optimizer code between PyTorch and MindSpore.

    \b
      rmsport convert train.py              rewrite torch.optim.RMSprop -> mindspore.nn.RMSProp
      rmsport convert --to torch train.py   and back
      rmsport check --diff src/             CI: exit 1 when something would be rewritten
      rmsport compare "torch.optim.RMSprop(p, lr=0.01)"   trajectories side by side
      rmsport state convert run.pt opt.ckpt  move the optimizer state too
    """


@main.command()
@_common_options
@click.option("--write-read-only", is_flag=True,
              help="Also rewrite files without write permission (by default they are refused, as an editor would).")
def convert(**kwargs: Any) -> None:
    """Rewrite files in place ('-': stdin to stdout)."""
    sys.exit(_run("convert", **kwargs))


@main.command()
@_common_options
def check(**kwargs: Any) -> None:
    """Report what convert would do; never writes. Exit 1 when something would change."""
    sys.exit(_run("check", **kwargs))


def _run(
    mode: str,
    *,
    paths: tuple[Path, ...],
    to: str,
    target: str,
    eps_mapping: str,
    mindspore_device: str,
    show_diff: bool,
    verify: bool,
    output_format: str,
    quiet: bool,
    jobs: int | None,
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    force_exclude: bool,
    no_gitignore: bool,
    stdin_filename: str | None,
    cache: bool = True,
    write_read_only: bool = False,
) -> int:
    from ..options import Options
    from .runner import FileResult, Job, process_stdin, run_files

    if target == "experimental" and to != "mindspore":
        raise click.UsageError("--target experimental only applies with --to mindspore")
    quiet = quiet or bool(os.environ.get("RMSPORT_QUIET"))
    console = _stderr_console(quiet=False)
    options = Options(to=to, target=target, eps_mapping=eps_mapping, verify=verify,
                      mindspore_device=mindspore_device)
    job = Job(write=(mode == "convert" and not show_diff), want_diff=show_diff, options=options,
              write_read_only=write_read_only)

    results: list[FileResult] = []
    with_errors: set[int] = set()  # id() of results with an error finding (a call left unchanged)
    findings = []
    stdout = sys.stdout

    def collect(result: FileResult) -> None:
        # Keep only what the summary and exit code need; findings are printed
        # as they come for text output, so memory stays flat on big trees.
        kept = FileResult(result.path, [], result.changed, result.written, "", result.failed)
        if not result.failed and any(f.severity == "error" for f in result.findings):
            with_errors.add(id(kept))
        results.append(kept)
        if result.diff:
            _write(stdout, result.diff)
        if output_format == "text":
            from .formats import print_text

            print_text(console, result.findings)
            findings.extend(f for f in result.findings if f.severity == "error")
        else:
            findings.extend(result.findings)

    if not paths:
        if not quiet:
            console.print("No paths given; nothing to do. (Use '-' for stdin.)")
        return EXIT_OK

    file_paths = [p for p in paths if str(p) != "-"]
    if len(file_paths) != len(paths):
        data = sys.stdin.buffer.read()
        result = process_stdin(data, job, stdin_filename or "-")
        collect(result)
        if mode == "convert" and not show_diff and result.output is not None:
            _write(stdout, "")
            _write(sys.stdout.buffer, result.output)

    if file_paths:
        from ..files.discovery import Skipped, iter_source_paths

        skipped: list[Skipped] = []
        left_out: list[Skipped] = []  # on purpose (links out of the tree): info, not errors
        files = iter_source_paths(
            file_paths,
            exclude=list(exclude) or None,
            extend_exclude=list(extend_exclude) or None,
            force_exclude=force_exclude,
            respect_gitignore=not no_gitignore,
            errors=skipped,
            notes=left_out,
        )
        from .progress import progress_for

        from .cache import ResultCache, StatIndex, default_root, enabled_by_default

        result_cache = index = None
        if cache and enabled_by_default():
            result_cache = ResultCache(default_root(), job)
            # A tree checked again: unchanged files are not even read (the pre-commit
            # case, a list of files, reads them: few, and a different list every time).
            if all(p.is_dir() for p in file_paths):
                index = StatIndex(result_cache, [str(p) for p in file_paths])
        description = "converting" if job.write else "checking"
        with progress_for(console, enabled=not quiet, description=description) as progress:
            run_files(
                ((p, p) for p in files),
                job,
                jobs=jobs,
                on_result=lambda r: (collect(r), progress.advance()),
                on_total=progress.total,
                cache=result_cache,
                index=index,
            )
        for item in skipped:
            collect(_skipped_result(str(item.path), item.reason))
        if not quiet:
            for item in sorted(left_out, key=lambda item: item.path.parts):
                console.print(f"info: skipped {item.path}: {item.reason}", markup=False)

    # ``convert -`` owns stdout (the converted code); its machine output goes
    # to stderr so the two never mix.
    code_on_stdout = mode == "convert" and not show_diff and len(file_paths) != len(paths)
    _emit_machine_output(output_format, findings, sys.stderr if code_on_stdout else stdout)
    failed = any(r.failed for r in results)
    changed = [r for r in results if r.changed]
    errors = any(f.severity == "error" for f in findings)
    if not quiet:
        _summary(console, mode, results, changed, show_diff, with_errors)
    if failed:
        return EXIT_FILE_ERROR
    if errors:
        return EXIT_FOUND
    if mode == "check" and changed:
        return EXIT_FOUND
    return EXIT_OK


def _skipped_result(path: str, reason: str):
    from ..findings import Finding
    from .runner import FileResult

    return FileResult(path, [Finding(path, 1, 1, 1, 1, "RMS001", f"cannot read: {reason}")], failed=True)


def _emit_machine_output(output_format: str, findings, stdout) -> None:
    if output_format == "text":
        return
    from .formats import format_github, format_json, format_sarif

    if output_format == "json":
        text = format_json(findings)
    elif output_format == "github":
        text = format_github(findings)
    else:
        text = format_sarif(findings, tool_version=__version__)
    if text:
        _write(stdout, text if text.endswith("\n") else text + "\n")


def _summary(console, mode: str, results, changed, show_diff: bool, with_errors: set[int] = frozenset()) -> None:
    """One line; only errors are called errors.  A file that was looked at and
    needs nothing (it names RMSprop only in a string, or is converted already)
    "needed no change"; that is never worded like a failure."""
    failed = sum(1 for r in results if r.failed)
    # A file that would change but could not be written counts as failed only.
    n_changed = sum(1 for r in changed if not r.failed)
    errors = sum(1 for r in results if id(r) in with_errors)
    errors_only = sum(1 for r in results if id(r) in with_errors and not r.changed)
    fine = len(results) - n_changed - failed - errors_only
    verb = "converted" if mode == "convert" and not show_diff else "would be converted"
    parts = [f"{_files(n_changed)} {verb}"]
    if fine:
        parts.append(f"{fine} needed no change")
    if errors:
        parts.append(f"{_files(errors)} with calls left unchanged (errors above)")
    if failed:
        parts.append(f"{_files(failed)} could not be read, decoded, parsed or written (errors above)")
    console.print(", ".join(parts) + ".")


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


# The standard problem's length (rmsport.numerics.verify.STANDARD_STEPS; a test
# keeps the two equal): its noise is drawn for that many steps, so --steps
# cannot go further without --grads.  Kept here so --help does not import numpy.
COMPARE_MAX_STEPS = 300


@main.command()
@click.argument("call")
@click.option("--to", type=click.Choice(TO_CHOICES), default=None,
              help="Framework to convert to (default: the other one).")
@click.option("--target", type=click.Choice(TARGET_CHOICES), default="nn", show_default=True)
@click.option("--eps-mapping", type=click.Choice(EPS_CHOICES), default="literal", show_default=True)
@_DEVICE_OPTION
@click.option("--steps", type=click.IntRange(min=1, max=100_000), default=None,
              help=f"Steps to simulate: 1..{COMPARE_MAX_STEPS} on the standard problem (default: all of it); "
                   "with --grads, up to the recording's length.")
@click.option("--plot", default=None, metavar="FILE.png",
              help="Also write a PNG of both trajectories (needs matplotlib: pip install 'rmsport[plot]').")
@click.option("--grads", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Replay gradients recorded from your run (.npz: grad/<name> arrays of shape (steps, *shape)) "
                   "instead of the standard problem.")
@click.option("--state", "state_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="With --grads: start both optimizers from this optimizer state (a torch.save file or a "
                   "MindSpore .ckpt; needs 'rmsport[state]').")
def compare(call: str, to: str | None, target: str, eps_mapping: str, mindspore_device: str, steps: int | None,
            plot: str | None, grads: Path | None, state_file: Path | None) -> None:
    """Show one call's trajectory next to its rewrite's.

    CALL is a source call such as "torch.optim.RMSprop(p, lr=0.01, momentum=0.9)".
    """
    from ..options import Options
    from ..engine.single_call import CallError, plan_single_call

    console = _stderr_console()
    replaying = grads is not None or state_file is not None
    if steps is not None and steps > COMPARE_MAX_STEPS and not replaying:
        raise click.BadParameter(
            f"{steps}: the standard problem has {COMPARE_MAX_STEPS} steps (use 1..{COMPARE_MAX_STEPS}, "
            "or --grads to replay a longer recording)",
            param_hint="'--steps'",
        )
    plot_path = None
    if plot is not None and not replaying:  # the replay says itself that --plot does not combine with it
        # Everything that can stop the picture is checked before computing.
        from ..numerics.compare import require_matplotlib
        from .plotfile import PlotPathError, check_plot_path

        try:
            require_matplotlib()
            plot_path = check_plot_path(plot)
        except (RuntimeError, PlotPathError) as exc:
            _print_error(console, str(exc))
            sys.exit(EXIT_USAGE)
    try:
        planned = plan_single_call(
            call,
            Options(to=to or "mindspore", target=target, eps_mapping=eps_mapping, mindspore_device=mindspore_device),
            to_given=to is not None,
        )
    except CallError as exc:
        _print_error(console, str(exc))
        sys.exit(EXIT_USAGE)
    from rich.console import Console
    from rich.text import Text

    from ..numerics.compare import render_comparison, render_plot

    out = Console(highlight=False, soft_wrap=True)
    # Text, not markup: the user's call ("[w, b]", "# [/]") is printed as written.
    out.print(Text.assemble(("convert writes", "bold"), " ", planned.rewritten_text), highlight=False)
    for finding in planned.findings:
        if finding.code not in ("RMS101",):
            out.print(Text.assemble("  ", (finding.code, "dim"), " ", finding.message))
    if replaying:
        from .state import replay_command

        sys.exit(replay_command(out, console, planned, grads, state_file, steps, plot))
    extra = {"steps": steps} if steps else {}
    render_comparison(out, planned.src_api, planned.src_kwargs, planned.dst_api, planned.dst_kwargs,
                      device=mindspore_device, **extra)
    if plot_path is not None:
        from .plotfile import PlotPathError, write_png

        try:
            data, _ = render_plot(planned.src_api, planned.src_kwargs, planned.dst_api, planned.dst_kwargs, **extra)
            write_png(plot_path, data)
        except (ValueError, PlotPathError) as exc:
            _print_error(console, str(exc))
            sys.exit(EXIT_USAGE)
        console.print(f"wrote {plot_path}", markup=False)


from .state import state_group  # noqa: E402  (the group imports nothing heavy)

main.add_command(state_group)

if __name__ == "__main__":  # pragma: no cover
    main()
