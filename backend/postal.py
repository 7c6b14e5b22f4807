"""Postal DM (年賀状・暑中見舞い): a segment's addresses as CSV and as A4 address labels.

Only patients who agreed to mail (consent_post) and have a postal code and an address
are exported. The CSV is UTF-8 with a BOM so Excel opens it as such. The labels fit the
common 12-up A4 sheet (2 columns × 6 rows of 86.4 × 42.3 mm, no gaps between labels,
21.6 mm margins top and bottom, 18.6 mm left and right); each label holds 〒 and the
postal code, the address (wrapped, smaller when long) and the name with 「様」 in a larger
size. The Japanese fonts are reportlab's built-in CID fonts, so no font file is needed.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy.orm import Session

from backend import audit, segments
from backend.models import AuditAction, Clinic, Patient

HONORIFIC = "様"
CSV_COLUMNS = ("郵便番号", "住所", "氏名", "敬称", "フリガナ", "患者番号")
COLUMNS, ROWS = 2, 6
LABEL_WIDTH, LABEL_HEIGHT = 86.4 * mm, 42.3 * mm
MARGIN_LEFT, MARGIN_TOP = 18.6 * mm, 21.6 * mm
PADDING = 5 * mm
GOTHIC, MINCHO = "HeiseiKakuGo-W5", "HeiseiMin-W3"
ADDRESS_SIZES = (10, 9, 8, 7)
NAME_SIZES = (16, 14, 12, 10)
# Spreadsheet programs run a cell that starts like a formula; a name is never one.
_FORMULA = re.compile(r"^[=+\-@\t\r]")


@dataclass(frozen=True)
class Address:
    """One recipient of a postal DM."""

    patient_id: int
    postal_code: str
    address: str
    name: str
    kana: str


def export(
    session: Session, *, clinic: Clinic, segment: segments.Segment, actor: str, now: datetime
) -> list[Address]:
    """The segment's postal addresses (consent_post and an address), in patient order;
    the export is written to the audit log."""
    postal = segment.model_copy(update={"channel": segments.Reach.POST})
    found = [
        _address(patient) for patient in segments.iterate(session, clinic=clinic, segment=postal)
    ]
    audit.record(
        session,
        clinic_id=clinic.id,
        patient_id=None,
        actor=actor,
        action=AuditAction.EXPORT,
        now=now,
        detail=f"postal DM addresses: {len(found)} patients",
    )
    return found


def _address(patient: Patient) -> Address:
    return Address(
        patient_id=patient.id,
        postal_code=postal_code(patient.postal_code or ""),
        address=" ".join((patient.address or "").split()),
        name=patient.name,
        kana=patient.kana or "",
    )


def postal_code(raw: str) -> str:
    """A postal code as written on mail (NNN-NNNN); other text is kept as given."""
    digits = re.sub(r"\D", "", raw.translate(_FULL_WIDTH_DIGITS))
    return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else raw.strip()


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９－", "0123456789-")


def csv_bytes(addresses: Iterable[Address]) -> bytes:
    """The addresses as CSV: UTF-8 with a BOM (Excel), CRLF line ends, a Japanese header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in addresses:
        cells = (row.postal_code, row.address, row.name, HONORIFIC, row.kana, str(row.patient_id))
        writer.writerow([_cell(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _cell(value: str) -> str:
    return f"'{value}" if _FORMULA.match(value) else value


def write_labels(addresses: Iterable[Address], out: BinaryIO) -> int:
    """Draw the address labels as an A4 PDF into `out`; returns the number of pages."""
    _register_fonts()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    canvas.setTitle("宛名ラベル")
    pages = 0
    for index, address in enumerate(addresses):
        slot = index % (COLUMNS * ROWS)
        if slot == 0 and index:
            canvas.showPage()
        pages = index // (COLUMNS * ROWS) + 1
        _draw_label(canvas, address, *_origin(slot))
    if pages:
        canvas.showPage()
    canvas.save()
    return pages


def _origin(slot: int) -> tuple[float, float]:
    """The top-left corner of a label slot (row by row, left to right), in points."""
    row, column = divmod(slot, COLUMNS)
    _, page_height = A4
    return MARGIN_LEFT + column * LABEL_WIDTH, page_height - MARGIN_TOP - row * LABEL_HEIGHT


def _draw_label(canvas: Canvas, address: Address, left: float, top: float) -> None:
    width = LABEL_WIDTH - 2 * PADDING
    x, y = left + PADDING, top - PADDING - 10
    canvas.setFont(GOTHIC, 10)
    canvas.drawString(x, y, f"〒{address.postal_code}")
    name_size = _fitting_size(f"{address.name}　{HONORIFIC}", MINCHO, NAME_SIZES, width)
    room = y - (top - LABEL_HEIGHT + PADDING + name_size + 4)
    size, lines = _address_lines(address.address, width, room)
    canvas.setFont(MINCHO, size)
    for line in lines:
        y -= size * 1.3
        canvas.drawString(x + 4, y, line)
    canvas.setFont(MINCHO, name_size)
    bottom = top - LABEL_HEIGHT + PADDING
    canvas.drawCentredString(left + LABEL_WIDTH / 2, bottom, f"{address.name}　{HONORIFIC}")


def _fitting_size(text: str, font: str, sizes: tuple[int, ...], width: float) -> int:
    for size in sizes:
        if pdfmetrics.stringWidth(text, font, size) <= width:
            return size
    return sizes[-1]


def _address_lines(text: str, width: float, room: float) -> tuple[int, list[str]]:
    """The largest size at which the wrapped address fits the room, and its lines."""
    for size in ADDRESS_SIZES:
        lines = wrap(text, MINCHO, size, width - 4)
        if len(lines) * size * 1.3 <= room:
            return size, lines
    return ADDRESS_SIZES[-1], lines


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width`: breaks between words (a space, e.g. before a
    building's name) when a word fits on a fresh line, else between characters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        joined = f"{line} {word}" if line else word
        if pdfmetrics.stringWidth(joined, font, size) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        line = ""
        for part in _chunks(word, font, size, width):
            if line:
                lines.append(line)
            line = part
    return [*lines, line] if line else lines


def _chunks(word: str, font: str, size: float, width: float) -> Iterator[str]:
    chunk = ""
    for char in word:
        if chunk and pdfmetrics.stringWidth(chunk + char, font, size) > width:
            yield chunk
            chunk = ""
        chunk += char
    if chunk:
        yield chunk


@functools.cache
def _register_fonts() -> None:
    for name in (GOTHIC, MINCHO):
        pdfmetrics.registerFont(UnicodeCIDFont(name))
