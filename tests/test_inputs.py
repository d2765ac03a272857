"""Reading input files: regular files only, a size cap, UTF-8 errors at line and column."""
from __future__ import annotations

import os

import pytest

from qualcode.errors import QualcodeError
from qualcode.inputs import decode_utf8, display_path, read_regular_file


@pytest.mark.parametrize("data, size, expected", [
    (b"abc", 3, b"abc"),
    (b"", 0, b""),
    (b"abcd", 3, "the notes is 0.0 MiB or more, over the limit of 0 MiB: split it into smaller files"),
])
def test_inputs_size_cap(tmp_path, data, size, expected):
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    if isinstance(expected, bytes):
        assert read_regular_file(path, size, "notes") == expected
    else:
        with pytest.raises(QualcodeError, match=expected):
            read_regular_file(path, size, "notes")


@pytest.mark.parametrize("make, message", [
    (lambda p: "/dev/zero", "/dev/zero: the notes is a device, not a regular file"),
    (lambda p: os.mkfifo(p / "fifo") or p / "fifo", "fifo: the notes is a FIFO (named pipe), not a regular file"),
    (lambda p: p, "the notes is a folder, not a regular file"),
    (lambda p: p / "missing", "missing: notes not found"),
    (lambda p: (p / "link").symlink_to(p / "nowhere") or p / "link", "link: notes not found"),
])
def test_inputs_only_regular_files(tmp_path, make, message):
    with pytest.raises(QualcodeError) as err:
        read_regular_file(make(tmp_path), 1 << 20, "notes")
    assert message in str(err.value)


@pytest.mark.parametrize("data, expected", [
    (b"\xef\xbb\xbfok", "ok"),
    ("Teziutlán\nañ".encode() + b"\xff", "f.txt:2:3: not UTF-8: byte 0xff at byte offset 14"),  # column in characters
    (b"\x80", "f.txt:1:1: not UTF-8: byte 0x80 at byte offset 0"),
])
def test_inputs_decode_utf8_locates_the_bad_byte(data, expected):
    if "not UTF-8" not in expected:
        assert decode_utf8(data, "f.txt") == expected
        return
    with pytest.raises(QualcodeError) as err:
        decode_utf8(data, "f.txt")
    assert str(err.value).startswith(expected)


def test_inputs_display_path_escapes_bytes_that_are_not_utf8():
    assert display_path(os.fsdecode(b"caf\xe9.md")) == "caf\\xe9.md"
    assert display_path("Teziutlán.md") == "Teziutlán.md"
