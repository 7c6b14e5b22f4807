"""The カルテ pages: finding a patient, reading the カルテ with its bookings and 施術録,
and editing it; every view and change is in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import payments, visits
from backend.models import AuditAction, AuditLog, Gender, Media, Patient, PaymentKind
from backend.web import karte_form, karte_identity, karte_merge, karte_view
from tests.factories import (
    NOW,
    jst,
    make_bed,
    make_booking,
    make_clinic,
    make_course,
    make_patient,
    make_staff,
)
from tests.web.conftest import sign_in


@dataclass
class Front:
    hanako: Patient
    taro: Patient
    stranger: Patient
    visit_id: int
    media: dict[str, int]  # by name: this clinic's (one retired) and the other clinic's


@pytest.fixture
def front(session: Session) -> Front:
    clinic = make_clinic(session)
    staff = make_staff(session, clinic, name="鈴木 一郎")
    make_bed(session, clinic)
    course = make_course(session, clinic)
    insurance = make_course(
        session,
        clinic,
        name="保険施術",
        price_yen=500,
        insurance_claim_yen=1500,
        payment_kind=PaymentKind.INSURANCE,
    )
    media = Media(clinic_id=clinic.id, name="ホームページ", sort_order=2)
    flyer = Media(clinic_id=clinic.id, name="チラシ", sort_order=1)
    retired = Media(clinic_id=clinic.id, name="駅の看板", active=False)
    session.add_all([media, flyer, retired])
    session.flush()
    hanako = make_patient(
        session,
        clinic,
        media_id=media.id,
        email="hanako@example.jp",
        note_family="夫と娘(小3)",
        note_likes="甘いもの",
        line_user_id="U" + "c" * 32,
        line_reachable=False,
    )
    taro = make_patient(
        session, clinic, name="田中 太郎", kana="タナカ タロウ", phone="+819011112222"
    )
    visits.record(
        session,
        clinic_id=clinic.id,
        patient_id=hanako.id,
        actor="test",
        now=NOW,
        visited_at=jst(2026, 11, 10, 10),
        staff_id=staff.id,
        course_id=insurance.id,
    )
    last = visits.record(
        session,
        clinic_id=clinic.id,
        patient_id=hanako.id,
        actor="test",
        now=NOW,
        visited_at=jst(2026, 11, 20, 16),
        staff_id=staff.id,
        course_id=course.id,
        payments=payments.Payments(self_pay_yen=3300, ticket_yen=1100),
    )
    make_booking(session, patient=hanako, course=course, starts_at=jst(2026, 12, 2, 10))
    elsewhere = make_clinic(session, name="となり鍼灸院")
    stranger = make_patient(session, elsewhere, name="佐藤 次郎", kana="サトウ ジロウ")
    neighbour = Media(clinic_id=elsewhere.id, name="となりのチラシ")
    session.add(neighbour)
    session.flush()
    session.query(AuditLog).delete()  # the test's own set-up is not what is checked
    media_ids = {row.name: row.id for row in (media, flyer, retired, neighbour)}
    return Front(hanako=hanako, taro=taro, stranger=stranger, visit_id=last.id, media=media_ids)


class _FormReader(HTMLParser):
    """What a browser would post from the カルテ form as it stands on the page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside = False
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._inside = "karte-form" in found.get("class", "")
        if not self._inside:
            return
        name = found.get("name", "")
        if tag == "input" and (found.get("type") != "checkbox" or "checked" in found):
            self.fields[name] = found.get("value", "on")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.fields[self._select] = found["value"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False
        elif tag in ("textarea", "select"):
            self._textarea = self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_on(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    assert "csrf" in reader.fields, "the page has no カルテ form"
    return reader.fields


def audit_rows(session: Session, patient: Patient) -> list[tuple[AuditAction, str, str | None]]:
    rows = session.execute(
        select(AuditLog.action, AuditLog.actor, AuditLog.detail)
        .where(AuditLog.patient_id == patient.id)
        .order_by(AuditLog.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def results(html: str) -> str:
    return html.split('id="results-heading"')[1]


def test_search_folds_hiragana_and_half_width_kana(web: TestClient, front: Front) -> None:
    sign_in(web)
    found = results(web.get("/patients", params={"q": "さとう"}).text)
    assert "佐藤 花子" in found
    assert "090-1234-5678" in found
    assert "2026年11月20日（金）" in found  # the last of her two visits
    assert "2回" in found
    assert "田中 太郎" not in found
    assert "佐藤 次郎" not in found  # a patient of another clinic
    assert "田中 太郎" in results(web.get("/patients", params={"q": "ﾀﾅｶ"}).text)


def test_search_by_phone_digits(web: TestClient, front: Front) -> None:
    sign_in(web)
    found = results(web.get("/patients", params={"q": "1111-2222"}).text)
    assert f'href="/patients/{front.taro.id}"' in found
    assert "佐藤 花子" not in found
    nothing = web.get("/patients", params={"q": "0000000"}).text
    assert "に当てはまる方は見つかりませんでした" in nothing


def test_without_a_query_the_latest_visitors_come_first(web: TestClient, front: Front) -> None:
    sign_in(web)
    page = web.get("/patients").text
    found = results(page)
    assert "最近来院された方" in page
    assert found.index("佐藤 花子") < found.index("田中 太郎")
    assert "来院なし" in found  # 田中 has never come
    assert "佐藤 次郎" not in found


def test_a_long_list_is_cut_at_fifty_and_says_so(
    web: TestClient, front: Front, session: Session
) -> None:
    clinic_id = front.hanako.clinic_id
    for number in range(55):
        session.add(
            Patient(clinic_id=clinic_id, name=f"山本 {number}", created_at=NOW, updated_at=NOW)
        )
    session.flush()
    sign_in(web)
    page = web.get("/patients", params={"q": "山本"}).text
    assert page.split('id="results-heading"')[1].count('href="/patients/') == 50
    assert "50件を超えて見つかりました" in page
    assert "50件まで表示" in page


def test_the_karte_shows_identity_contact_notes_bookings_and_visits(
    web: TestClient, front: Front
) -> None:
    sign_in(web)
    page = web.get(f"/patients/{front.hanako.id}").text
    assert "佐藤 花子さんのカルテ" in page
    assert "1985年4月1日（41歳）" in page
    assert "ホームページ" in page
    assert "hanako@example.jp" in page
    assert "夫と娘(小3)" in page
    assert "ブロックされています" in page
    assert "初検日</dt><dd>2026年11月10日（火）" in page
    upcoming = page.split('id="bookings-heading"')[1].split('id="visits-heading"')[0]
    assert "2026年12月2日（水）" in upcoming
    assert "承認待ち" in upcoming
    history = page.split('id="visits-heading"')[1]
    assert history.index("2026年11月20日") < history.index("2026年11月10日")  # newest first
    assert "鈴木 一郎" in history
    assert "継続" in history
    assert "3,300円" in history  # self-pay
    assert "1,100円" in history  # ticket
    assert "4,400円" in history  # the visit's total
    assert "1,500円" in history  # the insurance visit's claim
    assert "2,000円" in history  # and its total with the 500 yen co-pay


def test_viewing_a_karte_is_audited(web: TestClient, front: Front, session: Session) -> None:
    sign_in(web)
    assert web.get(f"/patients/{front.hanako.id}").status_code == 200
    assert audit_rows(session, front.hanako) == [
        (AuditAction.READ, "dashboard", None),
        (AuditAction.READ, "dashboard", "visits (2)"),
    ]


def test_each_patient_a_search_list_shows_is_audited(
    web: TestClient, front: Front, session: Session
) -> None:
    # The list shows name, phone and visits, read from the カルテ: DESIGN rule 6.
    sign_in(web)
    assert "佐藤 花子" in results(web.get("/patients", params={"q": "さとう"}).text)
    assert audit_rows(session, front.hanako) == [(AuditAction.READ, "dashboard", "search list")]
    assert audit_rows(session, front.taro) == []  # not in that list
    assert audit_rows(session, front.stranger) == []  # another clinic's

    web.get("/patients")  # the latest visitors: 田中 is listed too

    assert audit_rows(session, front.taro) == [(AuditAction.READ, "dashboard", "search list")]


def test_an_amended_visit_says_so(web: TestClient, front: Front, session: Session) -> None:
    visits.amend(
        session, visit_id=front.visit_id, actor="test", now=NOW, reason="金額の誤り", ticket_yen=0
    )
    sign_in(web)
    history = web.get(f"/patients/{front.hanako.id}").text.split('id="visits-heading"')[1]
    assert "訂正1回" in history


def test_editing_a_note_changes_only_that_field_and_is_audited(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    assert form["phone"] == "090-1234-5678"
    assert form["note_family"] == "夫と娘(小3)"
    form["note_hobbies"] = "ゴルフ\r\n週末は釣り"
    answer = web.post(f"/patients/{front.hanako.id}", data=form)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/patients/{front.hanako.id}?notice=updated"
    session.refresh(front.hanako)
    assert front.hanako.note_hobbies == "ゴルフ\n週末は釣り"
    assert front.hanako.phone == "+819012345678"
    assert front.hanako.consent_updated_at is None  # consents were not touched
    assert (AuditAction.UPDATE, "dashboard", "fields note_hobbies") in audit_rows(
        session, front.hanako
    )
    page = web.get(answer.headers["location"]).text
    assert "カルテを更新しました。" in page
    assert "週末は釣り" in page


def test_tags_consents_and_a_full_width_postal_code(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.taro.id}").text)
    form |= {"tags": "紹介、腰痛, 紹介", "consent_sms": "on", "postal_code": "１５０－０００１"}
    form["next_visit_likelihood"] = "high"
    assert web.post(f"/patients/{front.taro.id}", data=form).status_code == 303
    session.refresh(front.taro)
    assert sorted(tag.tag for tag in front.taro.tags) == ["紹介", "腰痛"]
    assert front.taro.consent_sms is True
    assert front.taro.consent_line is False
    assert front.taro.consent_updated_at == NOW
    assert front.taro.postal_code == "150-0001"
    assert front.taro.next_visit_likelihood == "high"


def test_a_field_too_long_for_any_form_gets_a_japanese_page_and_changes_nothing(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    form |= {"note_job": "看" * (karte_form.FORM_TEXT + 1)}

    answer = web.post(
        f"/patients/{front.hanako.id}",
        data=form,
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},  # as browsers send
    )

    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert "保存できませんでした" in answer.text
    assert "「戻る」" in answer.text  # where what was typed is still there
    session.refresh(front.hanako)
    assert front.hanako.note_job is None
    assert AuditAction.UPDATE not in [row[0] for row in audit_rows(session, front.hanako)]


def test_a_bad_phone_number_is_explained_and_nothing_typed_is_lost(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    form |= {"phone": "12345", "note_job": "看護師", "email": "hanako@"}
    answer = web.post(f"/patients/{front.hanako.id}", data=form)
    assert answer.status_code == 422
    phone = answer.text.split('id="f-phone"')[1].split("</div>")[0]
    assert 'value="12345"' in phone
    assert karte_form.PHONE_ERROR in phone
    email = answer.text.split('id="f-email"')[1].split("</div>")[0]
    assert "メールアドレスの形式が正しくありません" in email
    kept = form_on(answer.text)
    assert kept["note_job"] == "看護師"
    assert kept["email"] == "hanako@"
    session.refresh(front.hanako)
    assert front.hanako.phone == "+819012345678"
    assert front.hanako.note_job is None
    assert AuditAction.UPDATE not in [row[0] for row in audit_rows(session, front.hanako)]


def saved_elsewhere_after_i_opened(
    web: TestClient, patient: Patient, clock: list, **theirs: str
) -> dict[str, str]:
    """My form as I opened it, after another screen saved `theirs` over the same カルテ a
    little later."""
    sign_in(web)
    mine = form_on(web.get(f"/patients/{patient.id}").text)
    clock[0] = jst(2026, 11, 30, 9)
    assert web.post(f"/patients/{patient.id}", data=dict(mine, **theirs)).status_code == 303
    return mine


def test_changes_to_other_fields_saved_meanwhile_are_merged_with_mine(
    web: TestClient, front: Front, session: Session, clock: list
) -> None:
    front.hanako.note_family = "夫と娘\n長男は大学生"
    session.flush()
    mine = saved_elsewhere_after_i_opened(
        web, front.hanako, clock, note_likes="和菓子", note_family="夫と娘\n長男は社会人"
    )
    # My untouched note goes back with CRLF line breaks, as browsers send a textarea's.
    assert "\n" in mine["note_family"]
    mine |= {"note_job": "教師", "note_family": mine["note_family"].replace("\n", "\r\n")}

    answer = web.post(f"/patients/{front.hanako.id}", data=mine)

    assert answer.status_code == 303
    session.refresh(front.hanako)
    assert front.hanako.note_job == "教師"
    # Theirs, not put back by my older form.
    assert front.hanako.note_likes == "和菓子"
    assert front.hanako.note_family == "夫と娘\n長男は社会人"


def test_a_field_both_screens_changed_comes_back_marked_with_the_rest_up_to_date(
    web: TestClient, front: Front, session: Session, clock: list
) -> None:
    mine = saved_elsewhere_after_i_opened(
        web, front.hanako, clock, note_job="看護師", note_likes="和菓子"
    )
    mine |= {"note_job": "教師", "note_hobbies": "ゴルフ"}

    answer = web.post(f"/patients/{front.hanako.id}", data=mine)

    assert answer.status_code == 422
    assert karte_form.STALE_ERROR in answer.text
    assert karte_merge.BOTH_CHANGED in at_field(answer.text, "note_job")
    assert karte_merge.BOTH_CHANGED not in at_field(answer.text, "note_hobbies")
    session.refresh(front.hanako)
    assert (front.hanako.note_job, front.hanako.note_hobbies) == ("看護師", None)
    again = form_on(answer.text)
    # Mine kept where I typed; the rest as the other screen left it.
    assert (again["note_job"], again["note_hobbies"]) == ("教師", "ゴルフ")
    assert again["note_likes"] == "和菓子"
    assert web.post(f"/patients/{front.hanako.id}", data=again).status_code == 303
    session.refresh(front.hanako)
    assert (front.hanako.note_job, front.hanako.note_hobbies) == ("教師", "ゴルフ")
    assert front.hanako.note_likes == "和菓子"


def test_a_consent_both_screens_changed_is_marked_at_its_checkbox(
    web: TestClient, front: Front, session: Session, clock: list
) -> None:
    # The other screen records that she agreed to SMS; mine, opened before, ticks SMS and
    # post: which of us heard her last is for staff to decide.
    mine = saved_elsewhere_after_i_opened(web, front.hanako, clock, consent_sms="on")
    mine |= {"consent_sms": "on", "consent_post": "on"}

    answer = web.post(f"/patients/{front.hanako.id}", data=mine)

    assert answer.status_code == 422
    sms = at_field(answer.text, "consent_sms")
    assert karte_merge.BOTH_CHANGED in sms
    assert 'aria-invalid="true" aria-describedby="f-consent_sms-error"' in sms
    assert karte_merge.BOTH_CHANGED not in at_field(answer.text, "consent_post")
    again = form_on(answer.text)
    assert (again.get("consent_sms"), again.get("consent_post")) == ("on", "on")
    session.refresh(front.hanako)
    assert (front.hanako.consent_sms, front.hanako.consent_post) == (True, False)


def test_a_form_that_does_not_say_what_it_showed_overwrites_nothing_changed_meanwhile(
    web: TestClient, front: Front, session: Session, clock: list
) -> None:
    mine = saved_elsewhere_after_i_opened(web, front.hanako, clock, note_likes="和菓子")

    answer = web.post(f"/patients/{front.hanako.id}", data=dict(mine, seen="", note_job="教師"))

    assert answer.status_code == 422
    assert karte_merge.BOTH_CHANGED in at_field(answer.text, "note_likes")
    session.refresh(front.hanako)
    assert (front.hanako.note_job, front.hanako.note_likes) == (None, "和菓子")


def test_a_form_without_its_token_is_refused(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    del form["csrf"]
    form["note_job"] = "不正な書き込み"
    answer = web.post(f"/patients/{front.hanako.id}", data=form)
    assert answer.status_code == 403
    session.refresh(front.hanako)
    assert front.hanako.note_job is None


def test_signed_out_browsers_go_to_the_sign_in_page(web: TestClient, front: Front) -> None:
    for answer in (
        web.get("/patients"),
        web.get(f"/patients/{front.hanako.id}"),
        web.post(f"/patients/{front.hanako.id}", data={"note_job": "x"}),
    ):
        assert answer.status_code == 303
        assert answer.headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/patients/999999", "/patients/abc", "/patients/0"])
def test_an_unknown_karte_is_a_japanese_404(web: TestClient, front: Front, path: str) -> None:
    sign_in(web)
    answer = web.get(path)
    assert answer.status_code == 404
    assert "カルテが見つかりません" in answer.text


def test_a_patient_of_another_clinic_is_not_shown_or_changed(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    answer = web.get(f"/patients/{front.stranger.id}")
    assert answer.status_code == 404
    assert "佐藤 次郎" not in answer.text
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    changed = web.post(f"/patients/{front.stranger.id}", data=dict(form, note_job="x"))
    assert changed.status_code == 404
    session.refresh(front.stranger)
    assert front.stranger.note_job is None
    assert audit_rows(session, front.stranger) == []


def test_a_merged_karte_points_to_the_one_it_was_merged_into(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.taro.id}").text)
    front.taro.merged_into_id = front.hanako.id
    session.flush()
    page = web.get(f"/patients/{front.taro.id}").text
    assert f'<a href="/patients/{front.hanako.id}">佐藤 花子さんのカルテ' in page
    assert 'class="karte-form"' not in page
    refused = web.post(f"/patients/{front.taro.id}", data=dict(form, note_job="x"))
    assert refused.status_code == 422
    assert karte_form.MERGED_ERROR in refused.text
    session.refresh(front.taro)
    assert front.taro.note_job is None


def test_an_overlong_note_is_explained_with_its_limit(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    answer = web.post(f"/patients/{front.hanako.id}", data=dict(form, note_likes="あ" * 4001))
    assert answer.status_code == 422
    likes = answer.text.split('id="f-note_likes"')[1].split("</div>")[0]
    assert "4000文字以内で入力してください。" in likes
    assert form_on(answer.text)["note_likes"] == "あ" * 4001
    session.refresh(front.hanako)
    assert front.hanako.note_likes == "甘いもの"


def test_without_a_clinic_the_pages_say_so(web: TestClient) -> None:
    sign_in(web)
    assert "院が登録されていません" in web.get("/patients").text
    assert web.get("/patients/1").status_code == 404


def test_age_counts_full_years() -> None:
    assert karte_view.age(date(1985, 12, 1), date(2026, 11, 30)) == 40
    assert karte_view.age(date(1985, 11, 30), date(2026, 11, 30)) == 41


def at_field(html: str, name: str) -> str:
    """The field's own markup: its input and the message next to it."""
    return html.split(f'id="f-{name}"')[1].split("</div>", maxsplit=1)[0]


def options(html: str, name: str) -> list[tuple[str, str]]:
    """A select's choices as (value, label), in order."""
    listed = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', at_field(html, name))
    return [(value, label) for value, label in listed]


def unverified(session: Session, patient: Patient) -> None:
    """The name was taken from a phone call, as a phone booking registers it."""
    patient.name_verified = False
    session.flush()


def test_the_identity_fields_offer_the_clinics_choices_in_japanese(
    web: TestClient, front: Front
) -> None:
    sign_in(web)
    page = web.get(f"/patients/{front.hanako.id}").text
    form = form_on(page)
    assert (form["name"], form["kana"]) == ("佐藤 花子", "サトウ ハナコ")
    assert form["birth_on"] == "1985-04-01"
    assert 'type="text"' in at_field(page, "birth_on")  # half a date still reaches the server
    assert options(page, "gender") == [
        ("female", "女性"),
        ("male", "男性"),
        ("other", "その他"),
        ("unknown", "未回答"),
    ]
    assert form["gender"] == "unknown"
    # The LINE registration's list: active media in their order; not retired or others'.
    assert options(page, "media_id") == [
        ("", "未設定"),
        (str(front.media["チラシ"]), "チラシ"),
        (str(front.media["ホームページ"]), "ホームページ"),
    ]
    assert form["media_id"] == str(front.media["ホームページ"])
    assert "f-name_verified" not in page  # her name is verified already


def test_editing_name_kana_birthday_gender_and_medium_is_audited_and_verifies_the_name(
    web: TestClient, front: Front, session: Session
) -> None:
    unverified(session, front.taro)
    sign_in(web)
    page = web.get(f"/patients/{front.taro.id}").text
    assert "電話で聞き取ったお名前です" in page
    form = form_on(page)
    assert form["media_id"] == ""  # 未設定
    assert "name_verified" not in form  # not ticked
    form |= {
        "name": "田中 太朗",
        "kana": "タナカ タロ",
        "birth_on": "1990-02-03",
        "gender": "male",
        "media_id": str(front.media["チラシ"]),
    }
    answer = web.post(f"/patients/{front.taro.id}", data=form)
    assert answer.status_code == 303
    session.refresh(front.taro)
    assert front.taro.name == "田中 太朗"
    assert front.taro.kana == "タナカ タロ"
    assert front.taro.birth_on == date(1990, 2, 3)
    assert front.taro.gender == Gender.MALE
    assert front.taro.media_id == front.media["チラシ"]
    assert front.taro.name_verified is True  # staff wrote the name: checked
    assert front.taro.updated_at == NOW
    assert audit_rows(session, front.taro)[-1] == (
        AuditAction.UPDATE,
        "dashboard",
        "fields birth_on, gender, kana, media_id, name, name_verified",
    )
    shown = web.get(answer.headers["location"]).text
    identity = shown.split('id="identity-heading"')[1].split("</section>")[0]
    assert "田中 太朗" in identity
    assert "1990年2月3日（36歳）" in identity
    assert "男性" in identity
    assert "チラシ" in identity
    assert "電話で聞き取った" not in shown
    assert "f-name_verified" not in shown


def test_clearing_birthday_and_medium_leaves_them_unknown(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    form |= {"birth_on": "", "media_id": "", "kana": ""}
    assert web.post(f"/patients/{front.hanako.id}", data=form).status_code == 303
    session.refresh(front.hanako)
    assert front.hanako.birth_on is None
    assert front.hanako.media_id is None
    assert front.hanako.kana is None
    assert front.hanako.name == "佐藤 花子"
    assert audit_rows(session, front.hanako)[-1] == (
        AuditAction.UPDATE,
        "dashboard",
        "fields birth_on, kana, media_id",
    )
    page = web.get(f"/patients/{front.hanako.id}").text
    assert "生年月日</dt><dd>未登録" in page
    assert "来院経路</dt><dd>未登録" in page
    again = form_on(page)
    assert (again["birth_on"], again["media_id"]) == ("", "")


def test_a_phone_taken_name_is_verified_by_ticking_and_not_by_other_edits(
    web: TestClient, front: Front, session: Session, clock: list
) -> None:
    unverified(session, front.taro)
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.taro.id}").text)
    assert (
        web.post(f"/patients/{front.taro.id}", data=dict(form, note_job="大工")).status_code == 303
    )
    session.refresh(front.taro)
    assert front.taro.name_verified is False  # the name was neither changed nor confirmed
    assert audit_rows(session, front.taro)[-1][2] == "fields note_job"
    clock[0] = jst(2026, 11, 30, 9)
    form = form_on(web.get(f"/patients/{front.taro.id}").text)
    assert (
        web.post(f"/patients/{front.taro.id}", data=dict(form, name_verified="on")).status_code
        == 303
    )
    session.refresh(front.taro)
    assert front.taro.name_verified is True
    assert front.taro.name == "田中 太郎"
    assert audit_rows(session, front.taro)[-1][2] == "fields name_verified"


def test_a_retired_medium_stays_offered_to_whoever_came_through_it(
    web: TestClient, front: Front, session: Session
) -> None:
    front.taro.media_id = front.media["駅の看板"]
    session.flush()
    sign_in(web)
    page = web.get(f"/patients/{front.taro.id}").text
    retired = (str(front.media["駅の看板"]), "駅の看板（現在は使われていない経路）")
    assert options(page, "media_id")[-1] == retired
    form = form_on(page)
    assert (
        web.post(f"/patients/{front.taro.id}", data=dict(form, note_job="大工")).status_code == 303
    )
    session.refresh(front.taro)
    assert front.taro.media_id == front.media["駅の看板"]
    assert front.taro.note_job == "大工"


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("birth_on", "2026-12-01", karte_identity.BIRTH_FUTURE_ERROR),
        ("birth_on", "1985-02-30", karte_identity.BIRTH_MISSING_ERROR),
        ("birth_on", "昭和60年", karte_identity.BIRTH_FORMAT_ERROR),
        ("birth_on", "1899-12-31", karte_identity.BIRTH_RANGE_ERROR),
        ("birth_on", "2300-01-01", karte_identity.BIRTH_FUTURE_ERROR),
        ("kana", "ア" * 101, "100文字以内で入力してください。"),
        ("name", "あ" * 101, "100文字以内で入力してください。"),
        ("name", "\u3000 ", karte_form.NAME_ERROR),
    ],
)
def test_a_refused_identity_field_is_explained_and_keeps_the_input(
    web: TestClient, front: Front, session: Session, name: str, typed: str, message: str
) -> None:
    unverified(session, front.hanako)
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    form |= {name: typed, "note_job": "看護師", "gender": "female"}
    answer = web.post(f"/patients/{front.hanako.id}", data=form)
    assert answer.status_code == 422
    assert message in at_field(answer.text, name)
    assert 'aria-invalid="true"' in at_field(answer.text, name)
    kept = form_on(answer.text)
    assert kept[name] == typed
    assert (kept["note_job"], kept["gender"]) == ("看護師", "female")
    assert_unchanged(session, front.hanako)


@pytest.mark.parametrize("chosen", ["となりのチラシ", "駅の看板", "abc", "²", "99999999999"])
def test_a_medium_not_offered_is_refused(
    web: TestClient, front: Front, session: Session, chosen: str
) -> None:
    unverified(session, front.hanako)
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    value = str(front.media.get(chosen, chosen))
    form |= {"media_id": value, "name": "佐藤 華子", "note_job": "看護師"}
    answer = web.post(f"/patients/{front.hanako.id}", data=form)
    assert answer.status_code == 422
    assert karte_identity.CHOOSE_ERROR in at_field(answer.text, "media_id")
    kept = form_on(answer.text)
    assert (kept["name"], kept["note_job"]) == ("佐藤 華子", "看護師")
    assert_unchanged(session, front.hanako)


def test_a_gender_not_offered_is_refused(web: TestClient, front: Front, session: Session) -> None:
    unverified(session, front.hanako)
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    answer = web.post(f"/patients/{front.hanako.id}", data=dict(form, gender="robot"))
    assert answer.status_code == 422
    assert karte_identity.CHOOSE_ERROR in at_field(answer.text, "gender")
    assert_unchanged(session, front.hanako)


def assert_unchanged(session: Session, patient: Patient) -> None:
    session.refresh(patient)
    assert (patient.name, patient.kana) == ("佐藤 花子", "サトウ ハナコ")
    assert patient.birth_on == date(1985, 4, 1)
    assert patient.gender == Gender.UNKNOWN
    assert patient.media.name == "ホームページ"
    assert patient.note_job is None
    assert patient.name_verified is False
    assert AuditAction.UPDATE not in [row[0] for row in audit_rows(session, patient)]


def test_every_refusal_is_shown_at_once(web: TestClient, front: Front, session: Session) -> None:
    unverified(session, front.hanako)
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.hanako.id}").text)
    form |= {"name": "", "birth_on": "2027-01-01", "phone": "12345", "gender": "?"}
    answer = web.post(f"/patients/{front.hanako.id}", data=form)
    assert answer.status_code == 422
    assert karte_form.NAME_ERROR in at_field(answer.text, "name")
    assert karte_identity.BIRTH_FUTURE_ERROR in at_field(answer.text, "birth_on")
    assert karte_form.PHONE_ERROR in at_field(answer.text, "phone")
    assert karte_identity.CHOOSE_ERROR in at_field(answer.text, "gender")
    assert_unchanged(session, front.hanako)


def test_a_birthday_typed_with_a_keyboard_and_one_born_today_are_accepted(
    web: TestClient, front: Front, session: Session
) -> None:
    sign_in(web)
    form = form_on(web.get(f"/patients/{front.taro.id}").text)
    assert (
        web.post(
            f"/patients/{front.taro.id}", data=dict(form, birth_on="１９９０/２/３")
        ).status_code
        == 303
    )
    session.refresh(front.taro)
    assert front.taro.birth_on == date(1990, 2, 3)
    form = form_on(web.get(f"/patients/{front.taro.id}").text)
    assert (
        web.post(f"/patients/{front.taro.id}", data=dict(form, birth_on="2026-11-30")).status_code
        == 303
    )
    session.refresh(front.taro)
    assert front.taro.birth_on == date(2026, 11, 30)  # today in the clinic's zone


def test_a_name_changed_while_another_screen_changed_her_birthday_keeps_both(
    web: TestClient, front: Front, session: Session, clock: list
) -> None:
    unverified(session, front.hanako)
    mine = saved_elsewhere_after_i_opened(
        web, front.hanako, clock, birth_on="1985-04-02", gender="female"
    )

    answer = web.post(f"/patients/{front.hanako.id}", data=dict(mine, name="佐藤 華子"))

    assert answer.status_code == 303
    session.refresh(front.hanako)
    assert (front.hanako.name, front.hanako.name_verified) == ("佐藤 華子", True)
    assert front.hanako.birth_on == date(1985, 4, 2)
    assert front.hanako.gender == Gender.FEMALE
