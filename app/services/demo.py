"""The demo trust: two schools and one person of every role, for trying the API in a minute.

Seeding is idempotent: run it on every `markbook serve --demo` start and it adds only what is
missing. The demo passwords and client secret are public by design; never seed a live service.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.roster import RosterSyncEnvelope
from app.auth.principal import Grant, Principal
from app.auth.secrets import hash_secret_async
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.queries import demo as demo_queries
from app.db.queries import judgements as judgement_queries
from app.db.queries import people as people_queries
from app.db.queries import roster as roster_queries
from app.db.queries import tenancy as tenancy_queries
from app.db.tenancy import AssessmentPoint, School, Trust
from app.domain.calendar import AcademicYear, default_assessment_points
from app.domain.pupils import make_upn
from app.domain.roles import ClientScope, Role
from app.domain.schools import Phase
from app.services.audit import record
from app.services.demo_history import DemoPupil, seed_history
from app.services.roster_sync import sync_roster
from app.services.starter import apply_starter_pack

DEMO_PASSWORD = "markbook-demo"
DEMO_CLIENT_ID = "mbc_demo_mis_sync"
DEMO_CLIENT_SECRET = "mbs_demo_secret_not_for_production"
TRUST_NAME = "Oak Hill Learning Trust"
SCHOOLS = (("Oak Hill Primary School", "999901"), ("Elm Park Primary School", "999902"))


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    email: str
    name: str
    school_index: int | None  # None: trust-wide or service-wide


ACCOUNTS = (
    DemoAccount(Role.SYSTEM_ADMIN, "admin@markbook.example.org", "Sam Operator", None),
    DemoAccount(Role.TRUST_ADMIN, "trust.admin@oakhill.example.org", "Tara Admin", None),
    DemoAccount(Role.TRUST_ANALYST, "analyst@oakhill.example.org", "Ade Analyst", None),
    DemoAccount(Role.SCHOOL_LEADER, "head@oakhill.example.org", "Helen Head", 0),
    DemoAccount(Role.TEACHER, "teacher@oakhill.example.org", "Tom Teacher", 0),
    DemoAccount(Role.GOVERNOR, "governor@oakhill.example.org", "Gita Governor", 0),
    DemoAccount(Role.PUPIL, "pupil@oakhill.example.org", "Priya Patel", 0),
    DemoAccount(Role.PARENT, "parent@oakhill.example.org", "Pat Patel", 0),
    DemoAccount(Role.SCHOOL_LEADER, "head@elmpark.example.org", "Eli Head", 1),
)


async def seed_demo(session: AsyncSession, *, today: date | None = None) -> None:
    """Create the demo trust, schools, calendar, people and MIS client if they are missing."""
    existing = await tenancy_queries.get_school_by_urn(session, SCHOOLS[0][1])
    if existing is not None and existing.trust_id is not None:
        trust = await tenancy_queries.get_trust(session, existing.trust_id)
        assert trust is not None
    else:
        trust = Trust(name=TRUST_NAME)
        session.add(trust)
        record(session, None, action="create", entity=trust, before=None, trust_id=trust.id)
    await session.flush()

    today = today or date.today()
    year = AcademicYear.containing(today)
    schools: list[School] = []
    for name, urn in SCHOOLS:
        school = await tenancy_queries.get_school_by_urn(session, urn)
        if school is None:
            school = School(name=name, urn=urn, phase=Phase.PRIMARY, trust_id=trust.id)
            session.add(school)
            record(
                session,
                None,
                action="create",
                entity=school,
                before=None,
                trust_id=trust.id,
                school_id=school.id,
            )
        schools.append(school)
    await session.flush()
    for school, points_year in itertools.product(schools, (year.previous(), year)):
        have = await tenancy_queries.assessment_point_codes(
            session, school.id, points_year.start_year
        )
        for plan in default_assessment_points(points_year):
            if plan.code not in have:
                point = AssessmentPoint(
                    school_id=school.id,
                    academic_year=points_year.start_year,
                    code=plan.code,
                    name=plan.name,
                    position=plan.position,
                    assessed_on=plan.assessed_on,
                )
                session.add(point)
                record(
                    session,
                    None,
                    action="create",
                    entity=point,
                    before=None,
                    trust_id=trust.id,
                    school_id=school.id,
                )

    for account in ACCOUNTS:
        if await people_queries.get_user_by_email(session, account.email) is not None:
            continue
        user = User(
            email=account.email,
            display_name=account.name,
            password_hash=await hash_secret_async(DEMO_PASSWORD),
        )
        session.add(user)
        record(session, None, action="create", entity=user, before=None)
        await session.flush()
        school_id = schools[account.school_index].id if account.school_index is not None else None
        trust_id = trust.id if account.role in (Role.TRUST_ADMIN, Role.TRUST_ANALYST) else None
        grant = RoleGrant(
            user_id=user.id, role=account.role, trust_id=trust_id, school_id=school_id
        )
        session.add(grant)
        record(
            session,
            None,
            action="create",
            entity=grant,
            before=None,
            trust_id=trust_id,
            school_id=school_id,
        )

    if await people_queries.get_client_by_client_id(session, DEMO_CLIENT_ID) is None:
        client = IntegrationClient(
            name="Demo MIS sync",
            client_id=DEMO_CLIENT_ID,
            secret_hash=await hash_secret_async(DEMO_CLIENT_SECRET),
            scopes=sorted(str(s) for s in ClientScope),
            school_id=schools[0].id,
        )
        session.add(client)
        record(session, None, action="create", entity=client, before=None, school_id=schools[0].id)
    await session.flush()
    await _seed_roster(session, schools, trust, year)
    await _seed_starter_pack(session, schools, trust, today)
    for index, school in enumerate(schools):
        await _seed_markbook(session, index, school, trust, year, today)


async def _seed_starter_pack(
    session: AsyncSession, schools: list[School], trust: Trust, today: date | None
) -> None:
    """Each school's head applies the England primary starter pack (it skips what is there)."""
    for account in ACCOUNTS:
        if account.role is not Role.SCHOOL_LEADER or account.school_index is None:
            continue
        head = await people_queries.get_user_by_email(session, account.email)
        assert head is not None
        school = schools[account.school_index]
        leader = Principal(
            kind="user",
            id=head.id,
            name=head.display_name,
            grants=(Grant(Role.SCHOOL_LEADER, school_id=school.id),),
            trust_of_school={school.id: trust.id},
        )
        await apply_starter_pack(session, principal=leader, school_id=school.id, today=today)


async def _seed_markbook(
    session: AsyncSession,
    index: int,
    school: School,
    trust: Trust,
    year: AcademicYear,
    today: date,
) -> None:
    """The school's history (app.services.demo_history), written by its head, once: skipped
    once the school has any judgement. The demo pupil and parent see Priya Patel's record."""
    if await judgement_queries.has_judgements(session, school.id):
        return
    account = next(a for a in ACCOUNTS if a.role is Role.SCHOOL_LEADER and a.school_index == index)
    head = await people_queries.get_user_by_email(session, account.email)
    assert head is not None
    leader = Principal(
        kind="user",
        id=head.id,
        name=head.display_name,
        grants=(Grant(Role.SCHOOL_LEADER, school_id=school.id),),
        trust_of_school={school.id: trust.id},
    )
    pupils = [
        DemoPupil(str(row["external_id"]), int(str(row["year_group"])))
        for row in _demo_pupils(year)[index]
    ]
    await seed_history(session, leader=leader, school=school, pupils=pupils, year=year, today=today)
    child = (await demo_queries.pupils_by_external_id(session, school.id)).get(DEMO_CHILD)
    for grant in await people_queries.grants_without_pupil(
        session, school.id, (Role.PUPIL, Role.PARENT)
    ):
        grant.pupil_id = child


# (school index, class code, name, year group, pupils, teacher email or None)
CLASSES = (
    (0, "3A", "Year 3 Ash", 3, 24, None),
    (0, "4B", "Year 4 Beech", 4, 26, "teacher@oakhill.example.org"),
    (0, "5C", "Year 5 Cedar", 5, 25, None),
    (0, "6D", "Year 6 Damson", 6, 27, "head@oakhill.example.org"),
    (1, "4W", "Year 4 Willow", 4, 22, "head@elmpark.example.org"),
    (1, "6Y", "Year 6 Yew", 6, 21, "head@elmpark.example.org"),
    (1, "2V", "Year 2 Vine", 2, 20, "head@elmpark.example.org"),
)
# The pupil the demo pupil and parent accounts see: Year 4 Beech's first.
DEMO_CHILD = "DEMO-0025"
FORENAMES = (
    "Amara Ben Chloe Dev Ella Finn Grace Hamza Isla Jack Kai Layla Milo Nia Oscar Poppy "
    "Reuben Sofia Theo Uma Vinny Willow Yusuf Zara Alfie Bea Callum"
).split()
SURNAMES = (
    "Ahmed Baker Clarke Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis Morgan Nowak "
    "Okafor Patel Quinn Roberts Singh Taylor Walker Young"
).split()


def _demo_pupils(year: AcademicYear, back: int = 0) -> dict[int, list[dict[str, object]]]:
    """Pupils per school: names, birthdays in the right year for their year group, a spread
    of characteristics, class and (for summer birthdays) a custom group; ``back`` years ago,
    a year group lower and in that year's class."""
    pupils: dict[int, list[dict[str, object]]] = {0: [], 1: []}
    serial = 0
    for school_index, code, _, year_group, size, _ in CLASSES:
        born_from = date(year.start_year - year_group - 5, 9, 1)
        for n in range(size):
            serial += 1
            external_id = f"DEMO-{serial:04d}"
            born = date.fromordinal(born_from.toordinal() + (n * 97 + serial * 13) % 365)
            summer = born.month in (5, 6, 7, 8)
            forename, surname = (
                ("Priya", "Patel")
                if external_id == DEMO_CHILD
                else (
                    FORENAMES[(serial * 7) % len(FORENAMES)],
                    SURNAMES[(serial * 5) % len(SURNAMES)],
                )
            )
            pupils[school_index].append(
                {
                    "external_id": external_id,
                    "upn": make_upn(
                        f"999{9901 + school_index:04d}{year.start_year % 100:02d}{serial:03d}"
                    ),
                    "legal_forename": forename,
                    "legal_surname": surname,
                    "date_of_birth": born.isoformat(),
                    "sex": "F" if serial % 2 else "M",
                    "year_group": str(year_group - back),
                    "pupil_premium": serial % 4 == 0,
                    "fsm": serial % 5 == 0,
                    "sen_status": "E" if serial % 23 == 0 else "K" if serial % 7 == 0 else "N",
                    "eal": serial % 6 == 0,
                    "looked_after": serial % 41 == 0,
                    "ethnicity": ("WBRI", "ABAN", "BAFR", "MWBC", "WOTH", "APKN")[serial % 6],
                    "joined_on": date(year.start_year - back, 9, 1).isoformat(),
                    "classes": [_class_code(code, year_group - back)],
                    "groups": ["Summer born"] if summer else [],
                }
            )
    return pupils


async def _seed_roster(
    session: AsyncSession, schools: list[School], trust: Trust, year: AcademicYear
) -> None:
    """Sync the demo pupils and classes in as the demo MIS would, for last year (each pupil a
    year group lower, in last year's class) and this year: the sync leaves what is already
    there alone, so this too is safe to run on every start."""
    client = await people_queries.get_client_by_client_id(session, DEMO_CLIENT_ID)
    assert client is not None
    for index, school in enumerate(schools):
        mis = Principal(
            kind="client",
            id=client.id,
            name=client.name,
            scopes=frozenset({ClientScope.ROSTER_WRITE}),
            client_school_id=school.id,
            trust_of_school={school.id: trust.id},
        )
        for synced, back in ((year.previous(), 1), (year, 0)):
            envelope = RosterSyncEnvelope(
                academic_year=synced.start_year,
                classes=[
                    {
                        "code": _class_code(code, year_group - back),
                        "name": name.replace(f"Year {year_group}", f"Year {year_group - back}"),
                        "teacher_emails": [teacher] if teacher and not back else [],
                    }
                    for school_index, code, name, year_group, _, teacher in CLASSES
                    if school_index == index
                ],
                pupils=_demo_pupils(year, back)[index],
            )
            await sync_roster(session, principal=mis, envelope=envelope, school=school)


def _class_code(code: str, year_group: int) -> str:
    """A class keeps its letter as it moves up: last year's 3A was 2A."""
    return f"{year_group}{code[1:]}"


POINT_NAMES = {"AUT": "AUTUMN", "SPR": "SPRING", "SUM": "SUMMER"}


async def demo_ids(session: AsyncSession, *, today: date | None = None) -> dict[str, str]:
    """The ids the README's tours use, by the shell variable they are kept in: Oak Hill's and
    Elm Park's schools, the trust, maths and its headline measures, Year 4 Beech, this year's
    points, the "Data on a page" template, Priya Patel; and the years (start years)."""
    year = AcademicYear.containing(today or date.today())
    oak = await tenancy_queries.get_school_by_urn(session, SCHOOLS[0][1])
    elm = await tenancy_queries.get_school_by_urn(session, SCHOOLS[1][1])
    if oak is None or elm is None or oak.trust_id is None:
        return {}
    subjects = await demo_queries.subjects_by_code(session, oak.id)
    measures = await demo_queries.measures_by_code(session, oak.id)
    templates = await demo_queries.templates_by_code(session, oak.id)
    points = await demo_queries.points_of_years(session, oak.id, [year.start_year])
    class_4b = await roster_queries.class_by_code(session, oak.id, year.start_year, "4B")
    pupils = await demo_queries.pupils_by_external_id(session, oak.id)
    found: dict[str, object] = {
        "SCHOOL": oak.id,
        "ELM_PARK": elm.id,
        "TRUST": oak.trust_id,
        "MATHS": subjects.get("MA"),
        "ENGLISH": subjects.get("EN"),
        "MATH_TA": measures.get("MATH-TA"),
        "STD_MATH": measures.get("STD-MATH"),
        "CLASS_4B": class_4b.id if class_4b else None,
        **{POINT_NAMES[p.code]: p.id for p in points if p.code in POINT_NAMES},
        "PAGE": templates.get("DATA-ON-A-PAGE"),
        "PUPIL": pupils.get(DEMO_CHILD),
        "YEAR": year.start_year,
        "LAST_YEAR": year.start_year - 1,
    }
    return {name: str(value) for name, value in found.items() if value is not None}


def shell_ids(ids: dict[str, str]) -> str:
    """The ids as shell assignments, for ``eval "$(markbook demo ids)"``."""
    return "".join(f"{name}={value}\n" for name, value in ids.items())


def sign_in_help(base_url: str, ids: dict[str, str] | None = None) -> str:
    """What the demo prints on start-up: how to sign in as each role, and the ids the README's
    tours use."""
    lines = [
        "",
        f"Markbook demo: {TRUST_NAME} with {SCHOOLS[0][0]} and {SCHOOLS[1][0]}.",
        f"Every demo person's password is '{DEMO_PASSWORD}'. Sign in with:",
        f"  curl -s -X POST {base_url}/v1/auth/token -d grant_type=password \\",
        f"       -d username=head@oakhill.example.org -d password={DEMO_PASSWORD}",
        "",
        f"  {'role':<15} {'scope':<26} email",
    ]
    for account in ACCOUNTS:
        scope = (
            SCHOOLS[account.school_index][0]
            if account.school_index is not None
            else ("whole service" if account.role is Role.SYSTEM_ADMIN else TRUST_NAME)
        )
        lines.append(f"  {account.role.value:<15} {scope[:26]:<26} {account.email}")
    lines += [
        "",
        f"  MIS integration (all scopes, {SCHOOLS[0][0]}):",
        f"  curl -s -X POST {base_url}/v1/auth/token -d grant_type=client_credentials \\",
        f"       -d client_id={DEMO_CLIENT_ID} -d client_secret={DEMO_CLIENT_SECRET}",
        "",
        f"  API docs: {base_url}/docs",
        "",
    ]
    if ids:
        lines += [
            '  The README\'s tours use these ids (`eval "$(markbook demo ids)"` sets them):',
            *(f"  {line}" for line in shell_ids(ids).splitlines()),
            "",
        ]
    return "\n".join(lines)
