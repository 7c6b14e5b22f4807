"""`uketsuke clinic init|apply|show`: a clinic set up from a TOML file.

The commands run in-process against the test database (SQLite, or PostgreSQL with
UKETSUKE_TEST_DATABASE_URL) with real commits, at a fixed `--now` (NOW: Monday 30 November
2026, 08:00 in Tokyo); the domain tests run in the rolled-back session.
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy import text as raw_sql
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from backend import cli, cli_setup
from backend.booking import availability
from backend.clinic_setup import applying, current, example, reading, stranding, writing
from backend.db import Database
from backend.dialogue import facts
from backend.models import (
    Bed,
    Booking,
    BookingStatus,
    Clinic,
    ClosedDay,
    Course,
    Media,
    OpeningHours,
    Patient,
    Source,
    Staff,
    StaffDayOff,
    StaffShift,
)
from backend.settings import get_settings
from tests.factories import JST, NOW, jst, make_booking, make_patient

runner = CliRunner()
AT = NOW.isoformat()
TABLES = (Clinic, OpeningHours, ClosedDay, Course, Staff, StaffShift, StaffDayOff, Bed, Media)

BASE = """\
[clinic]
name = "テスト整骨院"
phone = "03-1234-5678"

[hours]
mon = ["09:00-12:00", "15:00-20:00"]
tue = ["09:00-12:00", "15:00-20:00"]
sat = ["09:00-14:00"]

[[closed_days]]
date = 2026-12-31
reason = "年末年始"

[[courses]]
name = "保険施術"
staff_minutes = 10
machine_minutes = 10
price_yen = 600
payment = "insurance"
insurance_claim_yen = 1400

[[courses]]
name = "鍼灸"
staff_minutes = 40
price_yen = 5500
payment = "self_pay"
revisit_interval_days = 7

{ems}[[staff]]
name = "山田 太郎"
kana = "やまだ たろう"
role = "owner"

[staff.shifts]
mon = ["09:00-12:00", "15:00-20:00"]
tue = ["09:00-12:00"]

[[staff]]
name = "受付 花子"
role = "reception"

[[beds]]
name = "ベッド1"

[[beds]]
name = "物療エリア"
capacity = 3

[media]
names = ["ホームページ", "チラシ"]
"""
EMS = """\
[[courses]]
name = "EMS"
staff_minutes = 0
machine_minutes = 30
price_yen = 2200
payment = "self_pay"

"""
BASE = BASE.replace("{ems}", EMS)


def edited(text: str, *changes: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced once; the old text must be there."""
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


# The commands, on the test database with real commits.


@pytest.fixture
def database(
    committed: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    monkeypatch.setenv(
        "UKETSUKE_DATABASE_URL", committed.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.chdir(tmp_path)  # files land here, and no developer .env is read
    get_settings.cache_clear()
    yield committed
    get_settings.cache_clear()


def run(*args: str) -> Any:
    return runner.invoke(cli.app, ["clinic", *args])


def apply_text(text: str, *options: str, name: str = "clinic.toml", at: str = AT) -> Any:
    Path(name).write_text(text, encoding="utf-8")
    return run("apply", name, "--now", at, *options)


def show(*options: str, at: str = AT) -> Any:
    return run("show", "--now", at, *options)


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the set-up tables, in id order."""
    with database.engine.connect() as connection:
        return {
            model.__tablename__: [
                tuple(row)
                for row in connection.execute(
                    select(model.__table__).order_by(model.__table__.c.id)
                )
            ]
            for model in TABLES
        }


def rows(database: Database, statement: Any) -> list[Any]:
    with database.reader() as session:
        return list(session.execute(statement).all())


def only_clinic(database: Database) -> Clinic:
    with database.reader() as session:
        return session.scalars(select(Clinic)).one()


def test_init_writes_an_example_that_apply_accepts_and_never_overwrites(database):
    made = run("init")
    assert made.exit_code == 0, made.output
    text = Path("clinic.toml").read_text(encoding="utf-8")
    assert "# uketsuke 院の設定ファイル" in text
    assert 'mon = ["09:00-12:00", "15:00-20:00"]' in text

    again = run("init")
    assert again.exit_code == 1
    assert "clinic.toml exists" in again.output
    assert Path("clinic.toml").read_text(encoding="utf-8") == text

    applied = run("apply", "clinic.toml", "--now", AT)
    assert applied.exit_code == 0, applied.output
    assert "院を登録しました / created clinic: さくら通り整骨院" in applied.output
    counts = {name: len(found) for name, found in snapshot(database).items()}
    assert counts == {
        "clinic": 1,
        "opening_hours": 11,
        "closed_day": text.count("[[closed_days]]"),  # the year-end days still to come
        "course": 5,
        "staff": 3,
        "staff_shift": 18,
        "staff_day_off": 0,
        "bed": 4,
        "media": 5,
    }


def test_init_writes_where_it_is_told(database, tmp_path):
    assert run("init", "setup/clinic.toml").exit_code == 1  # no such folder: nothing written
    assert run("init", "branch.toml").exit_code == 0
    assert (tmp_path / "branch.toml").exists()


def test_apply_creates_the_clinic_with_everything_in_the_file(database):
    result = apply_text(BASE)
    assert result.exit_code == 0, result.output
    assert "メニュー / courses: 追加 3 / created 3" in result.output
    clinic = only_clinic(database)
    assert (clinic.name, clinic.phone, clinic.slot_step_minutes) == (
        "テスト整骨院",
        "+81312345678",
        15,
    )
    assert rows(
        database,
        select(OpeningHours.weekday, OpeningHours.opens_at, OpeningHours.closes_at).order_by(
            OpeningHours.weekday, OpeningHours.opens_at
        ),
    ) == [
        (0, time(9), time(12)),
        (0, time(15), time(20)),
        (1, time(9), time(12)),
        (1, time(15), time(20)),
        (5, time(9), time(14)),
    ]
    assert rows(database, select(ClosedDay.closed_on, ClosedDay.reason)) == [
        (date(2026, 12, 31), "年末年始")
    ]
    assert rows(
        database,
        select(
            Course.name,
            Course.staff_minutes,
            Course.machine_minutes,
            Course.price_yen,
            Course.payment_kind,
            Course.insurance_claim_yen,
            Course.revisit_interval_days,
            Course.sort_order,
        ).order_by(Course.sort_order),
    ) == [
        ("保険施術", 10, 10, 600, "insurance", 1400, None, 0),
        ("鍼灸", 40, 0, 5500, "self_pay", 0, 7, 1),
        ("EMS", 0, 30, 2200, "self_pay", 0, None, 2),
    ]
    assert rows(database, select(Staff.name, Staff.kana, Staff.role).order_by(Staff.id)) == [
        ("山田 太郎", "ヤマダ タロウ", "owner"),
        ("受付 花子", None, "reception"),
    ]
    assert rows(database, select(StaffShift.weekday, StaffShift.starts_at, StaffShift.ends_at)) == [
        (0, time(9), time(12)),
        (0, time(15), time(20)),
        (1, time(9), time(12)),
    ]
    assert rows(database, select(Bed.name, Bed.capacity).order_by(Bed.id)) == [
        ("ベッド1", 1),
        ("物療エリア", 3),
    ]
    assert rows(database, select(Media.name, Media.sort_order).order_by(Media.id)) == [
        ("ホームページ", 0),
        ("チラシ", 1),
    ]


def test_applying_the_same_file_again_changes_nothing(database):
    assert apply_text(BASE).exit_code == 0
    before = snapshot(database)
    again = apply_text(BASE)
    assert again.exit_code == 0, again.output
    assert again.output.startswith("変更はありません / nothing changed: テスト整骨院")
    assert snapshot(database) == before  # the config token included


def test_an_edited_file_updates_by_name_and_keeps_what_the_file_does_not_describe(database):
    assert apply_text(BASE).exit_code == 0
    with database.transaction() as session:
        clinic = session.scalars(select(Clinic)).one()
        clinic.line_staff_group_id = "C-staff-group"
        yamada = session.scalars(select(Staff).where(Staff.name == "山田 太郎")).one()
        yamada.line_user_id = "U-yamada"
        session.add(StaffDayOff(staff_id=yamada.id, off_on=date(2026, 12, 8)))
        acupuncture_id = session.scalars(select(Course.id).where(Course.name == "鍼灸")).one()
    token = only_clinic(database).config_token
    changed = edited(
        BASE,
        ('name = "鍼灸"', 'name = "はり・きゅう"'),
        ('mon = ["09:00-12:00", "15:00-20:00"]', 'mon = ["09:00-13:00"]'),
        ('mon = ["09:00-12:00", "15:00-20:00"]', 'mon = ["10:00-18:00"]'),  # 山田's shift
        (EMS, ""),
        ('[[beds]]\nname = "物療エリア"\ncapacity = 3\n', ""),
        ('names = ["ホームページ", "チラシ"]', 'names = ["チラシ", "看板", "ホームページ"]'),
    )
    result = apply_text(changed)
    assert result.exit_code == 0, result.output
    assert "院の設定を更新しました / updated clinic: テスト整骨院" in result.output
    assert "診療時間 / opening hours: 追加 1・削除 2 / created 1, removed 2" in result.output
    assert "メニュー / courses: 追加 1・使用停止 2 / created 1, deactivated 2" in result.output
    assert "スタッフ / staff: 更新 1 / updated 1" in result.output
    assert "ベッド / beds: 使用停止 1 / deactivated 1" in result.output
    assert "来院経路 / media: 追加 1・更新 2 / created 1, updated 2" in result.output

    assert dict(rows(database, select(Course.name, Course.active))) == {
        "保険施術": True,
        "鍼灸": False,
        "EMS": False,
        "はり・きゅう": True,
    }
    assert rows(
        database,
        select(OpeningHours.opens_at, OpeningHours.closes_at).where(OpeningHours.weekday == 0),
    ) == [(time(9), time(13))]
    with database.reader() as session:
        yamada = session.scalars(select(Staff).where(Staff.name == "山田 太郎")).one()
        assert [(s.weekday, s.starts_at, s.ends_at) for s in yamada.shifts] == [
            (0, time(10), time(18)),
            (1, time(9), time(12)),
        ]
        assert yamada.line_user_id == "U-yamada"
        assert [day.off_on for day in yamada.days_off] == [date(2026, 12, 8)]
        clinic = session.scalars(select(Clinic)).one()
        assert clinic.line_staff_group_id == "C-staff-group"
        assert clinic.config_token != token
    assert rows(database, select(Media.name).where(Media.active).order_by(Media.sort_order)) == [
        ("チラシ",),
        ("看板",),
        ("ホームページ",),
    ]

    back = apply_text(BASE)  # the old name comes back: the same row, active again
    assert back.exit_code == 0, back.output
    assert rows(database, select(Course.id).where(Course.name == "鍼灸", Course.active)) == [
        (acupuncture_id,)
    ]


def test_clinic_keys_left_out_keep_their_value(database):
    with_step = edited(
        BASE, ('phone = "03-1234-5678"', 'phone = "03-1234-5678"\nslot_step_minutes = 10')
    )
    assert apply_text(with_step).exit_code == 0
    result = apply_text(edited(BASE, ('phone = "03-1234-5678"\n', "")))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("変更はありません")
    clinic = only_clinic(database)
    assert (clinic.slot_step_minutes, clinic.phone) == (10, "+81312345678")
    assert apply_text(edited(BASE, ('phone = "03-1234-5678"', 'phone = ""'))).exit_code == 0
    assert only_clinic(database).phone is None


BAD = [
    pytest.param(
        ('sat = ["09:00-14:00"]', 'sat = ["09:00-25:00"]'),
        'hours.sat[0]: "25:00" is not a time of day (00:00 to 23:59)',
        id="bad time",
    ),
    pytest.param(
        ('sat = ["09:00-14:00"]', 'sat = ["14:00-09:00"]'),
        'hours.sat[0]: "14:00-09:00" ends before it starts',
        id="range ending before its start",
    ),
    pytest.param(
        ('tue = ["09:00-12:00", "15:00-20:00"]', 'tue = ["09:00-12:00", "11:00-13:00"]'),
        'hours.tue[1]: "11:00-13:00" overlaps "09:00-12:00"',
        id="overlapping ranges",
    ),
    pytest.param(
        ('tue = ["09:00-12:00"]', 'tue = ["09:00-12:00", "08:00-09:30"]'),
        'staff[0].shifts.tue[1]: "08:00-09:30" overlaps "09:00-12:00"',
        id="overlapping shifts",
    ),
    pytest.param(
        ("price_yen = 5500", "price_yen = -5500"),
        "courses[1].price_yen: must be 0 or more",
        id="negative price",
    ),
    pytest.param(
        ('payment = "self_pay"', 'payment = "cash"'),
        "courses[1].payment: must be one of 'insurance' or 'self_pay'",
        id="unknown payment kind",
    ),
    pytest.param(
        ("sat = ", "saturday = "),
        "hours.saturday: unknown weekday: use mon, tue, wed, thu, fri, sat, sun",
        id="unknown weekday",
    ),
    pytest.param(
        ('name = "EMS"', 'name = "鍼灸"'),
        'courses[2].name: "鍼灸" is also courses[1]',
        id="duplicate course names",
    ),
    pytest.param(
        ('name = "テスト整骨院"\n', ""),
        "clinic.name: missing",
        id="missing clinic name",
    ),
    pytest.param(
        ('name = "受付 花子"\n', ""),
        "staff[1].name: missing",
        id="missing staff name",
    ),
    pytest.param(
        ("[hours]", "[hours"),
        "not TOML: ",
        id="not TOML",
    ),
    pytest.param(
        ('role = "reception"', 'role = "boss"'),
        "staff[1].role: must be one of 'owner', 'practitioner' or 'reception'",
        id="unknown role",
    ),
    pytest.param(
        ("capacity = 3", 'capacity = "3"'),
        "beds[1].capacity: must be a whole number (no quotes)",
        id="number in quotes",
    ),
]


@pytest.mark.parametrize(("change", "problem"), BAD)
def test_a_bad_file_is_refused_with_the_place_of_the_problem(database, change, problem):
    result = apply_text(edited(BASE, change))
    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert f"  {problem}" in result.output
    assert all(not found for found in snapshot(database).values())


def test_every_problem_is_listed_and_an_existing_clinic_is_left_as_it_was(database):
    assert apply_text(BASE).exit_code == 0
    before = snapshot(database)
    result = apply_text(
        edited(
            BASE,
            ('name = "テスト整骨院"\n', ""),
            ("price_yen = 5500", "price_yen = -1"),
            ('sat = ["09:00-14:00"]', 'sat = ["9時-14時"]'),
            ("[media]", "[medias]"),
        )
    )
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "  medias: unknown section (use clinic, hours, closed_days, courses, staff, beds, media)",
        "  clinic.name: missing",
        '  hours.sat[0]: "9時" is not a time as HH:MM',
        "  courses[1].price_yen: must be 0 or more",
    ]
    assert "4 problem(s) in clinic.toml; nothing was changed" in result.output
    assert snapshot(database) == before


def test_a_missing_file_is_named(database):
    result = run("apply", "nowhere.toml", "--now", AT)
    assert result.exit_code == 1
    assert "nowhere.toml" in result.output
    assert "file not found" in result.output


def test_several_clinics_need_a_choice_and_new_adds_one(database):
    assert apply_text(BASE).exit_code == 0
    branch = edited(BASE, ('name = "テスト整骨院"', 'name = "テスト整骨院 駅前院"'))
    created = apply_text(branch, "--new")
    assert created.exit_code == 0, created.output
    assert "院を登録しました / created clinic: テスト整骨院 駅前院" in created.output
    ids = [row.id for row in rows(database, select(Clinic.id).order_by(Clinic.id))]
    assert len(ids) == 2

    unclear = apply_text(BASE)
    assert unclear.exit_code == 1
    assert "there are several clinics" in unclear.output
    assert "--clinic" in unclear.output
    assert show().exit_code == 1
    assert apply_text(BASE, "--new", "--clinic", str(ids[0])).exit_code == 1

    renamed = edited(branch, ("price_yen = 600", "price_yen = 700"))
    chosen = apply_text(renamed, "--clinic", str(ids[1]))
    assert chosen.exit_code == 0, chosen.output
    prices = rows(
        database,
        select(Course.clinic_id, Course.price_yen)
        .where(Course.name == "保険施術")
        .order_by(Course.clinic_id),
    )
    assert prices == [(ids[0], 600), (ids[1], 700)]
    shown = show("--clinic", str(ids[1]))
    assert shown.exit_code == 0, shown.output
    assert 'name = "テスト整骨院 駅前院"' in shown.output
    assert show("--clinic", "999999").exit_code == 1


def test_show_round_trips_through_apply(database):
    tricky = edited(
        BASE,
        ('name = "テスト整骨院"', r'name = "テスト\"整骨院\\本院"'),
        ('name = "EMS"', r'name = "EMS \"楽トレ\" C:\\"'),
    )
    assert apply_text(tricky).exit_code == 0
    assert only_clinic(database).name == 'テスト"整骨院\\本院'
    shown = show()
    assert shown.exit_code == 0, shown.output
    assert r'name = "テスト\"整骨院\\本院"' in shown.output
    assert r'name = "EMS \"楽トレ\" C:\\"' in shown.output
    before = snapshot(database)
    again = apply_text(shown.output, name="shown.toml")
    assert again.exit_code == 0, again.output
    assert "変更はありません / nothing changed" in again.output
    assert snapshot(database) == before
    assert show().output == shown.output


def test_show_without_a_clinic_says_how_to_make_one(database):
    result = show()
    assert result.exit_code == 1
    assert "uketsuke clinic apply" in " ".join(result.output.split())


def book_in(database: Database, course: str, *starts: datetime, staff: str | None = None) -> None:
    """Desk bookings (confirmed) for 佐藤 花子, committed."""
    with database.transaction() as session:
        clinic = session.scalars(select(Clinic)).one()
        patient = make_patient(session, clinic)
        chosen = session.scalars(select(Course).where(Course.name == course, Course.active)).one()
        member = session.scalars(select(Staff).where(Staff.name == staff)).one() if staff else None
        for moment in starts:
            make_booking(
                session,
                patient=patient,
                course=chosen,
                starts_at=moment,
                source=Source.STAFF,
                staff=member,
            )


MONDAY_AFTERNOONS = [
    jst(2026, 12, day, hour, minute)
    for day in (7, 14, 21, 28)
    for hour, minute in ((15, 0), (15, 45), (16, 30), (17, 15), (18, 0), (18, 45))
]


def test_apply_warns_of_the_bookings_it_strands_twenty_at_most(database):
    assert apply_text(BASE).exit_code == 0
    book_in(database, "鍼灸", *MONDAY_AFTERNOONS[:23], staff="山田 太郎")
    with database.engine.connect() as connection:
        bookings = connection.execute(select(Booking.__table__)).all()
    without = edited(BASE, ('name = "鍼灸"', 'name = "はり・きゅう"'))

    result = apply_text(without)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("注意")]
    assert len(warned) == 21
    assert warned[0] == (
        "注意 / warning: 12月7日(月) 15:00 佐藤 花子 — メニュー「鍼灸」は使用停止"
        " / course made inactive"
    )
    assert warned[19].startswith("注意 / warning: 12月28日(月) 15:45 佐藤 花子")
    assert warned[20] == "注意 / warning: ほか 3 件 / 3 more"
    assert "カルテで「日時を変更」か「キャンセル」" in result.output
    assert "23 booking(s) no longer fit the set-up" in result.output
    with database.engine.connect() as connection:
        assert connection.execute(select(Booking.__table__)).all() == bookings  # untouched

    before = snapshot(database)
    again = apply_text(without)
    assert again.exit_code == 0, again.output
    assert again.output.splitlines() == [
        f"変更はありません / nothing changed: テスト整骨院（ID {only_clinic(database).id}）"
    ]
    assert snapshot(database) == before


def test_past_closed_days_are_kept_by_apply_and_left_out_by_show(database):
    early = edited(
        BASE, ("date = 2026-12-31", "date = 2026-12-08\n\n[[closed_days]]\ndate = 2026-12-31")
    )
    assert apply_text(early).exit_code == 0
    next_year = "2027-01-05T09:00+09:00"
    later = edited(BASE, ('date = 2026-12-31\nreason = "年末年始"', "date = 2027-01-12"))

    result = apply_text(later, at=next_year)
    assert result.exit_code == 0, result.output
    assert "休診日 / closed days: 追加 1 / created 1" in result.output  # nothing removed
    assert rows(
        database, select(ClosedDay.closed_on, ClosedDay.reason).order_by(ClosedDay.closed_on)
    ) == [
        (date(2026, 12, 8), None),
        (date(2026, 12, 31), "年末年始"),
        (date(2027, 1, 12), None),
    ]
    shown = show(at=next_year)
    assert shown.exit_code == 0, shown.output
    assert "date = 2027-01-12" in shown.output
    assert "date = 2026-" not in shown.output
    before = snapshot(database)
    again = apply_text(shown.output, name="shown.toml", at=next_year)
    assert again.exit_code == 0, again.output
    assert "変更はありません / nothing changed" in again.output
    assert snapshot(database) == before
    assert show(at=next_year).output == shown.output
    assert "date = 2026-12-31" in show().output  # seen from before it, it is still to come


def test_a_past_closed_day_is_refused_with_its_place(database):
    assert apply_text(BASE).exit_code == 0
    before = snapshot(database)
    result = apply_text(BASE, at="2027-01-05T09:00+09:00")
    assert result.exit_code == 1
    assert "1 problem(s) in clinic.toml; nothing was changed" in result.output
    assert "  closed_days[0].date: 2026-12-31 is in the past" in result.output
    assert snapshot(database) == before


def test_two_applies_at_once_create_one_clinic(database):
    gate = threading.Barrier(2)
    summaries: list[applying.Summary] = []

    def apply_once() -> None:
        gate.wait()
        summaries.append(
            cli_setup.applied(
                database, path=Path("a.toml"), text=BASE, clinic_id=None, new=False, now=NOW
            )
        )

    threads = [threading.Thread(target=apply_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(summary.created for summary in summaries) == [False, True]
    assert len(snapshot(database)["clinic"]) == 1
    assert len(snapshot(database)["course"]) == 3


def test_an_apply_waits_for_one_creating_the_clinic_on_postgresql(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the write transaction begins IMMEDIATE, before the first read")
    summaries: list[applying.Summary] = []
    second = threading.Thread(
        target=lambda: summaries.append(
            cli_setup.applied(
                database, path=Path("b.toml"), text=BASE, clinic_id=None, new=False, now=NOW
            )
        )
    )
    waiting = raw_sql(
        "select count(*) from pg_locks where locktype = 'advisory' and not granted"
        " and database = (select oid from pg_database where datname = current_database())"
    )
    with database.transaction() as session:
        session.execute(select(func.pg_advisory_xact_lock(cli_setup.APPLY_LOCK)))
        applying.apply(session, clinic=None, setup=setup_of(BASE), now=NOW)
        second.start()
        # Until it waits on the lock (or, were there none, has made a clinic of its own).
        with database.engine.connect() as watcher:
            while second.is_alive() and not watcher.execute(waiting).scalar():
                watcher.rollback()
                second.join(0.01)
    second.join()
    assert [summary.created for summary in summaries] == [False]
    assert len(snapshot(database)["clinic"]) == 1


# The domain, in the rolled-back session.


def setup_of(text: str, now: datetime = NOW) -> Any:
    return reading.read(text, now=now)


def test_free_starts_and_conversation_facts_follow_an_apply_at_once(session: Session):
    summary = applying.apply(session, clinic=None, setup=setup_of(BASE), now=NOW)
    course_id = session.scalars(select(Course.id).where(Course.name == "鍼灸")).one()
    monday = date(2026, 12, 7)

    def starts() -> list[time]:
        found = availability.free_starts(
            session,
            clinic_id=summary.clinic_id,
            course_id=course_id,
            first_day=monday,
            last_day=monday,
            now=NOW,
        )
        return [moment.astimezone(JST).time() for moment in found]

    assert starts()[-1] == time(19, 15)  # 40 minutes before 20:00, on the 15-minute step
    assert (
        "月〜火 9:00〜12:00・15:00〜20:00"
        in facts.clinic_facts(session, summary.clinic_id).clinic.hours_text
    )

    shorter = edited(
        BASE,
        ('mon = ["09:00-12:00", "15:00-20:00"]', 'mon = ["09:00-10:00"]'),
    )
    applying.apply(
        session,
        clinic=session.get(Clinic, summary.clinic_id),
        setup=setup_of(shorter),
        now=NOW,
    )
    assert starts() == [time(9), time(9, 15)]
    assert "月 9:00〜10:00" in facts.clinic_facts(session, summary.clinic_id).clinic.hours_text


def test_a_second_apply_writes_nothing_and_keeps_the_token(session: Session):
    first = applying.apply(session, clinic=None, setup=setup_of(BASE), now=NOW)
    assert first.created
    assert first.changed
    clinic = session.get(Clinic, first.clinic_id)
    assert clinic is not None
    token = session.scalar(select(Clinic.config_token).where(Clinic.id == clinic.id))
    second = applying.apply(session, clinic=clinic, setup=setup_of(BASE), now=NOW + timedelta(1))
    assert not second.changed
    assert session.scalar(select(Clinic.config_token).where(Clinic.id == clinic.id)) == token
    assert session.scalar(select(func.count()).select_from(Clinic)) == 1


def test_current_reads_back_what_was_applied(session: Session):
    setup = setup_of(BASE)
    summary = applying.apply(session, clinic=None, setup=setup, now=NOW)
    clinic = session.get(Clinic, summary.clinic_id)
    assert clinic is not None
    back = current.current(session, clinic=clinic, now=NOW)
    assert back.hours == setup.hours
    assert back.courses == setup.courses
    assert back.staff == setup.staff
    assert back.media == setup.media
    assert back.clinic.name == setup.clinic.name
    assert back.clinic.slot_step_minutes == 15  # the default, which the file left out
    assert back.closed_days == setup.closed_days
    assert setup_of(writing.dumps(back)) == back


@pytest.mark.parametrize(
    "text",
    ['say "hi"', "C:\\path\\", "tab\there", "line\nbreak", "bell\x07", "del\x7f", "全角　スペース"],
)
def test_strings_are_written_as_toml_reads_them(text):
    assert tomllib.loads(f"key = {writing.string(text)}") == {"key": text}


def test_the_example_is_dated_in_the_year_it_is_written():
    text = example.example(date(2027, 3, 1))
    assert "date = 2027-12-29" in text
    assert "date = 2028-01-03" in text
    assert setup_of(text).clinic.name == "さくら通り整骨院"


def test_ranges_accept_what_people_type_in_japanese():
    text = edited(
        BASE, ('sat = ["09:00-14:00"]', 'sat = ["９：００〜１４：００", "15:00 - 16:00"]')
    )
    assert setup_of(text).hours.sat == [(time(9), time(14)), (time(15), time(16))]


def test_times_are_checked_in_quiet_hours_too():
    text = edited(BASE, ('phone = "03-1234-5678"', 'quiet_start = "21時"'))
    with pytest.raises(reading.Problems) as problems:
        setup_of(text)
    assert problems.value.lines == ['clinic.quiet_start: "21時" is not a time as HH:MM']


def test_an_insurance_claim_on_a_self_pay_course_is_refused():
    text = edited(BASE, ("revisit_interval_days = 7", "insurance_claim_yen = 100"))
    with pytest.raises(reading.Problems) as problems:
        setup_of(text)
    assert problems.value.lines == [
        "courses[1].insurance_claim_yen: only insurance courses have a claim (this one is self_pay)"
    ]


def test_a_list_where_a_table_list_belongs_is_named():
    with pytest.raises(reading.Problems) as problems:
        setup_of(BASE.replace("[[beds]]", "[beds]", 1).replace("[[beds]]", "[beds2]"))
    assert "beds: must be a list of tables ([[beds]])" in problems.value.lines


STRANDING = edited(
    BASE,
    (
        'role = "reception"',
        'role = "reception"\n\n[[staff]]\nname = "佐藤 次郎"\n\n'
        '[staff.shifts]\nmon = ["09:00-12:00", "15:00-20:00"]\ntue = ["09:00-12:00"]',
    ),
)


def booked(session: Session, clinic_id: int, course: str, starts_at: datetime, staff: str) -> int:
    """A confirmed desk booking for 佐藤 花子 with `staff` nominated; its id."""
    clinic = session.get(Clinic, clinic_id)
    assert clinic is not None
    patient = session.scalars(select(Patient).where(Patient.clinic_id == clinic_id)).first()
    patient = patient or make_patient(session, clinic)
    return make_booking(
        session,
        patient=patient,
        course=session.scalars(select(Course).where(Course.name == course)).one(),
        starts_at=starts_at,
        source=Source.STAFF,
        staff=session.scalars(select(Staff).where(Staff.name == staff)).one(),
    ).id


def reapply(session: Session, clinic_id: int, text: str, now: datetime = NOW) -> Any:
    return applying.apply(
        session, clinic=session.get(Clinic, clinic_id), setup=setup_of(text, now), now=now
    )


def test_an_apply_lists_the_future_bookings_it_strands(session: Session):
    clinic_id = applying.apply(session, clinic=None, setup=setup_of(STRANDING), now=NOW).clinic_id
    course = booked(session, clinic_id, "鍼灸", jst(2026, 12, 7, 9), "佐藤 次郎")
    both = booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 15), "山田 太郎")
    late = booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 15), "佐藤 次郎")
    closed = booked(session, clinic_id, "保険施術", jst(2026, 12, 8, 9), "佐藤 次郎")
    booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 10), "佐藤 次郎")  # still fits
    assigned = booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 11), "山田 太郎")
    session.get_one(Booking, assigned).nominated = False  # placed by the engine, not asked for
    cancelled = booked(session, clinic_id, "保険施術", jst(2026, 12, 8, 10), "佐藤 次郎")
    session.get_one(Booking, cancelled).status = BookingStatus.CANCELLED
    changed = edited(
        STRANDING,
        ('[[courses]]\nname = "鍼灸"', '[[courses]]\nname = "はり・きゅう"'),
        ('mon = ["09:00-12:00", "15:00-20:00"]', 'mon = ["09:00-12:00"]'),
        ('[[staff]]\nname = "山田 太郎"', '[[staff]]\nname = "山田 一郎"'),
        ('date = 2026-12-31\nreason = "年末年始"', 'date = 2026-12-08\nreason = "臨時休診"'),
    )

    summary = reapply(session, clinic_id, changed)
    found = [
        (item.booking_id, item.starts_at, item.patient, item.reasons) for item in summary.stranded
    ]
    assert found == [
        (
            course,
            jst(2026, 12, 7, 9),
            "佐藤 花子",
            (("メニュー「鍼灸」は使用停止", "course made inactive"),),
        ),
        (
            assigned,
            jst(2026, 12, 7, 11),
            "佐藤 花子",
            (("担当の「山田 太郎」は使用停止", "assigned staff made inactive"),),
        ),
        (
            both,
            jst(2026, 12, 7, 15),
            "佐藤 花子",
            (
                ("指名の「山田 太郎」は使用停止", "nominated staff made inactive"),
                ("診療時間外", "outside the new opening hours"),
            ),
        ),
        (
            late,
            jst(2026, 12, 7, 15),
            "佐藤 花子",
            (("診療時間外", "outside the new opening hours"),),
        ),
        (
            closed,
            jst(2026, 12, 8, 9),
            "佐藤 花子",
            (("休診日（臨時休診）", "on a new closed day"),),
        ),
    ]
    assert summary.stranded[0].starts_at.tzinfo == JST
    assert cli_setup.stranded_lines(summary.stranded)[2] == (
        "注意 / warning: 12月7日(月) 15:00 佐藤 花子 — 指名の「山田 太郎」は使用停止、診療時間外"
        " / nominated staff made inactive, outside the new opening hours"
    )
    assert reapply(session, clinic_id, changed).stranded == []  # told once: nothing changed


def test_nothing_is_listed_when_nothing_is_stranded(session: Session):
    clinic_id = applying.apply(session, clinic=None, setup=setup_of(STRANDING), now=NOW).clinic_id
    booked(session, clinic_id, "鍼灸", jst(2026, 12, 7, 9), "佐藤 次郎")
    booked(session, clinic_id, "保険施術", jst(2026, 12, 8, 9), "山田 太郎")
    roomier = edited(
        STRANDING,
        ('mon = ["09:00-12:00", "15:00-20:00"]', 'mon = ["08:00-13:00", "15:00-20:00"]'),
        ("date = 2026-12-31", "date = 2026-12-09"),
        (EMS, ""),
    )
    summary = reapply(session, clinic_id, roomier)
    assert summary.changed
    assert summary.stranded == []
    assert cli_setup.stranded_lines(summary.stranded) == []


def test_a_booking_before_now_is_not_listed(session: Session):
    clinic_id = applying.apply(session, clinic=None, setup=setup_of(STRANDING), now=NOW).clinic_id
    booked(session, clinic_id, "鍼灸", jst(2026, 12, 7, 9), "佐藤 次郎")
    without = edited(
        STRANDING, ('[[courses]]\nname = "鍼灸"', '[[courses]]\nname = "はり・きゅう"')
    )
    assert reapply(session, clinic_id, without, jst(2026, 12, 7, 9, 30)).stranded == []


def test_a_staff_members_shorter_shifts_list_the_bookings_they_no_longer_cover(
    session: Session,
):
    clinic_id = applying.apply(session, clinic=None, setup=setup_of(STRANDING), now=NOW).clinic_id
    evening = booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 15), "佐藤 次郎")
    booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 10), "佐藤 次郎")  # still on shift
    booked(session, clinic_id, "保険施術", jst(2026, 12, 7, 16), "山田 太郎")  # shifts unchanged
    mornings_only = edited(
        STRANDING,
        (
            'name = "佐藤 次郎"\n\n[staff.shifts]\nmon = ["09:00-12:00", "15:00-20:00"]',
            'name = "佐藤 次郎"\n\n[staff.shifts]\nmon = ["09:00-12:00"]',
        ),
    )
    summary = reapply(session, clinic_id, mornings_only)
    assert [(item.booking_id, item.reasons) for item in summary.stranded] == [
        (evening, (("「佐藤 次郎」の勤務時間外", "outside the staff member's new shifts"),))
    ]
    assert reapply(session, clinic_id, mornings_only).stranded == []


def test_closing_on_holidays_lists_the_bookings_on_one(session: Session):
    open_on_holidays = edited(
        STRANDING, ('phone = "03-1234-5678"', 'phone = "03-1234-5678"\nholidays_closed = false')
    )
    clinic_id = applying.apply(
        session, clinic=None, setup=setup_of(open_on_holidays), now=NOW
    ).clinic_id
    coming_of_age = booked(session, clinic_id, "保険施術", jst(2027, 1, 11, 9), "佐藤 次郎")
    booked(session, clinic_id, "保険施術", jst(2027, 1, 18, 9), "佐藤 次郎")
    closing = edited(open_on_holidays, ("holidays_closed = false", "holidays_closed = true"))
    summary = reapply(session, clinic_id, closing)
    assert [(item.booking_id, item.reasons) for item in summary.stranded] == [
        (coming_of_age, (("祝日は休診", "on a holiday, now closed"),))
    ]


def test_stranded_lines_stop_at_twenty_and_count_the_rest():
    item = stranding.Stranded(
        1, jst(2026, 12, 3, 15).astimezone(JST), "佐藤 花子", (("休診日", "on a new closed day"),)
    )
    lines = cli_setup.stranded_lines([item] * 20)
    assert len(lines) == 21
    assert lines[0] == "注意 / warning: 12月3日(木) 15:00 佐藤 花子 — 休診日 / on a new closed day"
    assert "20 booking(s)" in lines[-1]
    lines = cli_setup.stranded_lines([item] * 21)
    assert lines[20] == "注意 / warning: ほか 1 件 / 1 more"
    assert "21 booking(s)" in lines[-1]


def test_a_closed_day_in_the_past_is_refused_in_the_clinic_s_zone():
    new_years_eve = jst(2026, 12, 31, 0, 30)  # in Honolulu still the 30th
    the_30th = edited(BASE, ("date = 2026-12-31", "date = 2026-12-30"))
    with pytest.raises(reading.Problems) as problems:
        reading.read(the_30th, now=new_years_eve)  # a new clinic: Asia/Tokyo
    assert problems.value.lines == [
        "closed_days[0].date: 2026-12-30 is in the past"
        " (past closed days are kept as they are: delete it from the file)"
    ]
    assert reading.read(the_30th, now=new_years_eve, zone="Pacific/Honolulu")  # the clinic's
    in_honolulu = edited(
        the_30th,
        ('phone = "03-1234-5678"', 'phone = "03-1234-5678"\ntimezone = "Pacific/Honolulu"'),
    )
    assert reading.read(in_honolulu, now=new_years_eve, zone="Asia/Tokyo")  # the file's


def test_apply_refuses_a_past_closed_day_it_was_given_unchecked(session: Session):
    setup = setup_of(BASE)
    with pytest.raises(ValueError, match="closed days before 2027-01-05: 2026-12-31"):
        applying.apply(session, clinic=None, setup=setup, now=jst(2027, 1, 5, 9))
