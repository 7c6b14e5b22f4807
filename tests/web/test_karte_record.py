"""施術録 on the dashboard: a visit's entry written and corrected with a reason, the earlier
values kept as amendments, every view and change audited."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import visits
from backend.models import AuditAction, AuditLog, Outcome, Visit, VisitAmendment
from backend.payments import Payments
from tests.factories import jst, make_clinic, make_course, make_patient, make_staff
from tests.web.conftest import csrf_of, sign_in


@dataclass
class Chart:
    patient_id: int
    visit_id: int


@pytest.fixture
def chart(session: Session) -> Chart:
    clinic = make_clinic(session)
    staff = make_staff(session, clinic, name="鈴木 一郎")
    course = make_course(session, clinic)
    patient = make_patient(session, clinic)
    visit = visits.record(
        session,
        clinic_id=clinic.id,
        patient_id=patient.id,
        actor="test",
        now=jst(2026, 11, 29, 10),
        course_id=course.id,
        staff_id=staff.id,
        payments=Payments(self_pay_yen=4400),
    )
    return Chart(patient.id, visit.id)


def page_of(chart: Chart) -> str:
    return f"/patients/{chart.patient_id}/visits/{chart.visit_id}"


def filled(token: str, **fields: str) -> dict[str, str]:
    values = {
        "csrf": token,
        "injury_on": "2026-11-28",
        "injury_part": "腰部",
        "injury_cause": "引っ越しの荷物を持ち上げた",
        "symptoms": "腰の痛み\r\n前屈で増す",
        "treatment": "手技 15分、電療 10分",
        "progress": "",
        "outcome": "continuing",
        "completed_on": "",
        "copay": "0",
        "claim": "0",
        "self_pay": "4400",
        "ticket": "0",
        "reason": "記入",
    }
    return values | fields


def test_the_karte_links_each_visit_to_its_entry(web: TestClient, chart: Chart) -> None:
    sign_in(web)
    karte = web.get(f"/patients/{chart.patient_id}").text
    assert f'href="{page_of(chart)}"' in karte
    page = web.get(page_of(chart)).text
    assert "施術録" in page
    assert "鈴木 一郎" in page
    assert "2026年11月29日（日） 10:00" in page
    assert 'name="reason" value="記入"' in page  # an empty entry starts with 「記入」
    assert "まだ記入されていません" in page


def test_writing_the_entry_keeps_it_as_an_amendment_and_audits_it(
    web: TestClient, session: Session, chart: Chart
) -> None:
    token = sign_in(web)
    answer = web.post(page_of(chart), data=filled(token))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{page_of(chart)}?notice=saved"
    session.expire_all()
    visit = session.get(Visit, chart.visit_id)
    assert visit is not None
    assert visit.injury_part == "腰部"
    assert visit.symptoms == "腰の痛み\n前屈で増す"  # the browser's CRLF as LF
    assert visit.injury_on.isoformat() == "2026-11-28"  # type: ignore[union-attr]
    assert visit.progress is None
    (amendment,) = session.scalars(
        select(VisitAmendment).where(VisitAmendment.visit_id == chart.visit_id)
    ).all()
    assert amendment.reason == "記入"
    assert amendment.actor == "dashboard"
    assert amendment.changes["injury_part"] == {"old": None, "new": "腰部"}
    assert "self_pay_yen" not in amendment.changes  # unchanged fields are not amendments
    actions = session.scalars(
        select(AuditLog.action).where(
            AuditLog.patient_id == chart.patient_id, AuditLog.actor == "dashboard"
        )
    ).all()
    assert AuditAction.UPDATE in actions
    page = web.get(answer.headers["location"]).text
    assert "施術録を保存しました" in page
    assert "負傷部位" in page.split('id="history-heading"')[1]


def test_a_correction_needs_a_reason_and_shows_the_earlier_value(
    web: TestClient, session: Session, chart: Chart
) -> None:
    token = sign_in(web)
    web.post(page_of(chart), data=filled(token))
    page = web.get(page_of(chart)).text
    assert 'name="reason" value=""' in page  # written once: a correction says why
    refused = web.post(
        page_of(chart), data=filled(token, treatment="手技 20分", self_pay="3300", reason="")
    )
    assert refused.status_code == 422
    assert "記入・訂正の理由を入力してください。" in refused.text
    assert "手技 20分" in refused.text  # what was typed is kept
    session.expire_all()
    assert session.get(Visit, chart.visit_id).treatment == "手技 15分、電療 10分"  # type: ignore[union-attr]

    answer = web.post(
        page_of(chart),
        data=filled(
            token,
            treatment="手技 20分",
            self_pay="３，３００",
            outcome="cured",
            completed_on="2026-11-29",
            reason="時間と金額の入力誤り",
        ),
    )
    assert answer.headers["location"].endswith("notice=saved")
    session.expire_all()
    visit = session.get(Visit, chart.visit_id)
    assert visit is not None
    assert visit.treatment == "手技 20分"
    assert visit.self_pay_yen == 3300
    assert visit.outcome == Outcome.CURED
    history = web.get(page_of(chart)).text.split('id="history-heading"')[1]
    assert history.index("時間と金額の入力誤り") < history.index(">記入<")  # newest first
    assert '<span class="old">手技 15分、電療 10分</span> → 手技 20分' in history
    assert '<span class="old">4,400円</span> → 3,300円' in history
    assert '<span class="old">継続</span> → 治癒' in history


def test_saving_without_changes_writes_nothing(
    web: TestClient, session: Session, chart: Chart
) -> None:
    token = sign_in(web)
    web.post(page_of(chart), data=filled(token))
    again = web.post(page_of(chart), data=filled(token, reason=""))
    assert again.headers["location"] == f"{page_of(chart)}?notice=unchanged"
    count = session.scalars(
        select(VisitAmendment).where(VisitAmendment.visit_id == chart.visit_id)
    ).all()
    assert len(count) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"injury_on": "11月28日"}, "injury_on", "日付は「2026-11-30」のように入力"),
        ({"self_pay": "-1"}, "self_pay", "金額は0以上の整数"),
        ({"claim": ""}, "claim", "金額は0以上の整数"),
        ({"injury_part": "腰" * 101}, "injury_part", "100文字以内"),
        ({"outcome": "healed"}, "outcome", "入力内容を確認してください"),
        ({"symptoms": "痛み\x00"}, "symptoms", "制御文字"),
    ],
)
def test_a_refused_field_is_explained_and_nothing_is_written(
    web: TestClient,
    session: Session,
    chart: Chart,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = sign_in(web)
    answer = web.post(page_of(chart), data=filled(token, **fields))
    assert answer.status_code == 422
    at_field = answer.text.split(f'id="r-{field}"')[1].split("</div>")[0]
    assert message in at_field
    assert 'aria-invalid="true"' in answer.text.split(f'for="r-{field}"')[1].split("</div>")[0]
    session.expire_all()
    assert (
        session.scalars(
            select(VisitAmendment).where(VisitAmendment.visit_id == chart.visit_id)
        ).first()
        is None
    )


def test_another_patients_or_clinics_visit_is_not_found(
    web: TestClient, session: Session, chart: Chart
) -> None:
    token = sign_in(web)
    other = make_patient(session, make_clinic(session, name="駅前整骨院"), name="他院 患者")
    assert web.get(f"/patients/{other.id}/visits/{chart.visit_id}").status_code == 404
    assert web.get(f"/patients/{chart.patient_id}/visits/abc").status_code == 404
    assert (
        web.post(f"/patients/{other.id}/visits/{chart.visit_id}", data=filled(token)).status_code
        == 404
    )
    forged = web.post(page_of(chart), data=filled("forged"))
    assert forged.status_code == 403
    assert session.scalars(select(VisitAmendment)).first() is None
    assert csrf_of(web.get(page_of(chart)).text) == token
