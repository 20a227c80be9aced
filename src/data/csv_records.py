"""Split CSV text into records, accounting for every physical line (no silent drops).

In: the decoded text of one file. Out: :class:`CsvRecords`: the header, the well-formed
records (with the line each starts on) and the rejected ones with a reason. The header is
the first non-blank line and is taken as is (no index inference: a data row with extra
fields is a ``wrong_field_count`` record, never a reason to re-read the columns).

Three paths, one result: a regular quoted file (the usual case) is proven regular by the
byte-level scan of :mod:`src.data.csv_scan` and parsed by pandas' C parser; a file with no
quote character at all has one record per line (:func:`_split_plain`); anything else goes
the careful way. There Python's ``csv`` module parses in strict mode; the lines are split
*before* parsing
(``io.StringIO(newline="")``, the same ``\\n``/``\\r\\n``/``\\r`` endings the parser uses) and each
record's span is tracked with ``line_num``, so :func:`split_records` can prove that
``header + blank + every record's lines == physical lines`` and raises if not (a bug).

Reasons: ``wrong_field_count``, ``unterminated_quote`` (a quote opened and never closed
before the end of the file), ``bad_quoting`` (e.g. ``"a"b``, or a stray quote closed by a
quote on a later line); for both, only the line the record starts on is quarantined and
parsing resumes on the next line, so the lines after it are not swallowed; ``cell_too_large``
(a cell over ``MAX_CELL_BYTES``), ``row_too_large`` (a record over ``MAX_ROW_BYTES``). A
half-written last line is a record like any other: short ones are ``wrong_field_count``.
"""

from __future__ import annotations

import csv
import io
import itertools
import sys
from dataclasses import dataclass, field

import pandas as pd

from src.config import (
    ALT_DELIMITERS,
    MAX_CELL_BYTES,
    MAX_ROW_BYTES,
    QUARANTINE_RAW_MAX_CHARS,
)
from src.data.csv_scan import scan_verified
from src.utils.errors import InputFileError

# Cells are limited by MAX_CELL_BYTES below, with a quarantine reason; the csv module's
# own limit (128 KiB by default) would instead abort the whole file.
csv.field_size_limit(sys.maxsize)

WRONG_FIELD_COUNT = "wrong_field_count"
UNTERMINATED_QUOTE = "unterminated_quote"
BAD_QUOTING = "bad_quoting"
LINE_COL = "_line"  # 1-based line a record starts on, carried into quarantine files
CELL_TOO_LARGE = "cell_too_large"
ROW_TOO_LARGE = "row_too_large"
HEADER_SCAN_CHARS = 1 << 20  # a header line (after any blank lines) longer than 1 MiB: read it all
_EOF_ERRORS = ("unexpected end of data", "newline inside string")


@dataclass
class CsvRecords:
    """Records of one CSV file.

    ``header``: column names (duplicates get ``.1``, ``.2``; empty ones ``Unnamed: i``);
    ``rows``/``row_lines``: well-formed records and the 1-based line each starts on;
    ``bad``: ``(line, raw excerpt, reason)`` per rejected record; ``delimiter`` used;
    ``physical_lines`` / ``blank_lines`` for the accounting.
    """

    header: list[str]
    delimiter: str
    physical_lines: int
    rows: list[list[str]] = field(default_factory=list)
    row_lines: list[int] = field(default_factory=list)
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    blank_lines: int = 0
    plain_text: str | None = None  # quote-free fast path: the well-formed lines, joined
    frame: pd.DataFrame | None = None  # verified-scan fast path: the frame pandas parsed

    @property
    def records(self) -> int:
        """Data records found (well-formed + rejected): the ``rows_in`` of the file."""
        return len(self.row_lines) + len(self.bad)

    def to_frame(self) -> pd.DataFrame:
        """The well-formed records as an all-text frame: ``_line``, then the header's columns
        (empty cells NA)."""
        if self.frame is not None:
            if LINE_COL not in self.frame.columns:  # once: the frame is not copied (size)
                self.frame.insert(0, LINE_COL, pd.Series(self.row_lines, dtype="int64"))
            return self.frame
        if self.plain_text is not None:
            # No quotes anywhere: pandas' C parser reads exactly the lines already checked.
            df = pd.read_csv(io.StringIO(self.plain_text), header=None, names=self.header,
                             sep=self.delimiter, quoting=csv.QUOTE_NONE, dtype=str,
                             keep_default_na=False, na_values=[""], skip_blank_lines=False,
                             index_col=False)
            if len(df) != len(self.row_lines):
                raise RuntimeError(f"{len(self.row_lines)} checked lines but {len(df)} parsed")
        else:
            cells = list(zip(*self.rows)) if self.rows else [()] * len(self.header)
            df = pd.DataFrame({name: pd.Series(values, dtype="str")
                               for name, values in zip(self.header, cells)})
            df = df.mask(df == "") if len(df) else df
        df.insert(0, LINE_COL, pd.Series(self.row_lines, dtype="int64"))
        return df


def excerpt(text: str, limit: int = QUARANTINE_RAW_MAX_CHARS) -> str:
    """``text`` without its line ending, cut to ``limit`` characters (size noted when cut)."""
    text = text.rstrip("\r\n")
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [cut: {len(text.encode('utf-8', 'replace'))} bytes in all]"


def _utf8_len(s: str) -> int:
    """UTF-8 size of ``s``; only encoded when it could be over a limit (cheap for most cells)."""
    return len(s.encode("utf-8", "surrogatepass"))


def _too_large(rec: list[str]) -> str | None:
    """``cell_too_large`` / ``row_too_large`` when ``rec`` breaks a size limit, else None.

    Character counts bound the byte counts (1-4 bytes a character), so exact UTF-8 sizes are
    computed only for cells and rows that could be over a limit.
    """
    longest = max(map(len, rec), default=0)
    if longest * 4 > MAX_CELL_BYTES and any(_utf8_len(c) > MAX_CELL_BYTES for c in rec
                                            if len(c) * 4 > MAX_CELL_BYTES):
        return CELL_TOO_LARGE
    total = sum(map(len, rec))
    if total * 4 > MAX_ROW_BYTES and sum(map(_utf8_len, rec)) > MAX_ROW_BYTES:
        return ROW_TOO_LARGE
    return None


def _column_names(fields: list[str]) -> list[str]:
    """Header fields as unique column names (pandas' conventions, so schemas match)."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(fields):
        name = f if f.strip() else f"Unnamed: {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


def _header(lines, name: str) -> tuple[int, list[str], str]:
    """Find the header in an iterable of lines. Out: ``(index of its line, fields, delimiter)``.

    A header of one field holding ``;``, tab or ``|`` (and no comma) switches to that
    delimiter. Raises InputFileError for a file with no non-blank line or a header the
    parser cannot read.
    """
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            raise InputFileError(f"{name}: header line {i + 1} is not valid CSV ({exc})") from exc
        delimiter = ","
        if len(fields) == 1:
            alt = next((d for d in ALT_DELIMITERS if d in line), None)
            if alt is not None:
                delimiter = alt
                fields = next(csv.reader([line], delimiter=alt, strict=True))
        return i, fields, delimiter
    raise InputFileError(f"{name} is empty (no header row): expected a CSV file whose first "
                         "line names the columns")


def _split_plain(lines: list[str], head_at: int, width: int, out: CsvRecords) -> CsvRecords:
    """Fast path for text with no quote character (ratings, links): one line is one
    record, its fields counted with ``str.count``; the kept lines are parsed by pandas."""
    keep: list[str] = []
    for i in range(head_at + 1, len(lines)):
        line = lines[i]
        body = line.rstrip("\r\n")
        if not body:
            out.blank_lines += 1
            continue
        reason = None
        if len(line) * 4 > min(MAX_CELL_BYTES, MAX_ROW_BYTES):
            reason = _too_large(body.split(out.delimiter))
        if reason is None and body.count(out.delimiter) + 1 != width:
            reason = WRONG_FIELD_COUNT
        if reason is None:
            keep.append(body)
            out.row_lines.append(i + 1)
        else:
            out.bad.append((i + 1, excerpt(line), reason))
    if 1 + out.blank_lines + len(keep) + len(out.bad) != len(lines):
        raise RuntimeError(f"{len(lines)} physical lines but not all accounted for")
    out.plain_text = "\n".join(keep) + "\n" if keep else ""
    return out


class _LineSource:
    """Iterator over ``lines`` from index ``at`` (settable), for the careful path's csv reader."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.at = lines, 0

    def __iter__(self) -> "_LineSource":
        return self

    def __next__(self) -> str:
        if self.at >= len(self.lines):
            raise StopIteration
        self.at += 1
        return self.lines[self.at - 1]


def split_records(text: str, name: str) -> CsvRecords:
    """Split ``text`` (file ``name``) into :class:`CsvRecords` (see the module doc).

    Raises InputFileError when there is no header; RuntimeError if the line accounting
    does not add up (a bug, never a data problem).
    """
    # The header is found in a prefix of whole lines: a StringIO of all the text copies it.
    prefix = text
    if len(text) > HEADER_SCAN_CHARS:
        cut = max(text.rfind("\n", 0, HEADER_SCAN_CHARS), text.rfind("\r", 0, HEADER_SCAN_CHARS))
        prefix = text[:cut + 1] if cut >= 0 else text
    try:
        head_at, fields, delimiter = _header(io.StringIO(prefix, newline=""), name)
    except InputFileError:
        if len(prefix) == len(text):
            raise
        head_at, fields, delimiter = _header(io.StringIO(text, newline=""), name)
    header = _column_names(fields)
    if head_at == 0 and '"' in text:
        fast = scan_verified(text, header, delimiter)
        if fast is not None:
            frame, row_lines, physical, blank = fast
            return CsvRecords(header=header, delimiter=delimiter, physical_lines=physical,
                              row_lines=row_lines, blank_lines=blank, frame=frame)
    lines = io.StringIO(text, newline="").readlines()
    out = CsvRecords(header=header, delimiter=delimiter, physical_lines=len(lines),
                     blank_lines=head_at)
    width = len(fields)
    if '"' not in text:
        return _split_plain(lines, head_at, width, out)
    # chars_before[i]: characters in lines[:i], so a record's size is one subtraction; only a
    # record that could be over a limit (4 bytes a character at most) is measured exactly.
    chars_before = [0, *itertools.accumulate(map(len, lines))]
    may_exceed = min(MAX_CELL_BYTES, MAX_ROW_BYTES) // 4
    spanned = 0  # lines covered by records
    pos = head_at + 1  # index of the first line the current reader was started on
    source = _LineSource(lines)
    while pos < len(lines):
        # A fresh reader after each error, resuming at ``pos`` in O(1) (islice would skip
        # ``pos`` lines again each time: quadratic on a file with many broken lines).
        source.at = pos
        reader = csv.reader(source, delimiter=delimiter, strict=True)
        start = pos  # index of the line the next record starts on
        try:
            for rec in reader:
                end = source.at
                if not rec:
                    out.blank_lines += end - start
                else:
                    spanned += end - start
                    big = chars_before[end] - chars_before[start] > may_exceed
                    reason = (_too_large(rec) if big else None) or (
                        WRONG_FIELD_COUNT if len(rec) != width else None)
                    if reason is None:
                        out.rows.append(rec)
                        out.row_lines.append(start + 1)
                    else:
                        out.bad.append((start + 1, excerpt("".join(lines[start:end])), reason))
                start = end
            pos = len(lines)
        except csv.Error as exc:
            # Only the line the broken record starts on is rejected; the lines the parser
            # had swallowed into it (a quote never closed, or closed by a later line's quote)
            # are parsed again as records of their own.
            reason = UNTERMINATED_QUOTE if any(e in str(exc) for e in _EOF_ERRORS) else BAD_QUOTING
            out.bad.append((start + 1, excerpt(lines[start]), reason))
            spanned += 1
            pos = start + 1
    accounted = 1 + out.blank_lines + spanned  # the header line, blank lines, records
    if accounted != len(lines):
        raise RuntimeError(f"{name}: {len(lines)} physical lines but {accounted} accounted for")
    return out
