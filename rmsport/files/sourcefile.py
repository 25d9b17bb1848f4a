"""Reading and writing source files without changing a byte we did not mean to.

Reading
    :func:`read_source` reads raw bytes (never a text-mode ``open``, so ``\\r\\n``,
    lone ``\\r`` and mixed line endings reach the converter untouched) and
    :func:`decode` decodes them the way Python itself would: a UTF-8 BOM and a
    PEP 263 coding cookie (``latin-1``, ``cp1252``, ...) are honoured and
    remembered in :class:`SourceText`, so that ``encode(decode(data),
    decode(data).text) == data`` for every file :func:`decode` accepts.  A file
    whose bytes would not come back identical is refused rather than risked.

    Everything that stops us from reading or decoding a file raises
    :class:`SourceError` whose message is a short reason ("Permission denied",
    "Is a directory", "not a regular file (FIFO)", "unknown encoding: foo",
    "contains a NUL byte", ...), ready to be reported as RMS001.

Writing
    :func:`write_atomic` writes a temp file in the same folder (named
    ``.<name>.<random>.rmsport-tmp``: it starts with a dot and never ends in
    ``.py``/``.pyi``/``.ipynb``, so no tool ever picks it up as source), flushes
    and fsyncs it, gives it the original's permission bits (the executable bit
    survives) and then ``os.replace``-s it over the original, so a reader, or a
    crash, sees either the old or the new file and never a mix.  On any failure
    the temp file is removed and the original is untouched.  After a SIGKILL or
    a power cut between creating and renaming the temp file, a leftover
    ``*.rmsport-tmp`` file is possible; it is safe to delete.

    Symlinks: when *path* is a symbolic link, the file it points to is
    rewritten (in the target's folder) and the link itself is kept as a link;
    it is never replaced by a regular file.  Hard links are not preserved: the
    rewritten file is a new inode, like with black or ruff.

    Concurrent runs: pass the bytes that were read as ``expected``.  Under an
    advisory lock (``flock``) on the file, the current content is compared with
    ``expected``; if somebody else changed the file in between (another editor,
    or a second rmsport run) nothing is written and :class:`SourceError`
    ("changed on disk while converting") is raised, unless the file already
    holds exactly the bytes we wanted to write, which is success.  Two rmsport
    runs on the same file are therefore serialised and both end cleanly.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

try:  # pragma: no cover - fcntl exists on every POSIX system
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

BOM = codecs.BOM_UTF8
NUL = b"\0"
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # so that opening a FIFO cannot hang
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
TEMP_SUFFIX = ".rmsport-tmp"
CHANGED_ON_DISK = "changed on disk while converting"

# Printable ASCII must encode to itself in the file's encoding, or the
# converter's ASCII edits (and Python's own tokenizer) would not work on it.
_ASCII_PROBE = "".join(chr(c) for c in range(32, 127)) + "\t\n\r\f"


class SourceError(Exception):
    """A file that cannot be read, decoded, encoded or written; the message is the reason."""


@dataclass
class SourceText:
    """Decoded source text plus what is needed to write it back identically."""

    text: str
    encoding: str = "utf-8"
    bom: bool = False


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def decode(data: bytes) -> SourceText:
    """Decode bytes the way Python itself would (PEP 263 cookie, UTF-8 BOM).

    No newline translation happens.  Raises :class:`SourceError` for a NUL
    byte, an unknown or unusable coding cookie, undecodable bytes, or an
    encoding in which the bytes would not round-trip exactly.
    """
    if NUL in data:
        raise SourceError(f"contains a NUL byte (at byte {data.index(NUL)})")
    import tokenize  # here: a run whose files are all answered by the cache never decodes one

    try:
        encoding, _ = tokenize.detect_encoding(_python_lines(data))
    except SyntaxError as exc:
        raise SourceError(_cookie_reason(str(exc), data)) from None
    bom = encoding == "utf-8-sig"
    if bom:
        data = data[len(BOM) :]
        encoding = "utf-8"
    try:
        codec = codecs.lookup(encoding)
    except LookupError:  # pragma: no cover - detect_encoding already checked
        raise SourceError(f"unknown encoding: {encoding}") from None
    if not getattr(codec, "_is_text_encoding", True):
        raise SourceError(f"{encoding!r} is not a text encoding")
    try:
        ascii_compatible = _ASCII_PROBE.encode(encoding) == _ASCII_PROBE.encode("ascii")
    except (UnicodeError, LookupError):
        ascii_compatible = False
    if not ascii_compatible:
        raise SourceError(f"encoding {encoding!r} is not ASCII-compatible")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot decode as {encoding} at byte {exc.start}: {exc.reason}") from None
    except LookupError as exc:
        raise SourceError(str(exc)) from None
    if encoding != "utf-8":
        # Strict UTF-8 always round-trips; some legacy codecs have several byte
        # spellings of one character, and we must not silently change them.
        try:
            same = text.encode(encoding) == data
        except UnicodeError:
            same = False
        if not same:
            raise SourceError(f"bytes do not round-trip through encoding {encoding}")
    return SourceText(text, encoding, bom)


_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)?")


def _python_lines(data: bytes):
    """A ``readline`` that ends lines where Python's tokenizer does: at
    ``\r\n``, ``\n`` *and* a lone ``\r``.  ``io.BytesIO.readline`` knows only
    ``\n``, so a file with old-Mac line endings and a ``latin-1`` cookie on
    line 1 looked like one long line that is not UTF-8."""
    lines = (match.group() for match in _LINE.finditer(data) if match.group())
    return lambda: next(lines, b"")


def _cookie_reason(message: str, data: bytes) -> str:
    if message.startswith("encoding problem: utf-8"):
        return "UTF-8 BOM together with a coding cookie for another encoding"
    if message.startswith("invalid or missing encoding declaration"):
        # The first two lines are not UTF-8 and name no encoding: say where.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"cannot decode as utf-8 at byte {exc.start}: {exc.reason}"
    return message


def encode(source: SourceText, text: str) -> bytes:
    """Encode *text* the way *source* was stored (same encoding, same BOM).

    Raises :class:`SourceError` when *text* holds a character the file's
    encoding cannot store.
    """
    try:
        data = text.encode(source.encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise SourceError(f"cannot encode {bad!r} in the file's encoding {source.encoding}") from None
    except LookupError as exc:
        raise SourceError(str(exc)) from None
    return BOM + data if source.bom else data


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Read a regular file's bytes (binary mode, following symlinks).

    A directory, FIFO, socket or device, a missing file or a permission
    problem raises :class:`SourceError` with the reason.  Opening is
    non-blocking, so a FIFO without a writer cannot hang the run.
    """
    flags = os.O_RDONLY | _NONBLOCK | _CLOEXEC | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise SourceError(_reason(exc)) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SourceError(os.strerror(errno.EISDIR))
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(f"not a regular file ({_kind(info.st_mode)})")
        if _NONBLOCK:
            os.set_blocking(fd, True)
        chunks = []
        while True:
            chunk = os.read(fd, max(info.st_size + 1, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise SourceError(_reason(exc)) from None
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    return "special file"


def read_source(path: str | os.PathLike[str]) -> tuple[bytes, SourceText]:
    """Read and decode *path*; return the raw bytes (pass them to
    :func:`write_atomic` as ``expected``) and the decoded text."""
    data = read_bytes(path)
    return data, decode(data)


def read_source_path(path: str | os.PathLike[str]) -> tuple[bytes, SourceText]:
    """Alias of :func:`read_source`."""
    return read_source(path)


TEMP_NAME_BYTES = 100  # of the original name; with ".", ".", 8 random and the suffix: 122 < NAME_MAX (255)


def temp_name_for(target: Path) -> tuple[str, str]:
    """The ``mkstemp`` prefix and suffix for a temp file next to *target*.

    The name starts with a dot and ends in ``.rmsport-tmp``; the original
    name is shortened so that the temp name stays within NAME_MAX, which
    counts *bytes*: 100 characters of a non-ASCII name can be 400 bytes.
    The cut never splits a UTF-8 character.
    """
    raw = os.fsencode(target.name)
    cut = TEMP_NAME_BYTES
    while cut < len(raw) and cut > 0 and 0x80 <= raw[cut] < 0xC0:  # a continuation byte
        cut -= 1
    return f".{os.fsdecode(raw[:cut])}.", TEMP_SUFFIX


def is_read_only(info: os.stat_result, path: str | os.PathLike[str]) -> bool:
    """What an editor calls read-only: no write bit at all (``chmod 0444``; true
    for root too, who could write anyway), or no write permission for us."""
    if not stat.S_IMODE(info.st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return True
    try:
        return not os.access(path, os.W_OK)
    except OSError:  # pragma: no cover - access() does not fail on a file we just opened
        return False


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes,
    expected: bytes | None = None,
    *,
    allow_read_only: bool = False,
    notes: list[str] | None = None,
) -> bool:
    """Atomically replace the content of *path* (or of its symlink target) with *data*.

    With *expected* (the bytes read before converting), the write happens only
    if the file still holds exactly *expected*; otherwise
    :class:`SourceError` ``"changed on disk while converting"`` is raised and
    nothing is written.  If the file already holds *data*, nothing is written
    either.  Returns whether the file was written.

    A file without write permission (see :func:`is_read_only`) is refused
    with :class:`SourceError` unless *allow_read_only*: renaming over it would
    succeed (a rename needs only the folder's permission), silently.  When
    the file's owner or group cannot be given to the new file (``fchown`` is
    refused to non-root users for a file they do not own), the file is
    written and a sentence saying what changed is appended to *notes*.

    Every failure raises :class:`SourceError` (the original is untouched and
    the temp file removed); ``KeyboardInterrupt`` and other non-``Exception``
    errors also clean up and are re-raised as they are.
    """
    target = Path(os.path.realpath(path))
    lock_fd = _open_locked(target) if expected is not None else None
    try:
        if lock_fd is not None:
            current = _read_fd(lock_fd)
            if current == data:
                return False
            if current != expected:
                raise SourceError(CHANGED_ON_DISK)
            info = os.fstat(lock_fd)
            if fcntl is None:  # pragma: no cover - Windows cannot replace an open file
                os.close(lock_fd)
                lock_fd = None
        else:
            try:
                info = os.stat(target)
            except OSError as exc:
                raise SourceError(_reason(exc)) from None
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(f"not a regular file ({_kind(info.st_mode)})")
        if not allow_read_only and is_read_only(info, target):
            raise SourceError(
                f"file is read-only (mode {stat.S_IMODE(info.st_mode):04o}); "
                "pass --write-read-only to rewrite it anyway"
            )
        note = _replace(target, data, info)
        if note and notes is not None:
            notes.append(note)
        return True
    finally:
        if lock_fd is not None:
            os.close(lock_fd)  # releases the flock


def _open_locked(target: Path) -> int:
    """Open *target* and take an exclusive advisory lock on the inode the
    path currently names (retrying if it is replaced while we wait)."""
    for _ in range(100):
        try:
            fd = os.open(target, os.O_RDONLY | _NONBLOCK | _CLOEXEC | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise SourceError(CHANGED_ON_DISK) from None
            raise SourceError(_reason(exc)) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise SourceError(f"not a regular file ({_kind(info.st_mode)})")
            _lock(fd)
            try:
                now = os.stat(target)
            except FileNotFoundError:
                raise SourceError(CHANGED_ON_DISK) from None
            if (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino):
                return fd
        except OSError as exc:
            os.close(fd)
            raise SourceError(_reason(exc)) from None
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # replaced while we waited for the lock: lock the new file
    raise SourceError(CHANGED_ON_DISK)  # pragma: no cover - a file replaced 100 times in a row


def _lock(fd: int) -> None:
    """Exclusive advisory lock; file systems without locks (some NFS setups)
    fall back to the content comparison alone."""
    if fcntl is None:  # pragma: no cover - Windows
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF):
            raise


def _read_fd(fd: int) -> bytes:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        if _NONBLOCK:
            os.set_blocking(fd, True)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as exc:
        raise SourceError(_reason(exc)) from None


def _replace(target: Path, data: bytes, info: os.stat_result) -> str:
    """Write *data* next to *target* and rename it over; returns a note when
    the owner or group could not be kept (else "")."""
    prefix, suffix = temp_name_for(target)
    try:
        import tempfile  # only when writing: keeps check's start-up small

        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=target.parent)
    except OSError as exc:
        raise SourceError(_reason(exc)) from None
    note = ""
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            if hasattr(os, "fchown"):
                note = _keep_owner(handle.fileno(), info)
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), stat.S_IMODE(info.st_mode))
        if not hasattr(os, "fchmod"):  # pragma: no cover - Windows before 3.13
            os.chmod(tmp, stat.S_IMODE(info.st_mode))
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SourceError(_reason(exc)) from None
        raise
    _fsync_dir(target.parent)
    return note


def _keep_owner(fd: int, info: os.stat_result) -> str:
    """Give the temp file the original's owner and group, as far as we may:
    the owner only root can give away, the group any member of it.  Returns
    what could not be kept, for the user to hear about (else "")."""
    now = os.fstat(fd)
    if (now.st_uid, now.st_gid) == (info.st_uid, info.st_gid):
        return ""
    reason = ""
    try:
        os.fchown(fd, info.st_uid, info.st_gid)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        try:
            os.fchown(fd, -1, info.st_gid)  # at least the group
        except OSError:
            pass
    now = os.fstat(fd)
    lost = []
    if now.st_uid != info.st_uid:
        lost.append(f"owner {_user(info.st_uid)} is now {_user(now.st_uid)}")
    if now.st_gid != info.st_gid:
        lost.append(f"group {_group(info.st_gid)} is now {_group(now.st_gid)}")
    if not lost:
        return ""
    return "written, but " + " and ".join(lost) + f" (fchown: {reason or 'refused'})"


def _user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


def _group(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return str(gid)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; best effort (not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
