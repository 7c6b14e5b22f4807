"""カルテ identities: who the patients are, how they found the clinic, when they can come."""

from __future__ import annotations

import random
from datetime import date, timedelta

from backend.models import Gender
from backend.seed import names, notes
from backend.seed.drafts import PatientDraft
from backend.seed.media import MEDIA

# Share of the patients who are new during the history; the rest came before it began
# (a clinic with years behind it), some of them still regulars, most long gone.
NEW_SHARE = 0.55
CLINIC_YEARS_BEFORE = 6
# Age bands (from, to) and how common they are at the front desk of a 整骨院.
AGE_BANDS: tuple[tuple[int, int, int], ...] = ((15, 19, 4), (20, 29, 12), (30, 39, 18))
AGE_BANDS += ((40, 49, 20), (50, 59, 17), (60, 69, 14), (70, 79, 11), (80, 85, 4))
REFERRERS = ("ご家族", "職場の同僚", "ご近所の方", "ケアマネジャー", "スポーツクラブの仲間")


def _age(rng: random.Random) -> int:
    low, high, _weight = rng.choices(AGE_BANDS, [band[2] for band in AGE_BANDS])[0]
    return rng.randint(low, high)


def _birth_on(rng: random.Random, age: int, today: date) -> date:
    return today - timedelta(days=age * 365 + rng.randint(0, 364) + age // 4)


def _gender(rng: random.Random) -> Gender:
    return rng.choices((Gender.FEMALE, Gender.MALE, Gender.UNKNOWN), (62, 37.5, 0.5))[0]


def _habit(rng: random.Random, age: int, job: str) -> str:
    """When the patient can come: mornings, evenings after work, school hours, or anytime."""
    if age < 23:
        return "student"
    if age >= 66:
        return rng.choices(("morning", "flexible"), (7, 3))[0]
    if job in notes.DESK_JOBS:
        return rng.choices(("evening", "flexible"), (8, 2))[0]
    return rng.choices(("evening", "flexible", "morning"), (45, 35, 20))[0]


def _weekdays(rng: random.Random, habit: str) -> tuple[int, ...]:
    """The days of the week the patient likes to come; workers often pick Saturday."""
    days = rng.sample(range(5), rng.choice((1, 2, 2, 3)))
    if habit in ("evening", "student") and rng.random() < 0.45:
        days = [*days[:1], 5]
    elif rng.random() < 0.2:
        days.append(5)
    return tuple(sorted(days))


def _contact(rng: random.Random, age: int, draft: PatientDraft) -> None:
    """Phone, e-mail and LINE: older patients more often have a landline and no LINE."""
    senior = age >= 70
    landline = rng.random() < (0.25 if senior else 0.03)
    draft.phone = names.landline(rng) if landline else names.mobile_phone(rng)
    if rng.random() < 0.01:
        draft.phone = None
    if rng.random() > (0.25 if senior else 0.5 if age >= 60 else 0.78):
        draft.email = None
    if rng.random() < (0.25 if senior else 0.5 if age >= 60 else 0.72):
        draft.line_user_id = f"U{rng.getrandbits(128):032x}"
    mobile = draft.phone is not None and not landline
    draft.consents = {
        "line": draft.line_user_id is not None and rng.random() < 0.8,
        "sms": mobile and rng.random() < 0.3,
        "email": draft.email is not None and rng.random() < 0.55,
        "post": rng.random() < 0.45,
    }


def make_patient(
    rng: random.Random, index: int, *, media_name: str, today: date, detail: float
) -> PatientDraft:
    """One patient with a name that fits their generation, contact details and notes."""
    gender = _gender(rng)
    age = _age(rng)
    birth_on = _birth_on(rng, age, today)
    female = gender == Gender.FEMALE or (gender == Gender.UNKNOWN and rng.random() < 0.5)
    surname = names.pick(rng, names.SURNAMES)
    given = names.pick(rng, names.given_names(female, birth_on.year))
    job = notes.job_for(rng, age)
    family = notes.family_for(rng, age, female)
    hobbies = notes.hobbies_for(rng)
    habit = _habit(rng, age, job)
    postal_code, street = names.address(rng)
    draft = PatientDraft(
        index=index,
        name=f"{surname.kanji} {given.kanji}",
        kana=f"{surname.kana} {given.kana}",
        gender=gender,
        birth_on=birth_on,
        phone=None,
        email=names.email(rng, surname, given, birth_on.year),
        postal_code=postal_code,
        address=street,
        media=media_name,
        job=job,
        family=family,
        hobbies=hobbies,
        notes=notes.notes_for(rng, job=job, family=family, hobbies=hobbies, detail=detail),
        habit=habit,
        weekdays=_weekdays(rng, habit),
        line_user_id=None,
    )
    _contact(rng, age, draft)
    return draft


def age_on(draft: PatientDraft, day: date) -> int:
    """The patient's age on a day."""
    born = draft.birth_on
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def earlier_patients(
    rng: random.Random, count: int, *, first_day: date, today: date, weights: dict[str, float]
) -> list[PatientDraft]:
    """Patients who first came before the history starts, oldest first."""
    span = CLINIC_YEARS_BEFORE * 365
    drafts = []
    for _ in range(count):
        media_name = rng.choices(list(weights), list(weights.values()))[0]
        draft = make_patient(rng, 0, media_name=media_name, today=today, detail=0.8)
        teenager = draft.birth_on + timedelta(days=13 * 365)
        draft.known_since = max(first_day - timedelta(days=rng.randint(1, span)), teenager)
        drafts.append(draft)
    return sorted(drafts, key=lambda draft: draft.known_since or first_day)


def new_patients(
    rng: random.Random,
    count: int,
    *,
    first_day: date,
    last_day: date,
    weights: dict[date, dict[str, float]],
) -> list[PatientDraft]:
    """Patients who find the clinic during the history, by month weight and media mix."""
    months = list(weights)
    covered = {month: _days_in(month, first_day, last_day) for month in months}
    month_weights = [sum(weights[month].values()) * len(covered[month]) for month in months]
    drafts = []
    for _ in range(count):
        month = rng.choices(months, month_weights)[0]
        mix = weights[month]
        media_name = rng.choices(list(mix), list(mix.values()))[0]
        draft = make_patient(rng, 0, media_name=media_name, today=last_day, detail=0.6)
        draft.arrival = rng.choice(covered[month])
        drafts.append(draft)
    return sorted(drafts, key=lambda draft: draft.arrival or first_day)


def _days_in(month: date, first_day: date, last_day: date) -> list[date]:
    days = []
    day = month
    while day.month == month.month:
        if first_day <= day <= last_day:
            days.append(day)
        day += timedelta(days=1)
    return days


def make_patients(
    rng: random.Random,
    total: int,
    *,
    first_day: date,
    today: date,
    weights: dict[date, dict[str, float]],
) -> list[PatientDraft]:
    """Every patient, numbered in the order they first came, with 紹介 linked to a referrer."""
    new_count = round(total * NEW_SHARE)
    base = weights[next(iter(weights))]
    drafts = earlier_patients(
        rng, total - new_count, first_day=first_day, today=today, weights=base
    )
    arrivals = new_patients(rng, new_count, first_day=first_day, last_day=today, weights=weights)
    _cover_every_media(rng, arrivals, weights)
    drafts += arrivals
    for index, draft in enumerate(drafts):
        draft.index = index
        if draft.media == "紹介":
            _refer(rng, draft, drafts[:index])
    _block_some(rng, drafts)
    return drafts


def _refer(rng: random.Random, draft: PatientDraft, earlier: list[PatientDraft]) -> None:
    """Name who referred a 紹介 patient: usually an earlier patient, else who they were."""
    if earlier and rng.random() < 0.65:
        referrer = rng.choice(earlier)
        draft.referrer = f"{referrer.name} 様"
        draft.referrer_index = referrer.index
    else:
        draft.referrer = rng.choice(REFERRERS)


def _block_some(rng: random.Random, drafts: list[PatientDraft]) -> None:
    """A couple of LINE friends have blocked the account (unfollow): unreachable on LINE."""
    on_line = [draft for draft in drafts if draft.line_user_id is not None]
    if not on_line:
        return
    for draft in rng.sample(on_line, min(len(on_line), max(2, len(on_line) // 80))):
        draft.line_reachable = False
        draft.consents["line"] = False


def _cover_every_media(
    rng: random.Random, drafts: list[PatientDraft], weights: dict[date, dict[str, float]]
) -> None:
    """Give each media at least one new patient, so even a small demo shows every source."""
    for spec in MEDIA:
        if any(draft.media == spec.name for draft in drafts):
            continue
        running = [
            draft
            for draft in drafts
            if draft.arrival is not None
            and weights[draft.arrival.replace(day=1)].get(spec.name, 0) > 0
            and sum(other.media == draft.media for other in drafts) > 1
        ]
        if running:
            rng.choice(running).media = spec.name
