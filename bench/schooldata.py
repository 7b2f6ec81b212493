"""The rows of a primary school's markbook, made deterministically in Python for COPY.

What the England primary starter pack gives a school (English, mathematics and science; the
depth scale B/D/S/G secure from S; the teacher-assessment scale; the starter measures; the
national curriculum frameworks, judged on the depth scale), its roll (pupils with the
characteristics an MIS sends, enrolments, form classes and maths sets, a custom group), and
rounds of judgements of every pupil against every objective of their working year in the
three subjects: the history (``objective_judgement``), the current cells
(``judgement_state``), and the figures per pupil x subject x assessment point
(``judgement_summary``) exactly as the app's recount leaves them: at each point, the cells
standing as at its date among the objectives of the pupil's working year, counted, their
values summed, and those secure. Optionally, a few percent of pupils work within an earlier
year's curriculum (``working_year``), and the teacher assessments and standardised scores
are recorded at each point (``measure_value`` with its history).

bench/cases/markbook.py builds its own school from these; bench/generate.py gives every school
of a generated trust one (``load_trust``), and ``check_summaries`` compares a sample of the
figures with what the app's own recount writes.

Ids are ``asyncpg.pgproto.UUID`` (a ``uuid.UUID``, made from random bytes in C): a trust holds
about 12 million judgements, and ``uuid.UUID(int=...)`` alone would take half a minute.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import asyncpg
from asyncpg.pgproto import pgproto

from app.domain.curriculum import CurriculumYears
from app.importers.objectives import parse_objectives_csv
from app.services.starter import (
    ATTAINMENT_SCALE,
    DEPTH_SCALE,
    MEASURES,
    NC_SOURCE,
    NC_SUBJECT_CODES,
    SUBJECTS,
)
from app.starter import NATIONAL_CURRICULUM_ATTRIBUTION, national_curriculum_files

YEAR_GROUPS = (1, 2, 3, 4, 5, 6)
SET_SHARES = (30, 25, 15)  # maths sets per year group, as parts of 70; two form classes
FORMS = ("A", "B")
GRID_YEAR = 4  # teacher01 teaches this year's form class A and top maths set
DEPTH_CODES = tuple(d["code"] for d in DEPTH_SCALE["descriptors"])
SUBJECT_CODES = tuple(code for _, code, _ in SUBJECTS)
# Measures recorded at every point when values are asked for: the starter pack's teacher
# assessments (descriptor codes BLW/WTS/EXS/GDS, banded below/at/above) and standardised
# scores (70-141); science has neither in the pack.
VALUE_MEASURES = ("READ-TA", "WRIT-TA", "MATH-TA", "STD-READ", "STD-MATH")
OUT_OF_YEAR_SUBJECTS = ("EN", "MA")
CUSTOM_GROUP = "Nurture group"
ETHNICITIES = (
    ("WBRI", 60), ("WOTH", 5), ("WIRT", 1), ("MWBC", 3), ("MOTH", 3), ("AIND", 4),
    ("APKN", 5), ("ABAN", 2), ("AOTH", 2), ("BAFR", 5), ("BCRB", 2), ("CHNE", 1),
    ("OOTH", 2), ("REFU", 2), ("NOBT", 3),
)  # fmt: skip
_FIRST = "Amira Ben Chloe Dev Ella Finn Grace Harry Isla Jack Kofi Leah Mo Nia Oscar".split()
_LAST = "Ahmed Baker Clarke Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis".split()

# Column order of each table's COPY, in an order that respects foreign keys.
COLUMNS: dict[str, tuple[str, ...]] = {
    "subject": ("id", "school_id", "name", "code", "position", "created_at", "updated_at"),
    "scale": (
        "id",
        "school_id",
        "name",
        "kind",
        "description",
        "secure_from",
        "created_at",
        "updated_at",
    ),
    "descriptor": (
        "id",
        "scale_id",
        "code",
        "label",
        "value",
        "band",
        "colour",
        "position",
        "archived",
    ),
    "framework": (
        "id",
        "school_id",
        "name",
        "source",
        "description",
        "subject_id",
        "scale_id",
        "created_at",
        "updated_at",
    ),
    "objective": (
        "id",
        "framework_id",
        "code",
        "statement",
        "curriculum_years",
        "strand",
        "sub_strand",
        "is_key",
        "year_from",
        "year_to",
        "position",
        "archived",
        "created_at",
        "updated_at",
    ),
    "measure": (
        "id",
        "school_id",
        "name",
        "code",
        "kind",
        "subject_id",
        "scale_id",
        "minimum",
        "maximum",
        "decimals",
        "expected_from",
        "above_from",
        "records_working_year",
        "position",
        "archived",
        "created_at",
        "updated_at",
    ),
    "teaching_group": (
        "id",
        "school_id",
        "academic_year",
        "code",
        "name",
        "subject",
        "created_at",
        "updated_at",
    ),
    "class_teacher": ("class_id", "user_id", "school_id"),
    "pupil": (
        "id",
        "school_id",
        "external_id",
        "legal_forename",
        "legal_surname",
        "date_of_birth",
        "sex",
        "pupil_premium",
        "fsm",
        "sen_status",
        "eal",
        "looked_after",
        "ethnicity",
        "upn_temporary",
        "created_at",
        "updated_at",
    ),
    "enrolment": (
        "id",
        "pupil_id",
        "school_id",
        "academic_year",
        "year_group",
        "joined_on",
        "created_at",
        "updated_at",
    ),
    "class_pupil": ("class_id", "pupil_id", "school_id"),
    "pupil_group": ("id", "school_id", "name", "description", "created_at", "updated_at"),
    "pupil_group_member": ("group_id", "pupil_id", "school_id"),
    "working_year": (
        "pupil_id",
        "subject_id",
        "academic_year",
        "school_id",
        "curriculum_year",
        "set_at",
        "set_by",
        "version",
    ),
    "working_year_history": (
        "id",
        "school_id",
        "pupil_id",
        "subject_id",
        "academic_year",
        "curriculum_year",
        "set_at",
        "set_by",
    ),
    "objective_judgement": (
        "id",
        "school_id",
        "pupil_id",
        "objective_id",
        "subject_id",
        "descriptor_id",
        "assessed_on",
        "note",
        "recorded_at",
        "recorded_by",
        "version",
    ),
    "judgement_state": (
        "pupil_id",
        "objective_id",
        "school_id",
        "subject_id",
        "judgement_id",
        "descriptor_id",
        "assessed_on",
        "note",
        "recorded_at",
        "recorded_by",
        "version",
    ),
    "judgement_summary": (
        "pupil_id",
        "subject_id",
        "assessment_point_id",
        "school_id",
        "curriculum_year",
        "judged",
        "value_sum",
        "secure",
    ),
    "measure_value": (
        "pupil_id",
        "measure_id",
        "assessment_point_id",
        "school_id",
        "number",
        "descriptor_id",
        "value_on",
        "curriculum_year",
        "recorded_at",
        "recorded_by",
    ),
    "measure_value_history": (
        "id",
        "school_id",
        "pupil_id",
        "measure_id",
        "assessment_point_id",
        "number",
        "descriptor_id",
        "value_on",
        "curriculum_year",
        "recorded_at",
        "recorded_by",
    ),
    "markbook_clock": ("school_id", "version"),
}
# The tables a trust's markbooks fill by the million: loaded without their indexes, which
# are built afterwards (a sort each, instead of millions of random B-tree inserts).
BULK_TABLES = (
    "objective_judgement",
    "judgement_state",
    "judgement_summary",
    "measure_value",
    "measure_value_history",
)


def empty_rows() -> dict[str, list[tuple[Any, ...]]]:
    return {table: [] for table in COLUMNS}


class Ids:
    """Deterministic version-4 ids from a seeded generator."""

    _CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
    _SET = (0x4000 << 64) | (0x8000 << 48)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> uuid.UUID:
        bits = self.rng.getrandbits(128) & self._CLEAR | self._SET
        made: uuid.UUID = pgproto.UUID(bits.to_bytes(16, "big"))
        return made


# --- Definitions: the starter pack's, the school's own ----------------------------------------
@cache
def frameworks() -> tuple[tuple[str, str, tuple[dict[str, Any], ...]], ...]:
    """(subject code, framework name, objectives) of the national curriculum, as the starter
    pack reads them."""
    found = []
    for stem, path in national_curriculum_files().items():
        parsed = parse_objectives_csv(path.read_bytes(), filename=path.name)
        name = f"National Curriculum: {parsed.subject or stem.title()}"
        found.append((NC_SUBJECT_CODES[stem], name, tuple(parsed.objectives)))
    return tuple(found)


@dataclass
class Definitions:
    subjects: dict[str, uuid.UUID]  # code -> id
    depth_ids: list[uuid.UUID]  # B, D, S, G
    depth_values: list[Decimal]
    secure_value: Decimal
    of_year: dict[tuple[str, int], list[uuid.UUID]]  # (subject, curriculum year) -> objectives
    measures: dict[str, uuid.UUID]  # code -> id
    attainment: dict[str, uuid.UUID]  # teacher-assessment descriptor code -> id


def definitions(
    rows: dict[str, list[tuple[Any, ...]]], new_id: Ids, school_id: uuid.UUID, now: datetime
) -> Definitions:
    """The starter pack's subjects, scales, frameworks and measures, as the school's own."""
    subjects: dict[str, uuid.UUID] = {}
    for name, code, position in SUBJECTS:
        subjects[code] = new_id()
        rows["subject"].append((subjects[code], school_id, name, code, position, now, now))
    scales: dict[str, uuid.UUID] = {}
    descriptor_ids: dict[tuple[str, str], uuid.UUID] = {}
    for spec in (DEPTH_SCALE, ATTAINMENT_SCALE):
        scale_id = scales[spec["name"]] = new_id()
        rows["scale"].append(
            (
                scale_id,
                school_id,
                spec["name"],
                spec["kind"],
                spec["description"],
                spec.get("secure_from"),
                now,
                now,
            )
        )
        for position, d in enumerate(spec["descriptors"], start=1):
            descriptor_id = descriptor_ids[spec["name"], d["code"]] = new_id()
            rows["descriptor"].append(
                (
                    descriptor_id,
                    scale_id,
                    d["code"],
                    d["label"],
                    Decimal(d["value"]),
                    d.get("band"),
                    d.get("colour"),
                    position,
                    False,
                )
            )
    depth = scales[DEPTH_SCALE["name"]]
    values = {d["code"]: Decimal(d["value"]) for d in DEPTH_SCALE["descriptors"]}

    of_year: dict[tuple[str, int], list[uuid.UUID]] = {}
    for code, name, objectives in frameworks():
        framework_id = new_id()
        rows["framework"].append(
            (
                framework_id,
                school_id,
                name,
                NC_SOURCE,
                NATIONAL_CURRICULUM_ATTRIBUTION,
                subjects[code],
                depth,
                now,
                now,
            )
        )
        for o in objectives:
            years = CurriculumYears.parse(o["curriculum_years"])
            objective_id = new_id()
            rows["objective"].append(
                (
                    objective_id,
                    framework_id,
                    o["code"],
                    o["statement"],
                    o["curriculum_years"],
                    o["strand"],
                    o["sub_strand"],
                    o["is_key"],
                    years.first,
                    years.last,
                    o["position"],
                    False,
                    now,
                    now,
                )
            )
            for y in range(0, YEAR_GROUPS[-1] + 1):
                if years.first <= y <= years.last:
                    of_year.setdefault((code, y), []).append(objective_id)

    measures: dict[str, uuid.UUID] = {}
    for position, spec in enumerate(MEASURES, start=1):
        scale_id = scales[ATTAINMENT_SCALE["name"]] if spec["kind"] == "scale" else None
        measures[spec["code"]] = new_id()
        rows["measure"].append(
            (
                measures[spec["code"]],
                school_id,
                spec["name"],
                spec["code"],
                spec["kind"],
                subjects[spec["subject"]],
                scale_id,
                spec.get("minimum"),
                spec.get("maximum"),
                spec.get("decimals"),
                spec.get("expected_from"),
                spec.get("above_from"),
                spec.get("records_working_year", False),
                position,
                False,
                now,
                now,
            )
        )
    return Definitions(
        subjects=subjects,
        depth_ids=[descriptor_ids[DEPTH_SCALE["name"], code] for code in DEPTH_CODES],
        depth_values=[values[code] for code in DEPTH_CODES],
        secure_value=values[DEPTH_SCALE["secure_from"]],
        of_year=of_year,
        measures=measures,
        attainment={
            d["code"]: descriptor_ids[ATTAINMENT_SCALE["name"], d["code"]]
            for d in ATTAINMENT_SCALE["descriptors"]
        },
    )


# --- The roll ----------------------------------------------------------------------------------
@dataclass(slots=True)
class RollPupil:
    id: uuid.UUID
    year_group: int
    form: str  # the form class's code: its teacher judges the pupil
    ability: float  # a standard normal draw, lower with SEN and pupil premium
    working: dict[str, int] = field(default_factory=dict)  # subject -> working year, if set


def class_codes(year_group: int) -> list[str]:
    return [
        *(f"{year_group}{f}" for f in FORMS),
        *(f"{year_group}/Ma{n}" for n in range(1, len(SET_SHARES) + 1)),
    ]


def teacher_of(year_group: int, code: str) -> int:
    """Which of a school's 14 teachers teaches a class: two per year group, starting at Year 4
    (so teacher01 has 4A and 4/Ma1), and teachers 13 and 14 the bottom sets."""
    pair = 1 + ((year_group - GRID_YEAR) % len(YEAR_GROUPS)) * 2
    if code.endswith("A") or code.endswith("Ma1"):
        return pair
    if code.endswith("B") or code.endswith("Ma2"):
        return pair + 1
    return 13 + year_group % 2


def _set_sizes(pupils: int) -> list[int]:
    """The maths sets' sizes for a year group, in the proportions of SET_SHARES."""
    total = sum(SET_SHARES)
    sizes = [pupils * share // total for share in SET_SHARES]
    sizes[-1] += pupils - sum(sizes)
    return sizes


def roll(
    rows: dict[str, list[tuple[Any, ...]]],
    new_id: Ids,
    rng: random.Random,
    *,
    school_id: uuid.UUID,
    academic_year: int,
    year_sizes: Mapping[int, int],
    teachers: Mapping[int, uuid.UUID],
    key: str,
    now: datetime,
    out_of_year: bool = False,
) -> list[RollPupil]:
    """The school's classes (per year group two form classes and three maths sets, each
    taught by one of its teachers), its pupils with their characteristics (pupil premium
    about 25%, FSM, SEN K about 12% and E about 2.5%, EAL, sex, ethnicity, looked after, a
    custom group of about 8%), their enrolment this year and their two classes. With
    ``out_of_year``, pupils of Years 2-6 with an EHC plan, and some on SEN support, work within
    the year below's curriculum in English and mathematics (about 3.5% of the roll)."""
    classes: dict[str, uuid.UUID] = {}
    for y in year_sizes:
        for code in class_codes(y):
            classes[code] = new_id()
            maths = "/Ma" in code
            name = f"Year {y} maths set {code[-1]}" if maths else f"Year {y} class {code[-1]}"
            rows["teaching_group"].append(
                (
                    classes[code],
                    school_id,
                    academic_year,
                    code,
                    name,
                    "Mathematics" if maths else None,
                    now,
                    now,
                )
            )
            rows["class_teacher"].append((classes[code], teachers[teacher_of(y, code)], school_id))
    group_id = new_id()
    rows["pupil_group"].append((group_id, school_id, CUSTOM_GROUP, None, now, now))
    codes, weights = zip(*ETHNICITIES, strict=True)
    pupils: list[RollPupil] = []
    n = 0
    for y, size in year_sizes.items():
        sets = [s for s, count in enumerate(_set_sizes(size), start=1) for _ in range(count)]
        rng.shuffle(sets)
        for i in range(size):
            pupil_id = new_id()
            pp = rng.random() < 0.25
            fsm = rng.random() < (0.75 if pp else 0.02)
            draw = rng.random()
            sen = "E" if draw < 0.025 else "K" if draw < 0.145 else "N"
            ability = rng.gauss(0, 1) - 0.35 * pp - {"N": 0.0, "K": 0.8, "E": 1.5}[sen]
            pupil = RollPupil(pupil_id, y, f"{y}{FORMS[i * len(FORMS) // size]}", ability)
            if out_of_year and y >= 2 and (sen == "E" or (sen == "K" and rng.random() < 0.15)):
                pupil.working = {code: y - 1 for code in OUT_OF_YEAR_SUBJECTS}
            pupils.append(pupil)
            born = date(academic_year - 5 - y, 9, 1) + timedelta(days=rng.randrange(365))
            rows["pupil"].append(
                (
                    pupil_id,
                    school_id,
                    f"{key}{y}-{i:03d}",
                    _FIRST[n % len(_FIRST)],
                    _LAST[(n // len(_FIRST)) % len(_LAST)],
                    born,
                    rng.choice("FM"),
                    pp,
                    fsm,
                    sen,
                    rng.random() < 0.2,
                    rng.random() < 0.01,
                    rng.choices(codes, weights)[0],
                    False,
                    now,
                    now,
                )
            )
            rows["enrolment"].append(
                (
                    new_id(),
                    pupil_id,
                    school_id,
                    academic_year,
                    str(y),
                    date(academic_year - y + 1, 9, 1),
                    now,
                    now,
                )
            )
            for code in (pupil.form, f"{y}/Ma{sets[i]}"):
                rows["class_pupil"].append((classes[code], pupil_id, school_id))
            if rng.random() < 0.08:
                rows["pupil_group_member"].append((group_id, pupil_id, school_id))
            n += 1
    return pupils


def working_years(
    rows: dict[str, list[tuple[Any, ...]]],
    new_id: Ids,
    *,
    school_id: uuid.UUID,
    academic_year: int,
    pupils: Iterable[RollPupil],
    defs: Definitions,
    teachers: Mapping[int, uuid.UUID],
    set_at: datetime,
    version: int,
) -> None:
    """The working years set for the pupils who have one, with their history row."""
    for pupil in pupils:
        by = teachers[teacher_of(pupil.year_group, pupil.form)]
        for code, year in pupil.working.items():
            subject_id = defs.subjects[code]
            rows["working_year"].append(
                (pupil.id, subject_id, academic_year, school_id, year, set_at, by, version)
            )
            rows["working_year_history"].append(
                (new_id(), school_id, pupil.id, subject_id, academic_year, year, set_at, by)
            )


# --- Judgements, cells and figures ---------------------------------------------------------------
def batch_version(round_no: int, subject_no: int, year_group: int, offset: int = 0) -> int:
    """The clock value of one round of one subject's judgements in one year group."""
    return offset + 1 + (round_no * len(SUBJECTS) + subject_no) * len(YEAR_GROUPS) + year_group - 1


def last_version(rounds: int, offset: int = 0) -> int:
    return batch_version(rounds - 1, len(SUBJECTS) - 1, YEAR_GROUPS[-1], offset)


@cache
def _cum_weights(round_no: int, level: int) -> tuple[float, ...]:
    """Cumulative weights of B, D, S, G for a pupil of ability ``level`` (0-4) in a round:
    more secure round by round, and the abler the more."""
    secure = min(max(0.12 + 0.22 * round_no + 0.14 * (level - 2), 0.02), 0.95)
    greater = secure * min(max(0.05 + 0.08 * level + 0.05 * round_no, 0.0), 0.6)
    beginning = (1 - secure) * min(max(0.55 - 0.15 * round_no - 0.08 * (level - 2), 0.1), 0.9)
    weights = (beginning, 1 - secure - beginning, secure - greater, greater)
    total, cum = 0.0, []
    for w in weights:
        total += w
        cum.append(total)
    return tuple(cum)


def _level(ability: float) -> int:
    return min(max(round(ability + 2), 0), 4)


@dataclass(frozen=True, slots=True)
class Figures:
    day: date
    judged: int
    value_sum: Decimal
    secure: int


Day = Callable[[int, int, int], date]  # (round, subject no, year group) -> date assessed


def judgements(
    rows: dict[str, list[tuple[Any, ...]]],
    new_id: Ids,
    rng: random.Random,
    *,
    school_id: uuid.UUID,
    pupils: Sequence[RollPupil],
    defs: Definitions,
    teachers: Mapping[int, uuid.UUID],
    rounds: int,
    day: Day,
    points: Sequence[tuple[uuid.UUID, date]],
    version_offset: int = 0,
    not_after: datetime | None = None,
) -> dict[tuple[uuid.UUID, str, uuid.UUID], Figures]:
    """Every pupil judged ``rounds`` times against every objective of their working year in
    each subject: the history, the cells (the last round) and the figures at each point (the
    latest round dated on or before it; none before the first). Returns the figures by
    (pupil, subject code, point id)."""
    by_year: dict[int, list[RollPupil]] = {}
    for pupil in pupils:
        by_year.setdefault(pupil.year_group, []).append(pupil)
    history = rows["objective_judgement"].append
    state = rows["judgement_state"].append
    depth_ids, depth_values, secure_value = defs.depth_ids, defs.depth_values, defs.secure_value
    secure_at = [v >= secure_value for v in depth_values]
    made: dict[tuple[uuid.UUID, str], list[Figures]] = {}
    for round_no in range(rounds):
        last = round_no == rounds - 1
        for subject_no, code in enumerate(SUBJECT_CODES):
            subject_id = defs.subjects[code]
            for y, group in by_year.items():
                version = batch_version(round_no, subject_no, y, version_offset)
                on = day(round_no, subject_no, y)
                recorded = datetime.combine(on, time(15, 30), UTC) + timedelta(seconds=version)
                if not_after is not None:
                    recorded = min(recorded, not_after + timedelta(seconds=version))
                for pupil in group:
                    objectives = defs.of_year[code, pupil.working.get(code, y)]
                    by = teachers[teacher_of(y, pupil.form)]
                    cum = _cum_weights(round_no, _level(pupil.ability))
                    draws = rng.choices(range(4), cum_weights=cum, k=len(objectives))
                    for objective_id, d in zip(objectives, draws, strict=True):
                        judgement_id = new_id()
                        descriptor_id = depth_ids[d]
                        history(
                            (
                                judgement_id,
                                school_id,
                                pupil.id,
                                objective_id,
                                subject_id,
                                descriptor_id,
                                on,
                                None,
                                recorded,
                                by,
                                version,
                            )
                        )
                        if last:
                            state(
                                (
                                    pupil.id,
                                    objective_id,
                                    school_id,
                                    subject_id,
                                    judgement_id,
                                    descriptor_id,
                                    on,
                                    None,
                                    recorded,
                                    by,
                                    version,
                                )
                            )
                    counts = Counter(draws)
                    made.setdefault((pupil.id, code), []).append(
                        Figures(
                            on,
                            len(draws),
                            sum((depth_values[d] * n for d, n in counts.items()), Decimal(0)),
                            sum(n for d, n in counts.items() if secure_at[d]),
                        )
                    )
    found: dict[tuple[uuid.UUID, str, uuid.UUID], Figures] = {}
    for pupil in pupils:
        for code in SUBJECT_CODES:
            subject_id = defs.subjects[code]
            working = pupil.working.get(code, pupil.year_group)
            for point_id, point_on in points:
                standing = [f for f in made[pupil.id, code] if f.day <= point_on]
                if not standing:
                    continue
                figures = max(standing, key=lambda f: f.day)
                found[pupil.id, code, point_id] = figures
                rows["judgement_summary"].append(
                    (
                        pupil.id,
                        subject_id,
                        point_id,
                        school_id,
                        working,
                        figures.judged,
                        figures.value_sum,
                        figures.secure,
                    )
                )
    return found


# --- Measure values --------------------------------------------------------------------------
def _teacher_assessment(figures: Figures | None) -> str:
    """A teacher's assessment in line with the share of the working year's objectives secure."""
    share = 0.0 if figures is None or not figures.judged else figures.secure / figures.judged
    return "GDS" if share >= 0.8 else "EXS" if share >= 0.45 else "WTS" if share >= 0.2 else "BLW"


def measure_values(
    rows: dict[str, list[tuple[Any, ...]]],
    new_id: Ids,
    rng: random.Random,
    *,
    school_id: uuid.UUID,
    pupils: Sequence[RollPupil],
    defs: Definitions,
    teachers: Mapping[int, uuid.UUID],
    points: Sequence[tuple[uuid.UUID, date]],
    figures: Mapping[tuple[uuid.UUID, str, uuid.UUID], Figures],
) -> None:
    """At each point, each pupil's teacher assessments (in line with their figures, and
    recording their working year, as the starter measures do) and standardised scores (mean
    about 100, sd 15, 70-141, following ability), current and history alike."""
    subject_of = {m["code"]: m["subject"] for m in MEASURES}
    scale = {m["code"] for m in MEASURES if m["kind"] == "scale"}
    for point_id, point_on in points:
        recorded = datetime.combine(point_on, time(16, 0), UTC)
        for pupil in pupils:
            by = teachers[teacher_of(pupil.year_group, pupil.form)]
            for code in VALUE_MEASURES:
                subject = subject_of[code]
                descriptor_id: uuid.UUID | None
                if code in scale:
                    found = figures.get((pupil.id, subject, point_id))
                    descriptor_id = defs.attainment[_teacher_assessment(found)]
                    number = None
                    curriculum_year = pupil.working.get(subject, pupil.year_group)
                else:
                    z = 0.75 * pupil.ability + 0.66 * rng.gauss(0, 1)
                    number = Decimal(min(max(round(100 + 15 * z), 70), 141))
                    descriptor_id = curriculum_year = None
                measure_id = defs.measures[code]
                stored = (number, descriptor_id, None, curriculum_year, recorded, by)
                rows["measure_value"].append((pupil.id, measure_id, point_id, school_id, *stored))
                rows["measure_value_history"].append(
                    (new_id(), school_id, pupil.id, measure_id, point_id, *stored)
                )


# --- A school of a generated trust -----------------------------------------------------------
YEAR_SIZES = range(62, 79)  # pupils per year group: about 420 a school
PUPIL_KEY = "PUP-"  # external ids of the generated pupils (the roster cases' are BENCH-)
ROUNDS = 3


@dataclass(frozen=True, slots=True)
class SchoolPlan:
    """What a generated school's markbook needs from the generated trust."""

    school_id: uuid.UUID
    urn: str
    academic_year: int
    teachers: Mapping[int, uuid.UUID]  # 1-14 -> user id
    points: tuple[tuple[uuid.UUID, date], ...]  # the year's Autumn, Spring, Summer


def round_day(points: Sequence[tuple[uuid.UUID, date]]) -> Day:
    """Round k is made in the fortnight before point k: each subject and year group on its
    own day, so that an "as at" date inside a round finds some batches judged and some not."""

    def on(round_no: int, subject_no: int, year_group: int) -> date:
        back = 2 + (subject_no * len(YEAR_GROUPS) + year_group - 1) * 12 // 18
        return points[round_no][1] - timedelta(days=back)

    return on


def _school_roll(
    plan: SchoolPlan, seed: int
) -> tuple[random.Random, Ids, dict[str, list[tuple[Any, ...]]], Definitions, list[RollPupil]]:
    rng = random.Random(f"{seed}-markbook-{plan.urn}")
    new_id = Ids(rng)
    now = datetime(plan.academic_year, 9, 1, 7, 0, tzinfo=UTC)
    rows = empty_rows()
    defs = definitions(rows, new_id, plan.school_id, now)
    sizes = {y: rng.choice(YEAR_SIZES) for y in YEAR_GROUPS}
    pupils = roll(
        rows,
        new_id,
        rng,
        school_id=plan.school_id,
        academic_year=plan.academic_year,
        year_sizes=sizes,
        teachers=plan.teachers,
        key=PUPIL_KEY,
        now=now,
        out_of_year=True,
    )
    return rng, new_id, rows, defs, pupils


def school_shape(plan: SchoolPlan, seed: int) -> tuple[int, int]:
    """How many pupils and current cells a generated school's markbook has (its roll made
    again, without the judgements)."""
    _, _, _, defs, pupils = _school_roll(plan, seed)
    cells = sum(
        len(defs.of_year[code, p.working.get(code, p.year_group)])
        for p in pupils
        for code in SUBJECT_CODES
    )
    return len(pupils), cells


def school_rows(plan: SchoolPlan, seed: int) -> tuple[dict[str, list[tuple[Any, ...]]], int]:
    """Every markbook row of one generated school, and its number of pupils: the starter
    definitions, about 420 pupils in Years 1-6, a few percent out of year, three rounds of
    judgements (one before each point), the cells, the figures and the values at each
    point. Deterministic for the seed and the school's URN."""
    rng, new_id, rows, defs, pupils = _school_roll(plan, seed)
    now = datetime(plan.academic_year, 9, 1, 7, 0, tzinfo=UTC)
    working_years(
        rows,
        new_id,
        school_id=plan.school_id,
        academic_year=plan.academic_year,
        pupils=pupils,
        defs=defs,
        teachers=plan.teachers,
        set_at=now + timedelta(days=2),
        version=1,
    )
    figures = judgements(
        rows,
        new_id,
        rng,
        school_id=plan.school_id,
        pupils=pupils,
        defs=defs,
        teachers=plan.teachers,
        rounds=ROUNDS,
        day=round_day(plan.points),
        points=plan.points,
        version_offset=1,
    )
    measure_values(
        rows,
        new_id,
        rng,
        school_id=plan.school_id,
        pupils=pupils,
        defs=defs,
        teachers=plan.teachers,
        points=plan.points,
        figures=figures,
    )
    rows["markbook_clock"].append((plan.school_id, last_version(ROUNDS, offset=1)))
    return rows, len(pupils)


async def remove_markbook(pg: asyncpg.Connection, school_id: Any, academic_year: int) -> None:
    """Take a school's markbook out (definitions, pupils and all they hold), whatever of it
    is there. The cells go first: judgement_state has no index on judgement_id."""
    for statement in (
        "DELETE FROM judgement_state WHERE school_id = $1",
        "DELETE FROM objective_judgement WHERE school_id = $1",
        "DELETE FROM measure_value WHERE school_id = $1",
        "DELETE FROM measure_value_history WHERE school_id = $1",
        "DELETE FROM working_year_history WHERE school_id = $1",
        "DELETE FROM pupil WHERE school_id = $1",
        "DELETE FROM pupil_group WHERE school_id = $1",
        "DELETE FROM markbook_clock WHERE school_id = $1",
        "DELETE FROM measure WHERE school_id = $1",
        "DELETE FROM framework WHERE school_id = $1",
        "DELETE FROM subject WHERE school_id = $1",
        "DELETE FROM scale WHERE school_id = $1",
    ):
        await pg.execute(statement, school_id)
    await pg.execute(
        "DELETE FROM teaching_group WHERE school_id = $1 AND academic_year = $2"
        " AND code = ANY($3::text[])",
        school_id,
        academic_year,
        [code for y in YEAR_GROUPS for code in class_codes(y)],
    )


async def load_school(pg: asyncpg.Connection, plan: SchoolPlan, seed: int) -> None:
    """(Re)make one generated school's markbook, foreign keys checked: for a school whose
    markbook another case has damaged."""
    async with pg.transaction():
        await remove_markbook(pg, plan.school_id, plan.academic_year)
        rows, _ = school_rows(plan, seed)
        for table, columns in COLUMNS.items():
            if rows[table]:
                await pg.copy_records_to_table(table, records=rows[table], columns=list(columns))


async def _index_statements(
    pg: asyncpg.Connection, tables: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Statements that drop, and then re-create as they were, the tables' indexes and primary
    keys (but any a foreign key relies on)."""
    found = await pg.fetch(
        """
        SELECT c.conrelid::regclass::text AS tab, c.conname AS name,
               pg_get_constraintdef(c.oid) AS def, NULL AS indexdef
        FROM pg_constraint c
        WHERE c.conrelid = ANY($1::regclass[]) AND c.contype IN ('p', 'u')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                          WHERE f.contype = 'f' AND f.conindid = c.conindid)
        UNION ALL
        SELECT i.indrelid::regclass::text, ci.relname, NULL, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
        WHERE i.indrelid = ANY($1::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        list(tables),
    )
    drop = [
        f'ALTER TABLE "{r["tab"]}" DROP CONSTRAINT "{r["name"]}"'
        if r["def"]
        else f'DROP INDEX "{r["name"]}"'
        for r in found
    ]
    create = [
        r["indexdef"] or f'ALTER TABLE "{r["tab"]}" ADD CONSTRAINT "{r["name"]}" {r["def"]}'
        for r in found
    ]
    return drop, create


async def load_trust(
    pg: asyncpg.Connection, plans: Sequence[SchoolPlan], seed: int, log: Any = print
) -> dict[str, int]:
    """Give every school its markbook, in the caller's transaction: school by school, rows
    made and COPYed, the big tables without their indexes (re-made at the end, a sort each)
    and without foreign-key triggers (every id is made here, consistently; the sample check
    of the figures follows). Returns the rows per table."""
    drop, create = await _index_statements(pg, BULK_TABLES)
    for statement in drop:
        await pg.execute(statement)
    await pg.execute("SET LOCAL session_replication_role = replica")
    counts = dict.fromkeys(COLUMNS, 0)
    # The next school's rows are made in a thread while PostgreSQL takes this one's.
    following = asyncio.ensure_future(asyncio.to_thread(school_rows, plans[0], seed))
    for n in range(1, len(plans) + 1):
        rows, _ = await following
        if n < len(plans):
            following = asyncio.ensure_future(asyncio.to_thread(school_rows, plans[n], seed))
        for table, columns in COLUMNS.items():
            if rows[table]:
                await pg.copy_records_to_table(table, records=rows[table], columns=list(columns))
                counts[table] += len(rows[table])
        del rows
        if n % 10 == 0 or n == len(plans):
            log(
                f"  markbooks: {n}/{len(plans)} schools,"
                f" {counts['objective_judgement']:,} judgements"
            )
    await pg.execute("SET LOCAL session_replication_role = origin")
    await pg.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for statement in create:
        await pg.execute(statement)
    return counts


# --- Checking the figures against the app's recount --------------------------------------
_SUMMARY_ROWS = """
SELECT pupil_id, subject_id, assessment_point_id, curriculum_year, judged, value_sum, secure
FROM judgement_summary WHERE pupil_id = ANY($1::uuid[])
ORDER BY pupil_id, subject_id, assessment_point_id
"""


async def check_summaries(url: str, school_ids: Sequence[uuid.UUID], academic_year: int) -> int:
    """Recount a sample of pupils' figures with the app's own recount (``refresh_summaries``),
    in a transaction rolled back, and compare with what was loaded: per school, the first
    two pupils of each year group by external id and every pupil working out of year.
    Raises if any differ; returns how many figures were compared."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    from app.db.tenancy import School
    from app.services.summaries import refresh_summaries

    engine = create_async_engine(url)
    compared = 0
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            for school_id in school_ids:
                transaction = await session.begin()
                try:
                    sample = (
                        (
                            await session.execute(
                                text(
                                    "SELECT p.id FROM pupil p JOIN enrolment e ON e.pupil_id = p.id"
                                    " AND e.academic_year = :year"
                                    " WHERE p.school_id = :school AND (p.external_id LIKE '%-00_'"
                                    " OR p.id IN (SELECT pupil_id FROM working_year"
                                    " WHERE school_id = :school AND academic_year = :year))"
                                ),
                                {"year": academic_year, "school": school_id},
                            )
                        )
                        .scalars()
                        .all()
                    )
                    subjects = (
                        (
                            await session.execute(
                                text("SELECT id FROM subject WHERE school_id = :school"),
                                {"school": school_id},
                            )
                        )
                        .scalars()
                        .all()
                    )
                    raw = await session.connection()
                    driver = (await raw.get_raw_connection()).driver_connection
                    loaded = [tuple(r) for r in await driver.fetch(_SUMMARY_ROWS, sample)]
                    school = await session.get(School, school_id)
                    assert school is not None
                    await refresh_summaries(
                        session,
                        school=school,
                        pupil_ids=sample,
                        subject_ids=subjects,
                        since=date.min,
                        academic_year=academic_year,
                    )
                    await session.flush()
                    recounted = [tuple(r) for r in await driver.fetch(_SUMMARY_ROWS, sample)]
                finally:
                    await transaction.rollback()
                if loaded != recounted or not loaded:
                    differ = [
                        pair for pair in zip(loaded, recounted, strict=False) if pair[0] != pair[1]
                    ]
                    raise RuntimeError(
                        f"school {school_id}: {len(loaded)} loaded figures, {len(recounted)}"
                        f" recounted by the app; first differences: {differ[:3]}"
                    )
                compared += len(loaded)
    finally:
        await engine.dispose()
    return compared
