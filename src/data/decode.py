"""Turn an untrusted input file into text: size limit, gzip by content, BOMs, charset detection.

In: a path. Out: :class:`DecodedFile` (the text, the encoding used, whether it was gzip).
Every way a file can be unreadable ends in one :class:`~src.utils.errors.InputFileError`
naming the file and the problem; nothing here guesses silently:

* gzip is recognised by its magic bytes, whatever the name (a gzip named ``.csv`` reads, a
  plain file named ``.gz`` reads too); a truncated or corrupt stream is refused;
* the decompressed size is capped (``MAX_INPUT_FILE_BYTES``), so a gzip bomb stops early;
* a UTF-8/UTF-16/UTF-32 byte-order mark decides the encoding; otherwise strict UTF-8 is
  tried first (what every real source uses) and only then charset-normalizer's best guess
  (cp1252 on a near tie: ``CHARSET_PREFER_MARGIN``); bytes nothing decodes, or NUL bytes
  (binary data), are refused.
"""

from __future__ import annotations

import codecs
import gzip
import os
import stat
import zlib
from dataclasses import dataclass
from pathlib import Path

from src.config import CHARSET_PREFER_MARGIN, CHARSET_PREFERRED, MAX_INPUT_FILE_BYTES
from src.utils.errors import InputFileError
from src.utils.logging import get_logger

log = get_logger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
# Longest BOM first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class DecodedFile:
    """An input file as text: ``text``, the ``encoding`` it was decoded with, ``gzipped``."""

    text: str
    encoding: str
    gzipped: bool


def read_bytes(path: Path, limit: int = MAX_INPUT_FILE_BYTES) -> tuple[bytes, bool]:
    """The file's (decompressed) bytes and whether it was gzip.

    Raises InputFileError when it is not a regular file (a FIFO, a folder), is not readable,
    is over ``limit`` bytes (before or after decompression) or is a truncated/corrupt gzip
    stream.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the open, a folder fails it
            raise InputFileError(f"{path}: not a regular file")
        size = st.st_size
        with open(path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
            if head != GZIP_MAGIC:
                if size > limit:
                    raise InputFileError(f"{path.name}: {size} bytes is over the input limit of "
                                         f"{limit} (MAX_INPUT_FILE_BYTES)")
                return fh.read(), False
            try:
                data = gzip.GzipFile(fileobj=fh).read(limit + 1)
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                raise InputFileError(f"{path.name}: truncated or corrupt gzip data ({exc}); "
                                     "upload the complete file again") from exc
    except PermissionError as exc:
        raise InputFileError(f"{path}: not readable (permission denied)") from exc
    if len(data) > limit:
        raise InputFileError(f"{path.name}: decompresses to more than the input limit of {limit} "
                             "bytes (MAX_INPUT_FILE_BYTES)")
    return data, True


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """Decode ``data`` (the bytes of file ``name``). Out: ``(text, encoding)``.

    BOM first, then strict UTF-8, then charset-normalizer; raises InputFileError when none
    gives text or the text holds NUL characters (binary content).
    """
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    try:
        text = data.decode(encoding or "utf-8")
        encoding = encoding or "utf-8"
    except UnicodeDecodeError as exc:
        if encoding is not None:  # a BOM that lies: refuse rather than guess
            raise InputFileError(f"{name}: starts with a {encoding} byte-order mark but is not "
                                 f"valid {encoding} ({exc.reason} at byte {exc.start})") from exc
        text, encoding = _detect(data, name)
    if "\x00" in text:
        raise InputFileError(f"{name}: holds NUL bytes (binary data, not a {encoding} text file)")
    return text, encoding


def _detect(data: bytes, name: str) -> tuple[str, str]:
    """Decode non-UTF-8 bytes with charset-normalizer's best match, logged as a warning."""
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise InputFileError(f"{name}: not text in any encoding charset-normalizer recognises; "
                             "export it as UTF-8")
    text, encoding = str(best), best.encoding
    # On a near tie the Western code page wins (see CHARSET_PREFER_MARGIN); it is a match
    # only if it decodes every byte (cp1252 leaves five byte values undefined).
    preferred = next((m for m in matches if CHARSET_PREFERRED in m.could_be_from_charset), None)
    if preferred is not None and preferred.chaos <= best.chaos + CHARSET_PREFER_MARGIN:
        try:
            text, encoding = data.decode(CHARSET_PREFERRED), CHARSET_PREFERRED
        except UnicodeDecodeError:
            pass
    log.warning("%s: not UTF-8; decoded as %s (charset-normalizer)", name, encoding)
    return text, encoding


def read_text(path: str | os.PathLike) -> DecodedFile:
    """Read an input file as text (see the module doc). Raises InputFileError."""
    path = Path(path)
    data, gzipped = read_bytes(path)
    text, encoding = decode_text(data, path.name)
    return DecodedFile(text=text, encoding=encoding, gzipped=gzipped)
