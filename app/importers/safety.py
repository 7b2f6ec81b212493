"""Opening untrusted uploads safely: XML without DTDs or entities, zips checked for bombs and
path tricks before and while they are decompressed, CSV text that must be UTF-8.

Every refusal is a ``FileRejected`` naming the upload and, where it can, the place in it.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from types import TracebackType
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
MAX_ZIP_TOTAL_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Small members compress well for innocent reasons (a CSV of empty columns); only a big one
# with a huge ratio is the shape of a zip bomb.
RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"[A-Za-z]:")


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_members: int = MAX_ZIP_MEMBERS
    max_total_bytes: int = MAX_ZIP_TOTAL_BYTES
    max_ratio: int = MAX_COMPRESSION_RATIO
    ratio_checked_above: int = RATIO_CHECKED_ABOVE_BYTES


DEFAULT_ZIP_LIMITS = ZipLimits()


class SafeZip:
    """A zip upload whose directory has been checked (member count, names, encryption,
    declared sizes and ratios) before anything is decompressed. ``read`` enforces the same
    limits on the bytes actually produced, because a crafted header can understate them."""

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

    def _too_compressed(self, size: int, compressed: int) -> bool:
        limits = self.limits
        return size > limits.ratio_checked_above and size > max(compressed, 1) * limits.max_ratio

    @property
    def names(self) -> list[str]:
        """The files in the archive (directories left out), in archive order."""
        return list(self._members)

    def read(self, name: str) -> bytes:
        """A member's bytes, decompressed in chunks and stopped as soon as it produces more
        than its header declared, more than the archive's total allowance, or a ratio of a
        bomb."""
        info = self._members[name]
        chunks: list[bytes] = []
        size = 0
        try:
            with self._zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > info.file_size:
                        raise FileRejected(
                            self.filename, name, "member is larger than its header says"
                        )
                    if self._bytes_read + size > self.limits.max_total_bytes:
                        raise FileRejected(
                            self.filename,
                            name,
                            f"uncompressed size is over the limit of "
                            f"{self.limits.max_total_bytes} bytes",
                        )
                    if self._too_compressed(size, info.compress_size):
                        raise FileRejected(
                            self.filename, name, "compression ratio too high (zip bomb?)"
                        )
                    chunks.append(chunk)
        except FileRejected:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise FileRejected(self.filename, name, f"damaged member ({exc})") from None
        self._bytes_read += size
        return b"".join(chunks)

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


# --- Text --------------------------------------------------------------------------------


def decode_text(data: bytes, *, filename: str, member: str) -> str:
    """UTF-8 text, with or without a byte order mark (spreadsheets often add one)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            filename,
            f"{member} line {line}",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        ) from None
