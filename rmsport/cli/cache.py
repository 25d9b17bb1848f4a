"""Results of earlier runs, so that a file read again unchanged is not parsed again.

Why: on a large tree, parsing and analysing the few files that name RMSprop is
most of a ``check`` (at 650k lines, ~120 files and 23k lines: ~0.5 s of CPU,
against ~0.1 s to read every file), and ``check`` runs again and again on the
same files: in CI, as a pre-commit hook, after every edit.  black and ruff keep
a cache for the same reason.

What a result depends on, and so what the key holds:

* the file's bytes (blake2b), not its modification time: a file edited within
  the clock's resolution, or copied back from a backup, is never mistaken for
  the one that was checked;
* whether it is a notebook (cells are converted one by one);
* the mode and the options (``check``, ``check --diff`` with the name its diff
  prints, or ``convert``) and the interpreter (what ``ast.parse`` accepts);
* rmsport's own code: its version and the size and mtime of each of its
  modules, so an edited checkout never serves a result of the code it had.

Only results that the bytes decide are kept: an unreadable or unwritable file,
an internal error, and anything ``convert`` wrote are done again every time.
Entries are small files of plain data (dicts, lists, strings, numbers) in
Python's ``marshal`` format: builtin, so reading them imports nothing, and
never pickle, so loading a cache file someone else wrote cannot run code.  One
file per key, written atomically (``files/atomic.py``), so concurrent runs (pre-commit starts several)
never see half an entry; a missing, unreadable, corrupt or foreign entry is a
miss (every file carries a hash of its content, checked before it is read).  The
folder is per interpreter version, as marshal's format is.

``--no-cache`` (or ``RMSPORT_NO_CACHE=1``) turns it off; ``RMSPORT_CACHE_DIR``
moves it.  Deleting the folder is always safe.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..files.atomic import replace_bytes
from ..findings import Finding

if TYPE_CHECKING:
    from .runner import FileResult, Job

# Folders of other rmsport versions (or other states of a checkout) are removed
# when they have not been used for this long.
_STALE_AFTER = 14 * 24 * 3600  # seconds

# Messages of RMS001 that the environment decides, not the bytes.
_NOT_FROM_BYTES = ("cannot read", "cannot write", "internal error")


def _blake2b(data: bytes):
    try:  # _blake2 imports in 0.4 ms; hashlib loads OpenSSL first (~4 ms of start-up)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter built without it
        from hashlib import blake2b
    return blake2b(data, digest_size=20)


def default_root() -> Path:
    """Where the cache lives: ``RMSPORT_CACHE_DIR``, else the platform's user cache folder.

    These few lines are what ``platformdirs.user_cache_dir("rmsport")`` returns;
    importing platformdirs costs ~7 ms here, a tenth of a pre-commit run.
    """
    explicit = os.environ.get("RMSPORT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "rmsport" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "rmsport"
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(base if os.path.isabs(base) else Path.home() / ".cache") / "rmsport"


def enabled_by_default() -> bool:
    return os.environ.get("RMSPORT_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")


def _numpy_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "?"
    try:
        return version("numpy")
    except PackageNotFoundError:
        return "none"


def _code_fingerprint() -> str:
    """rmsport's version, the interpreter's, and (size, mtime) of every module of the package."""
    package = Path(__file__).resolve().parent.parent
    digest = _blake2b(f"{__version__}\0{sys.version}\0{sys.implementation.cache_tag}".encode())
    stack = [package]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(Path(entry.path))
                elif entry.name.endswith(".py"):
                    stat = entry.stat()
                    digest.update(f"{entry.path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class ResultCache:
    """Get and put ``FileResult``s by the bytes they were computed from."""

    def __init__(self, root: Path, job: Job) -> None:
        self._root = root
        self._folder: Path | None = None
        self._broken = False  # could not create the folder or write an entry: stop trying
        self._job = job
        options = job.options
        # line_length only lays out rewritten calls: convert keeps no result that rewrote
        # anything, and check --diff adds it to each file's key (``key``).
        parts = [
            "convert" if job.write else "diff" if job.want_diff else "check",
            options.to, options.target, options.eps_mapping, options.verify, options.mindspore_device,
        ]
        if options.verify:  # the verdicts are numpy's arithmetic
            parts.append(_numpy_version())
        self.material = "\0".join(str(part) for part in parts)

    def folder(self) -> Path | None:
        """The folder of this rmsport's entries, created on first use; None if it cannot be."""
        if self._folder is None and not self._broken:
            folder = self._root / _code_fingerprint()
            try:
                if folder.is_dir():
                    os.utime(folder)  # in use: not stale (hits alone write nothing into it)
                else:
                    folder.mkdir(parents=True, exist_ok=True)
                    _remove_stale(self._root, keep=folder)
                self._folder = folder
            except OSError:
                self._broken = True
        return self._folder

    def key(self, data: bytes, name: str, path: str | None = None) -> str:
        digest = _blake2b(self.material.encode())
        digest.update(b"\0notebook" if name.endswith(".ipynb") else b"\0module")
        if self._job.want_diff and not self._job.write:
            from ..files.line_length import configured_line_length

            # The diff's header names the file, and how a long call is broken depends
            # on the project's line-length (its pyproject.toml, not the file's bytes).
            digest.update(b"\0" + name.encode("utf-8", "surrogatepass"))
            digest.update(f"\0{configured_line_length(path or name)}".encode())
        digest.update(b"\0")
        digest.update(data)
        return digest.hexdigest()

    def get(self, key: str, name: str) -> FileResult | None:
        folder = self.folder()
        if folder is None:
            return None
        try:
            with open(folder / f"{key}.entry", "rb") as handle:
                entry = _unseal(handle.read())
            return _result_from(entry, name)
        except (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None  # missing, or written by something else: parse again

    def put(self, key: str, result: FileResult) -> bool:
        """Keep ``result``; True when it is kept (it can be found by ``key`` next time)."""
        if not _keepable(result, self._job):
            return False
        folder = self.folder()
        if folder is None:
            return False
        try:
            replace_bytes(folder / f"{key}.entry", _seal(_entry_of(result)), durable=False)
        except (OSError, ValueError, TypeError):
            self._broken = True
            return False
        return True


def _keepable(result: FileResult, job: Job) -> bool:
    if result.written or result.output is not None:
        return False
    if job.write and (result.changed or result.failed):  # convert: only "nothing to do here" is kept
        return False
    for finding in result.findings:
        if finding.path != result.path:
            return False
        if finding.code == "RMS001" and finding.message.startswith(_NOT_FROM_BYTES):
            return False
        if finding.code in ("RMS002", "RMS003"):  # RMS002 is an internal error in one call
            return False
    return True


def _entry_of(result: FileResult) -> dict[str, Any]:
    findings = []
    for finding in result.findings:
        data = {
            "line": finding.line, "column": finding.column, "end_line": finding.end_line,
            "end_column": finding.end_column, "code": finding.code, "message": finding.message,
            "severity": finding.severity,
        }
        if finding.cell is not None:
            data["cell"] = finding.cell
        if finding.verification is not None:
            data["verification"] = finding.verification
        if finding.file_region is not None:
            data["file_region"] = list(finding.file_region)
        findings.append(data)
    return {"findings": findings, "changed": result.changed, "failed": result.failed, "diff": result.diff}


def _result_from(entry: dict[str, Any], name: str) -> FileResult:
    from .runner import FileResult

    findings = []
    for data in entry["findings"]:
        region = data.get("file_region")
        findings.append(
            Finding(
                name, int(data["line"]), int(data["column"]), int(data["end_line"]), int(data["end_column"]),
                str(data["code"]), str(data["message"]), str(data["severity"]),
                cell=data.get("cell"), verification=data.get("verification"),
                file_region=tuple(int(n) for n in region) if region is not None else None,
            )
        )
    return FileResult(
        name, findings, changed=bool(entry["changed"]), failed=bool(entry["failed"]), diff=str(entry["diff"])
    )


# What every cache file starts with, then a hash of the rest: a file that is
# truncated, corrupt or written by something else is a miss before marshal reads
# a byte of it (marshal trusts its input: a stray size field can make it try to
# allocate gigabytes).
_MAGIC = b"rmsport-cache\x01"


def _seal(value: object) -> bytes:
    import marshal

    payload = marshal.dumps(value)
    return _MAGIC + _blake2b(payload).digest() + payload


def _unseal(data: bytes) -> object:
    import marshal

    head = len(_MAGIC) + 20
    if not data.startswith(_MAGIC) or len(data) < head or _blake2b(data[head:]).digest() != data[len(_MAGIC) : head]:
        raise ValueError("not an rmsport cache file")
    return marshal.loads(data[head:])


def _remove_stale(root: Path, keep: Path) -> None:
    """Folders of other rmsport code unused for ``_STALE_AFTER``: an upgrade leaves no litter behind."""
    import shutil

    now = time.time()
    try:
        with os.scandir(root) as entries:
            for entry in entries:
                if entry.path == str(keep) or not entry.is_dir(follow_symlinks=False):
                    continue
                if now - entry.stat(follow_symlinks=False).st_mtime > _STALE_AFTER:
                    shutil.rmtree(entry.path, ignore_errors=True)
    except OSError:
        pass


# A file changed this close to the time its stat is taken may change again
# within the file system's timestamp resolution without its stat changing (git's
# "racily clean" entries): such a file is read again next time.
_RACY_NS = 2_000_000_000

Signature = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


class StatIndex:
    """What each file of a tree held when it was last read, by its stat.

    On a tree checked before, most of what is left of a run after the result
    cache is reading every file again only to find, once more, that it does not
    name RMSprop (at 650k lines: ~45 ms of a ~150 ms run).  black and ruff trust
    a file's size and modification time; this index also compares the change
    time (which no tool can set back), the inode and the device, and never
    trusts a file changed within two seconds of being looked at.

    One index per set of folders given on the command line and per mode and
    options (``ResultCache``'s key), holding exactly the files of the last run:
    for each, its stat and either "no call" or the key of its cached result.
    """

    def __init__(self, cache: ResultCache, roots: list[str]) -> None:
        self._cache = cache
        digest = _blake2b(cache.material.encode())
        for root in roots:
            digest.update(b"\0" + os.path.abspath(root).encode("utf-8", "surrogatepass"))
        self._name = f"index-{digest.hexdigest()}.marshal"
        self._old: dict[str, tuple[Signature, str, str]] | None = None
        self._new: dict[str, tuple[Signature, str, str]] = {}
        self._started = time.time_ns()

    def _load(self) -> dict[str, tuple[Signature, str, str]]:
        if self._old is None:
            self._old = {}
            folder = self._cache.folder()
            if folder is not None:
                try:
                    with open(folder / self._name, "rb") as handle:
                        loaded = _unseal(handle.read())
                    if isinstance(loaded, dict):
                        self._old = loaded
                except (OSError, EOFError, ValueError, TypeError):
                    pass
        return self._old

    def recall(self, path: str, display: str) -> tuple[Signature | None, str | None]:
        """The file's signature, and what it held ("" for no call, else a result key) if unchanged.

        An unchanged file's entry is carried over to the index written at the end;
        ``forget`` takes it back when its result turns out to be missing.
        """
        try:
            info = os.stat(path)
        except OSError:
            return None, None
        signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)
        old = self._old if self._old is not None else self._load()
        entry = old.get(path)
        try:
            if entry is not None and entry[0] == signature and (entry[1] == "" or entry[2] == display):
                self._new[path] = entry
                return signature, str(entry[1])
        except (TypeError, IndexError, KeyError):  # an index written by something else
            pass
        return signature, None

    def forget(self, path: str) -> None:
        self._new.pop(path, None)

    def remember(self, path: str, signature: Signature | None, held: str, display: str) -> None:
        if signature is None or max(signature[1], signature[2]) > self._started - _RACY_NS:
            return
        self._new[path] = (signature, held, display)

    def save(self) -> None:
        if self._new == self._load():
            return
        folder = self._cache.folder()
        if folder is None:
            return
        try:
            replace_bytes(folder / self._name, _seal(self._new), durable=False)
        except (OSError, ValueError):
            pass  # an index not written: the next run reads the files again
