"""Postal DM: who is exported, the CSV Excel opens, and the label PDF read back."""

from __future__ import annotations

import csv
import io

from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import postal, segments
from backend.models import AuditAction, AuditLog, Clinic
from tests.factories import NOW, make_clinic, make_patient

ADDRESS = "東京都渋谷区神宮前1-2-3 さくらマンション101号室"


def addressed(session: Session, clinic: Clinic, count: int) -> None:
    for number in range(count):
        make_patient(
            session,
            clinic,
            name=f"患者 {number:02d}",
            consent_post=True,
            postal_code="1500001",
            address=ADDRESS,
        )


def test_export_takes_patients_who_agreed_to_mail_and_have_an_address(session: Session) -> None:
    clinic = make_clinic(session)
    make_patient(
        session,
        clinic,
        name="郵送可",
        consent_post=True,
        postal_code="１５００００１",
        address="東京都渋谷区1-1",
    )
    make_patient(session, clinic, name="同意なし", postal_code="1500001", address="東京都渋谷区1-2")
    make_patient(session, clinic, name="住所なし", consent_post=True, postal_code="1500001")
    found = postal.export(session, clinic=clinic, segment=segments.Segment(), actor="test", now=NOW)
    assert [(a.name, a.postal_code) for a in found] == [("郵送可", "150-0001")]
    entry = session.scalars(select(AuditLog).where(AuditLog.action == AuditAction.EXPORT)).one()
    assert entry.detail == "postal DM addresses: 1 patients"


def test_csv_is_utf8_with_a_bom_and_japanese_columns() -> None:
    rows = [postal.Address(7, "150-0001", ADDRESS, "佐藤 花子", "サトウ ハナコ")]
    data = postal.csv_bytes(rows)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table == [
        ["郵便番号", "住所", "氏名", "敬称", "フリガナ", "患者番号"],
        ["150-0001", ADDRESS, "佐藤 花子", "様", "サトウ ハナコ", "7"],
    ]


def test_csv_cells_never_start_a_formula() -> None:
    rows = [postal.Address(1, "150-0001", "=HYPERLINK(1)", "+佐藤", "")]
    table = list(csv.reader(io.StringIO(postal.csv_bytes(rows).decode("utf-8-sig"))))
    assert table[1][1:3] == ["'=HYPERLINK(1)", "'+佐藤"]


def test_labels_are_twelve_to_an_a4_page_with_postal_code_address_and_name(
    session: Session,
) -> None:
    clinic = make_clinic(session)
    addressed(session, clinic, 13)
    found = postal.export(session, clinic=clinic, segment=segments.Segment(), actor="test", now=NOW)
    out = io.BytesIO()
    assert postal.write_labels(found, out) == 2
    reader = PdfReader(io.BytesIO(out.getvalue()))
    assert len(reader.pages) == 2
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    first, second = (page.extract_text() for page in reader.pages)
    assert first.count("〒150-0001") == 12
    assert first.count("様") == 12
    assert second.count("〒150-0001") == 1
    assert "患者 00" in first
    assert "患者 12" in second
    assert "神宮前" in first


def test_an_empty_export_is_an_empty_pdf_without_pages() -> None:
    out = io.BytesIO()
    assert postal.write_labels([], out) == 0
    assert out.getvalue().startswith(b"%PDF")


def test_long_addresses_wrap_within_the_label() -> None:
    text = "北海道札幌市中央区北一条西二丁目三番地四 とても長い名前のビルディング第一タワー二十三階"
    width = postal.LABEL_WIDTH - 2 * postal.PADDING
    lines = postal.wrap(text, postal.MINCHO, 10, width)
    assert len(lines) >= 2
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(pdfmetrics.stringWidth(line, postal.MINCHO, 10) <= width for line in lines)
