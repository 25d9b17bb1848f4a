"""rmsport.files.sourcefile: byte-exact reading and safe, atomic writing."""

from __future__ import annotations

import os
import stat
import tempfile
import threading

import pytest

from rmsport.files import sourcefile
from rmsport.files.sourcefile import (
    SourceError,
    SourceText,
    decode,
    encode,
    read_source,
    write_atomic,
)


def roundtrip(data: bytes) -> SourceText:
    source = decode(data)
    assert encode(source, source.text) == data
    return source


# --- decoding -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data, encoding",
    [
        (b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'  # caf\xe9\n", "iso-8859-1"),
        (b"#!/usr/bin/env python\n# vim: set fileencoding=latin-1 :\nx = '\xff\xfe'\n", "iso-8859-1"),
        (b"# coding: cp1252\nquote = '\x93hi\x94 \x80'\n", "cp1252"),
        (b"# coding=utf-8\nx = '\xc3\xa9'\n", "utf-8"),
        (b"x = 1\n", "utf-8"),
        (b"", "utf-8"),
    ],
)
def test_cookie_round_trip_is_byte_identical(data, encoding):
    source = roundtrip(data)
    assert source.encoding == encoding
    assert not source.bom


def test_latin1_text_is_decoded_as_latin1():
    source = roundtrip(b"# coding: latin-1\ns = '\xe9'\n")
    assert "'\u00e9'" in source.text


def test_bom_is_kept():
    data = b"\xef\xbb\xbfimport torch\r\nx = '\xc3\xa9'\r\n"
    source = roundtrip(data)
    assert source.bom
    assert source.encoding == "utf-8"
    assert not source.text.startswith("\ufeff")
    edited = encode(source, source.text.replace("x", "y"))
    assert edited.startswith(b"\xef\xbb\xbf")
    assert edited == data.replace(b"x", b"y")


@pytest.mark.parametrize(
    "data",
    [
        b"a = 1\r\nb = 2\r\n",
        b"a = 1\r\nb = 2\nc = 3\rd = 4\r\n",
        b"a = 1\rb = 2\r",
        b"a = (1,\r\n     2)\r\n# no newline at end",
    ],
)
def test_line_endings_are_not_translated(tmp_path, data):
    path = tmp_path / "m.py"
    path.write_bytes(data)
    raw, source = read_source(path)
    assert raw == data
    assert source.text == data.decode("utf-8")
    assert source.text.count("\r") == data.count(b"\r")
    write_atomic(path, encode(source, source.text), expected=raw)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"x = '\xff'\n", "cannot decode as utf-8 at byte 5"),
        (b"x = 1\0\n", "NUL byte"),
        (b"# coding: klingon\nx = 1\n", "unknown encoding: klingon"),
        (b"# coding: rot13\nx = 1\n", "not a text encoding"),
        (b"# coding: utf-16\nx = 1\n", "not ASCII-compatible"),
        (b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", "BOM"),
        (b"# coding: cp1252\nx = '\x81'\n", "cannot decode as cp1252"),
    ],
)
def test_undecodable_sources_raise_a_short_reason(data, reason):
    with pytest.raises(SourceError) as info:
        decode(data)
    message = str(info.value)
    assert reason in message
    assert "\n" not in message and len(message) < 120


def test_encode_refuses_text_the_encoding_cannot_hold():
    source = decode(b"# coding: latin-1\nx = 1\n")
    with pytest.raises(SourceError, match="cannot encode"):
        encode(source, source.text + "y = '\u20ac'\n")


def test_encode_with_unchanged_ascii_edits_keeps_the_other_bytes():
    data = b"# coding: latin-1\nopt = torch.optim.RMSprop(p)  # \xe9\n"
    source = decode(data)
    new = source.text.replace("torch.optim.RMSprop", "nn.RMSProp")
    assert encode(source, new) == data.replace(b"torch.optim.RMSprop", b"nn.RMSProp")


# --- reading ------------------------------------------------------------------


def test_read_missing_file(tmp_path):
    with pytest.raises(SourceError, match="No such file or directory"):
        read_source(tmp_path / "missing.py")


def test_read_directory(tmp_path):
    with pytest.raises(SourceError, match="Is a directory"):
        read_source(tmp_path)


def test_read_fifo_does_not_block(tmp_path):
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match=r"not a regular file \(FIFO\)"):
        read_source(fifo)


def test_read_permission_denied(tmp_path, monkeypatch):
    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sourcefile.os, "open", deny)
    with pytest.raises(SourceError, match="^Permission denied$"):
        read_source(tmp_path / "x.py")


def test_read_symlink_loop(tmp_path):
    loop = tmp_path / "loop.py"
    loop.symlink_to(loop)
    with pytest.raises(SourceError, match="symbolic links"):
        read_source(loop)


def test_read_source_path_alias(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\r\n")
    assert sourcefile.read_source_path(path) == read_source(path)


# --- writing ------------------------------------------------------------------


def test_write_atomic_replaces_content(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"old\n")
    assert write_atomic(path, b"new\r\n") is True
    assert path.read_bytes() == b"new\r\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


@pytest.mark.parametrize("mode", [0o755, 0o700, 0o644, 0o600, 0o444])
def test_exec_bit_and_mode_kept(tmp_path, mode):
    path = tmp_path / "script.py"
    path.write_bytes(b"#!/usr/bin/env python\nx = 1\n")
    path.chmod(mode)
    # 0444 is refused unless forced (issue 10); forced, its mode is kept like the others'
    write_atomic(path, b"#!/usr/bin/env python\nx = 2\n", expected=b"#!/usr/bin/env python\nx = 1\n",
                 allow_read_only=True)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes().endswith(b"x = 2\n")


def test_symlink_stays_a_symlink_and_target_is_rewritten(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "impl.py"
    target.write_bytes(b"x = 1\n")
    target.chmod(0o755)
    link_dir = tmp_path / "links"
    link_dir.mkdir()
    link = link_dir / "link.py"
    link.symlink_to(os.path.relpath(target, link_dir))
    raw, _ = read_source(link)
    write_atomic(link, b"x = 2\n", expected=raw)
    assert link.is_symlink()
    assert os.readlink(link) == os.path.relpath(target, link_dir)
    assert target.read_bytes() == b"x = 2\n"
    assert link.read_bytes() == b"x = 2\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    # the temp file lived next to the target, and is gone
    assert sorted(p.name for p in real_dir.iterdir()) == ["impl.py"]
    assert sorted(p.name for p in link_dir.iterdir()) == ["link.py"]


def test_chain_of_symlinks(tmp_path):
    target = tmp_path / "t.py"
    target.write_bytes(b"a\n")
    (tmp_path / "l1.py").symlink_to("t.py")
    (tmp_path / "l2.py").symlink_to("l1.py")
    write_atomic(tmp_path / "l2.py", b"b\n", expected=b"a\n")
    assert (tmp_path / "l2.py").is_symlink() and (tmp_path / "l1.py").is_symlink()
    assert target.read_bytes() == b"b\n"


@pytest.mark.parametrize("name", ["a.py", "b.pyi", "c.ipynb", "x" * 250 + ".py", ".hidden.py"])
def test_temp_name_never_looks_like_source(tmp_path, monkeypatch, name):
    path = tmp_path / name
    path.write_bytes(b"x = 1\n")
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(os.path.basename(src))
        assert os.path.exists(src)
        return real_replace(src, dst)

    monkeypatch.setattr(sourcefile.os, "replace", spy)
    write_atomic(path, b"x = 2\n", expected=b"x = 1\n")
    assert len(seen) == 1
    temp = seen[0]
    assert temp.startswith(".")
    assert temp.endswith(".rmsport-tmp")
    assert not temp.endswith((".py", ".pyi", ".ipynb"))
    assert len(temp.encode()) <= 255
    assert path.read_bytes() == b"x = 2\n"


def test_failure_in_replace_leaves_original_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_bytes(b"original\n")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sourcefile.os, "replace", boom)
    with pytest.raises(SourceError, match="No space left on device"):
        write_atomic(path, b"converted\n", expected=b"original\n")
    assert path.read_bytes() == b"original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_failure_in_fsync_leaves_original_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_bytes(b"original\n")

    def boom(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(sourcefile.os, "fsync", boom)
    with pytest.raises(SourceError, match="Input/output error"):
        write_atomic(path, b"converted\n")
    assert path.read_bytes() == b"original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_keyboard_interrupt_cleans_up_and_propagates(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_bytes(b"original\n")

    def interrupt(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(sourcefile.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, b"converted\n", expected=b"original\n")
    assert path.read_bytes() == b"original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_unwritable_folder(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_bytes(b"original\n")

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", deny)
    with pytest.raises(SourceError, match="^Permission denied$"):
        write_atomic(path, b"converted\n", expected=b"original\n")
    assert path.read_bytes() == b"original\n"


def test_changed_on_disk_is_not_overwritten(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    raw, _ = read_source(path)
    path.write_bytes(b"x = 1  # edited meanwhile\n")
    with pytest.raises(SourceError, match="^changed on disk while converting$"):
        write_atomic(path, b"x = 2\n", expected=raw)
    assert path.read_bytes() == b"x = 1  # edited meanwhile\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_changed_on_disk_same_size_same_mtime(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    before = path.stat()
    raw, _ = read_source(path)
    path.write_bytes(b"x = 3\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(SourceError, match="changed on disk"):
        write_atomic(path, b"x = 2\n", expected=raw)
    assert path.read_bytes() == b"x = 3\n"


def test_deleted_meanwhile_is_changed_on_disk(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    raw, _ = read_source(path)
    path.unlink()
    with pytest.raises(SourceError, match="changed on disk"):
        write_atomic(path, b"x = 2\n", expected=raw)
    assert not path.exists()


def test_already_converted_by_someone_else_is_success(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    raw, _ = read_source(path)
    path.write_bytes(b"x = 2\n")
    inode = path.stat().st_ino
    assert write_atomic(path, b"x = 2\n", expected=raw) is False
    assert path.read_bytes() == b"x = 2\n"
    assert path.stat().st_ino == inode  # not rewritten


def test_concurrent_writers_one_wins_cleanly(tmp_path):
    """Many threads convert the same file from the same original: exactly one
    writes, the others either see their own result (identical output) or a
    clean "changed on disk" error; the file is never a mix."""
    path = tmp_path / "a.py"
    original = b"x = 1\n" * 1000
    path.write_bytes(original)
    outputs = [b"x = 2\n" * 1000, b"x = 3\n" * 1000]
    results = []
    lock = threading.Lock()

    def run(i):
        try:
            wrote = write_atomic(path, outputs[i % 2], expected=original)
            outcome = "wrote" if wrote else "same"
        except SourceError as exc:
            outcome = str(exc)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("wrote") == 1
    assert set(results) <= {"wrote", "same", "changed on disk while converting"}
    assert path.read_bytes() in outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.py"]


def test_write_to_missing_file_without_expected(tmp_path):
    with pytest.raises(SourceError, match="No such file or directory"):
        write_atomic(tmp_path / "nope.py", b"x\n")
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "p.py"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="FIFO"):
        write_atomic(fifo, b"x\n")
    with pytest.raises(SourceError, match="FIFO"):
        write_atomic(fifo, b"x\n", expected=b"")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_file_system_without_locks_still_compares_content(tmp_path, monkeypatch):
    def no_locks(fd, operation):
        raise OSError(37, "No locks available")

    monkeypatch.setattr(sourcefile.fcntl, "flock", no_locks)
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    assert write_atomic(path, b"x = 2\n", expected=b"x = 1\n") is True
    assert path.read_bytes() == b"x = 2\n"
    with pytest.raises(SourceError, match="changed on disk"):
        write_atomic(path, b"x = 3\n", expected=b"x = 1\n")
    assert path.read_bytes() == b"x = 2\n"
