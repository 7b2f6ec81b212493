"""Opening untrusted uploads safely: XML without DTDs or entities, zips checked for bombs and
path tricks before and while they are decompressed, CSV text that must be UTF-8.

Every refusal is a ``FileRejected`` naming the upload and, where it can, the place in it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as defused_et
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from app.importers.errors import FileRejected

# --- XML ---------------------------------------------------------------------------------

_POSITION_SUFFIX = re.compile(r": line \d+, column \d+$")


def parse_xml(data: bytes, *, filename: str) -> Element:
    """Parse an uploaded XML document, refusing any DTD, entity declaration or external
    reference (billion laughs, XXE), and drop namespaces from tag names so callers can match
    plain names whether or not the file carries a default ``xmlns``."""
    try:
        root = defused_et.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden:
        # A DTD is where entities are declared; CTFs never need one, so refuse it outright
        # rather than let anything expand.
        raise FileRejected(
            filename, None, "DTD and entity declarations are not allowed (<!DOCTYPE>)"
        ) from None
    except EntitiesForbidden:
        raise FileRejected(filename, None, "entity declarations are not allowed") from None
    except ExternalReferenceForbidden:
        raise FileRejected(filename, None, "external references are not allowed") from None
    except ParseError as exc:
        line, _column = exc.position
        problem = _POSITION_SUFFIX.sub("", str(exc))
        raise FileRejected(filename, f"line {line}", f"not well-formed XML ({problem})") from None
    _strip_namespaces(root)
    return root


def _strip_namespaces(root: Element) -> None:
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag.startswith("{"):
            element.tag = tag.rpartition("}")[2]


# --- Zip ---------------------------------------------------------------------------------

MAX_ZIP_MEMBERS = 50
# A school's OneRoster zip for the most pupils one sync takes (10,000, each in 15 classes)
# unpacks to about 20 MB, its enrollments.csv (150,000 rows) the largest file.
MAX_ZIP_TOTAL_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBER_BYTES = 32 * 1024 * 1024
MAX_CSV_ROWS = 250_000
MAX_COMPRESSION_RATIO = 100
# Small members compress well for innocent reasons (a CSV of empty columns); only a big one
# with a huge ratio is the shape of a zip bomb.
RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")
# An old Mac line end (a CR with no LF after it) ends a line too, as in universal newlines.
_BARE_CR = re.compile(r"(?<=\r)(?!\n)")


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """What an uploaded zip may unpack to: members, bytes in all and in any one member, the
    compression ratio of a big member, and data rows in any one CSV member."""

    max_members: int = MAX_ZIP_MEMBERS
    max_total_bytes: int = MAX_ZIP_TOTAL_BYTES
    max_ratio: int = MAX_COMPRESSION_RATIO
    ratio_checked_above: int = RATIO_CHECKED_ABOVE_BYTES
    max_member_bytes: int = MAX_ZIP_MEMBER_BYTES
    max_rows: int = MAX_CSV_ROWS


DEFAULT_ZIP_LIMITS = ZipLimits()


class SafeZip:
    """A zip upload whose directory has been checked (member count, names, encryption,
    declared sizes and ratios) before anything is decompressed. Members are read as streams
    (``open``, ``csv_rows``) that enforce the same limits on the bytes actually produced,
    chunk by chunk, because a crafted header can understate them: nothing over a limit is
    ever held in memory."""

    def __init__(
        self, data: bytes, *, filename: str, limits: ZipLimits = DEFAULT_ZIP_LIMITS
    ) -> None:
        self.filename = filename
        self.limits = limits
        self._bytes_read = 0
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            raise FileRejected(filename, None, "not a zip archive") from None
        infos = self._zip.infolist()
        if len(infos) > limits.max_members:
            raise FileRejected(
                filename, None, f"{len(infos)} members: at most {limits.max_members} allowed"
            )
        self._members: dict[str, zipfile.ZipInfo] = {}
        declared_total = 0
        for info in infos:
            self._check_member(info)
            if info.is_dir():
                continue
            if info.filename in self._members:
                raise FileRejected(filename, info.filename, "member appears twice in the zip")
            self._members[info.filename] = info
            declared_total += info.file_size
        if declared_total > limits.max_total_bytes:
            raise FileRejected(
                filename,
                None,
                f"uncompressed size {declared_total} bytes is over the limit of "
                f"{limits.max_total_bytes}",
            )

    def _check_member(self, info: zipfile.ZipInfo) -> None:
        name = info.filename
        parts = re.split(r"[/\\]", name)
        if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in parts:
            raise FileRejected(self.filename, name, "member path leaves the archive")
        if "\x00" in name:
            raise FileRejected(self.filename, name, "member path contains a NUL character")
        if info.flag_bits & 0x1:
            raise FileRejected(self.filename, name, "encrypted members are not supported")
        if self._too_compressed(info.file_size, info.compress_size):
            raise FileRejected(self.filename, name, "compression ratio too high (zip bomb?)")
        if not info.is_dir() and info.file_size > self.limits.max_member_bytes:
            raise FileRejected(self.filename, name, self._member_too_big())

    def _member_too_big(self) -> str:
        return (
            f"uncompressed size is over the limit of {self.limits.max_member_bytes} bytes "
            "for one file"
        )

    def _too_compressed(self, size: int, compressed: int) -> bool:
        limits = self.limits
        return size > limits.ratio_checked_above and size > max(compressed, 1) * limits.max_ratio

    @property
    def bytes_unpacked(self) -> int:
        """How many bytes the members read so far have unpacked to."""
        return self._bytes_read

    @property
    def names(self) -> list[str]:
        """The files in the archive (directories left out), in archive order."""
        return list(self._members)

    def open(self, name: str) -> io.BufferedReader:
        """A member as a binary stream, decompressed chunk by chunk and stopped as soon as it
        produces more than its header declared, more than one member or the archive in all
        may, or a ratio of a bomb."""
        return io.BufferedReader(_MemberStream(self, name), buffer_size=_CHUNK)

    def read(self, name: str) -> bytes:
        """A member's bytes, whole (for small members such as a manifest), with the limits
        of ``open``."""
        with self.open(name) as stream:
            return stream.read()

    def drain(self, name: str) -> None:
        """Decompress a member to check it against the limits, keeping none of it."""
        with self.open(name) as stream:
            while stream.read(_CHUNK):
                pass

    def csv_rows(self, name: str) -> Iterator[list[str]]:
        """A UTF-8 CSV member's records (byte order mark or not), read one at a time and
        never more than the row limit: the file is never held whole, as bytes or as text. An
        unreadable record is refused naming its line."""
        reader = csv.reader(self._text_lines(name))
        records = 0
        try:
            for fields in reader:
                records += 1
                # The header is one record more than the data rows.
                if records > self.limits.max_rows + 1:
                    raise FileRejected(
                        self.filename,
                        f"{name} row {records}",
                        f"more than {self.limits.max_rows:,} rows: split the file",
                    )
                yield fields
        except csv.Error as exc:
            raise FileRejected(
                self.filename, f"{name} line {reader.line_num}", f"unreadable CSV ({exc})"
            ) from None

    def _text_lines(self, name: str) -> Iterator[str]:
        """A member's UTF-8 text line by line (line ends kept, as ``csv`` wants them), each
        line decoded on its own so a bad byte is named by its line."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        number = 0
        with self.open(name) as stream:
            try:
                for raw in stream:
                    number += 1
                    yield from (line for line in _BARE_CR.split(decoder.decode(raw)) if line)
                if tail := decoder.decode(b"", final=True):
                    yield tail
            except UnicodeDecodeError as exc:
                raise FileRejected(
                    self.filename,
                    f"{name} line {max(number, 1)}",
                    f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8",
                ) from None

    def _counted(self, name: str, size: int) -> None:
        """Called as a member produces bytes: ``size`` new ones."""
        self._bytes_read += size
        if self._bytes_read > self.limits.max_total_bytes:
            raise FileRejected(
                self.filename,
                name,
                f"uncompressed size is over the limit of {self.limits.max_total_bytes} bytes",
            )

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _MemberStream(io.RawIOBase):
    """One member's decompressed bytes, with the archive's limits checked on every chunk."""

    def __init__(self, archive: SafeZip, name: str) -> None:
        self._archive = archive
        self._name = name
        self._info = archive._members[name]
        self._size = 0
        try:
            self._stream = archive._zip.open(self._info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise FileRejected(archive.filename, name, f"damaged member ({exc})") from None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        archive, name, info = self._archive, self._name, self._info
        try:
            chunk = self._stream.read(min(len(buffer), _CHUNK))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise FileRejected(archive.filename, name, f"damaged member ({exc})") from None
        self._size += len(chunk)
        if self._size > info.file_size:
            raise FileRejected(archive.filename, name, "member is larger than its header says")
        if self._size > archive.limits.max_member_bytes:
            raise FileRejected(archive.filename, name, archive._member_too_big())
        if archive._too_compressed(self._size, info.compress_size):
            raise FileRejected(archive.filename, name, "compression ratio too high (zip bomb?)")
        archive._counted(name, len(chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()
