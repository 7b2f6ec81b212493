"""1EdTech OneRoster 1.2 CSV (a zip of CSV files) to roster sync rows.

``manifest.csv`` says which files the zip holds and whether each is ``bulk`` (everything),
``delta`` (changes only) or ``absent``. Students (users with the student role) become pupil
rows keyed by their ``sourcedId``; classes become class rows, with their teachers' emails
from teacher enrollments. The field mapping is in docs/oneroster-mapping.md; grades map to
year groups by the import's ``GradeMapping`` (app/domain/grades.py).

Optional parts are optional: demographics.csv (pupils then have no birth date or sex), roles.csv
(a student enrollment then makes a pupil, unless users.csv says the user is staff), and a
user's grades (then the grades of the classes they are enrolled in, then the import's stated
year group). Harmless slips (an empty field after the last column, blank column names at the
end of a header, a file with a header and no rows) are read, with a warning naming the file
and row.

Values are passed through as written so the sync's row validation reports a bad one against
its row's index; a file that cannot be read, or whose rows or references do not hold
together, raises ``FileRejected`` naming the CSV and row of every such problem (read to the
end, so that one upload shows them all).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.domain.errors import DomainError
from app.domain.grades import DEFAULT_GRADE_MAPPING, GradeMapping, year_group_for
from app.domain.pupils import YearGroup
from app.domain.schools import check_urn
from app.importers.errors import FileRejected
from app.importers.roster import ImportedRoster
from app.importers.safety import DEFAULT_ZIP_LIMITS, SafeZip, ZipLimits

MANIFEST = "manifest.csv"
_MODES = frozenset({"bulk", "delta", "absent"})

# The files read, with the columns each must have; other columns are optional (OneRoster
# exporters differ in which optional columns they write).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orgs": ("sourcedId", "type"),
    "academicSessions": ("sourcedId", "type", "schoolYear"),
    "courses": ("sourcedId", "title"),
    "classes": ("sourcedId", "title"),
    "users": ("sourcedId", "givenName", "familyName"),
    "roles": ("sourcedId", "userSourcedId", "role"),
    "enrollments": ("sourcedId", "classSourcedId", "userSourcedId", "role"),
    "demographics": ("sourcedId",),
}

# Row problems kept for one refusal (the rest are counted).
MAX_PROBLEMS = 1000
# Rows named one by one in a warning (the rest are counted).
MAX_NAMED_ROWS = 10

_SEX = {"male": "M", "female": "F", "m": "M", "f": "F"}
_SEX_NOT_STATED = frozenset({"", "other", "unspecified"})
# US race and ethnicity flags: they do not map onto DfE ethnicity codes, so they are ignored.
_RACE_FLAGS = (
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
)
_USER_ID = re.compile(r"\{([^{}:]*):([^{}]*)\}")
_UPN_SHAPE = re.compile(r"[A-Za-z][0-9]{11}[0-9A-Za-z]")

# The columns read from each file (the others are dropped as each row is read, so a large
# file's unused columns are never held).
READ_COLUMNS: dict[str, frozenset[str]] = {
    name: frozenset({*required, "status", *optional})
    for name, required, optional in (
        ("orgs", REQUIRED_COLUMNS["orgs"], ("identifier",)),
        ("academicSessions", REQUIRED_COLUMNS["academicSessions"], ()),
        ("courses", REQUIRED_COLUMNS["courses"], ()),
        (
            "classes",
            REQUIRED_COLUMNS["classes"],
            ("classCode", "subjects", "courseSourcedId", "schoolSourcedId", "grades"),
        ),
        (
            "users",
            REQUIRED_COLUMNS["users"],
            (
                "role",
                "email",
                "preferredGivenName",
                "preferredFamilyName",
                "grades",
                "primaryOrgSourcedId",
                "orgSourcedIds",
                "userIds",
                "identifier",
            ),
        ),
        ("roles", REQUIRED_COLUMNS["roles"], ("orgSourcedId",)),
        ("enrollments", REQUIRED_COLUMNS["enrollments"], ()),
        ("demographics", REQUIRED_COLUMNS["demographics"], ("birthDate", "sex", *_RACE_FLAGS)),
    )
}


@dataclass(slots=True)
class _Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    values: dict[str, str]


@dataclass
class _Table:
    name: str
    mode: str  # bulk, delta or absent
    rows: dict[str, _Row] = field(default_factory=dict)  # by sourcedId, in file order
    skipped: set[str] = field(default_factory=set)  # sourcedIds marked tobedeleted

    @property
    def member(self) -> str:
        return f"{self.name}.csv"


class _Problems:
    """Row problems found while reading, kept to refuse the upload with all of them at once."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.found: list[FileRejected] = []
        self.total = 0

    def add(self, where: str | None, reason: str) -> None:
        self.total += 1
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(FileRejected(self.filename, where, reason))

    def raise_any(self) -> None:
        if self.found:
            raise FileRejected.several(self.found, self.total)


def parse_oneroster(
    data: bytes,
    *,
    filename: str = "oneroster.zip",
    limits: ZipLimits = DEFAULT_ZIP_LIMITS,
    grade_mapping: GradeMapping = DEFAULT_GRADE_MAPPING,
    year_group: YearGroup | None = None,
) -> ImportedRoster:
    """Read a OneRoster 1.1 or 1.2 CSV zip into roster sync rows; raise ``FileRejected`` if
    the zip is unsafe or not a readable OneRoster set.

    ``grade_mapping`` reads users' and classes' grades; ``year_group`` is the year group of
    students for whom neither gives one."""
    problems = _Problems(filename)
    with SafeZip(data, filename=filename, limits=limits) as archive:
        modes, warnings = _read_manifest(archive, filename)
        tables = {
            name: _read_table(archive, name, mode, problems, warnings)
            if mode != "absent"
            else _Table(name, mode)
            for name, mode in modes.items()
        }
    builder = _Builder(tables, filename, warnings, problems, grade_mapping, year_group)
    return builder.build()


# --- Reading -----------------------------------------------------------------------------


def _read_manifest(archive: SafeZip, filename: str) -> tuple[dict[str, str], list[str]]:
    """Each file's mode, checked against what the zip holds, and warnings about the rest."""
    if MANIFEST not in archive.names:
        nested = [name for name in archive.names if name.rpartition("/")[2] == MANIFEST]
        hint = (
            f" (there is one in {nested[0].rpartition('/')[0]}/, but it must be at the top)"
            if nested
            else ""
        )
        raise FileRejected(filename, None, f"no {MANIFEST}{hint}: not a OneRoster CSV zip")
    warnings: list[str] = []
    problems = _Problems(filename)
    properties: dict[str, str] = {}
    for _number, values in _rows(
        archive, MANIFEST, ("propertyName", "value"), None, problems, warnings
    ):
        properties[values["propertyName"]] = values["value"]
    problems.raise_any()
    version = properties.get("oneroster.version")
    if version and version not in ("1.0", "1.1", "1.2"):
        warnings.append(f"oneroster.version is {version}: read as OneRoster 1.2")

    modes: dict[str, str] = {}
    for name in REQUIRED_COLUMNS:
        mode = properties.get(f"file.{name}", "absent").lower()
        if mode not in _MODES:
            raise FileRejected(
                filename, MANIFEST, f"file.{name} is {mode!r}: use bulk, delta or absent"
            )
        member = f"{name}.csv"
        if mode != "absent" and member not in archive.names:
            raise FileRejected(
                filename, member, f"the manifest marks it {mode}, but the zip does not hold it"
            )
        if mode == "absent" and member in archive.names:
            warnings.append(f"{member} not read: the manifest marks it absent")
        modes[name] = mode
    if modes["users"] == "absent":
        raise FileRejected(
            filename, MANIFEST, "file.users is absent: there are no pupils to import"
        )

    unread = sorted(
        key.removeprefix("file.") + ".csv"
        for key, value in properties.items()
        if key.startswith("file.")
        and key.removeprefix("file.") not in REQUIRED_COLUMNS
        and value.lower() in ("bulk", "delta")
    )
    if unread:
        warnings.append(f"not read (no Markbook equivalent): {', '.join(unread)}")
    return modes, warnings


def _read_table(
    archive: SafeZip, name: str, mode: str, problems: _Problems, warnings: list[str]
) -> _Table:
    table = _Table(name, mode)
    member = table.member
    first_row: dict[str, int] = {}
    for number, values in _rows(
        archive, member, REQUIRED_COLUMNS[name], READ_COLUMNS[name], problems, warnings
    ):
        where = f"{member} row {number}"
        sourced_id = values["sourcedId"]
        if not sourced_id:
            problems.add(where, "sourcedId is empty")
            continue
        if sourced_id in first_row:
            problems.add(
                where,
                f"sourcedId {sourced_id!r} appears twice (first in row {first_row[sourced_id]})",
            )
            continue
        first_row[sourced_id] = number
        if values.get("status", "").lower() == "tobedeleted":
            table.skipped.add(sourced_id)
            continue
        table.rows[sourced_id] = _Row(number, values)
    return table


def _rows(
    archive: SafeZip,
    member: str,
    required: tuple[str, ...],
    kept: frozenset[str] | None,
    problems: _Problems,
    warnings: list[str],
) -> Iterator[tuple[int, dict[str, str]]]:
    """A CSV's data rows as (row number, values by column), values stripped; blank lines are
    skipped. The header must name every required column, each column once. Rows are read one
    at a time from the zip, and only the ``kept`` columns (all, if None) are held.

    Tolerated, with a warning: blank column names at the end of the header (their fields must
    be empty), an empty field after the last column, a header with no rows. A row with another
    number of fields is a problem, and so is a value in an unnamed column."""
    filename = archive.filename
    records = archive.csv_rows(member)
    header = next(records, None)
    if header is None:
        raise FileRejected(filename, member, "empty file: no header row")
    columns = [column.strip() for column in header]
    named = len(columns)
    while named and not columns[named - 1]:
        named -= 1
    if named < len(columns):
        warnings.append(
            f"{member} row 1: {len(columns) - named} blank column name(s) at the end of the "
            "header ignored"
        )
    if not all(columns[:named]) or len(set(columns[:named])) != named:
        raise FileRejected(filename, member, "unreadable header: blank or repeated column names")
    for column in required:
        if column not in columns[:named]:
            raise FileRejected(filename, member, f"missing column {column}")
    wanted = [
        (position, column)
        for position, column in enumerate(columns[:named])
        if kept is None or column in kept
    ]
    trailing: list[int] = []
    rows = 0
    for number, fields in enumerate(records, start=2):
        if not any(value.strip() for value in fields):
            continue
        if len(fields) < named or (
            len(fields) > named and any(value.strip() for value in fields[named:])
        ):
            problems.add(
                f"{member} row {number}",
                f"{len(fields)} fields, but the header names {named} columns"
                + (" (a value is past the last named column)" if len(fields) > named else ""),
            )
            continue
        if len(fields) > len(columns):
            trailing.append(number)
        rows += 1
        yield number, {column: fields[position].strip() for position, column in wanted}
    if trailing:
        warnings.append(
            f"{member} {_named_rows(trailing)}: an empty field after the last column ignored"
        )
    if rows == 0:
        warnings.append(f"{member} row 1: a header and no rows")


def _named_rows(numbers: list[int]) -> str:
    """ "row 4", or "rows 4, 7, 9 and 12 more"."""
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    listed = ", ".join(str(number) for number in numbers[:MAX_NAMED_ROWS])
    more = len(numbers) - MAX_NAMED_ROWS
    return f"rows {listed}" + (f" and {more} more" if more > 0 else "")


# --- Mapping -----------------------------------------------------------------------------


class _Builder:
    """Joins the tables into class and pupil rows, counting what it had to skip."""

    def __init__(
        self,
        tables: dict[str, _Table],
        filename: str,
        warnings: list[str],
        problems: _Problems,
        grade_mapping: GradeMapping,
        year_group: YearGroup | None,
    ) -> None:
        self.tables = tables
        self.filename = filename
        self.warnings = warnings
        self.problems = problems
        self.grade_mapping = grade_mapping
        self.year_group = year_group
        self.unresolved = 0  # references into a delta or absent file that we cannot follow
        self.users = tables["users"]
        self.classes = tables["classes"]
        # Memberships replace what is stored, so they are only stated from a bulk file: a
        # delta lists changed enrollments, not every class a pupil is in.
        self.memberships_known = tables["enrollments"].mode == "bulk"
        if tables["enrollments"].mode == "delta":
            warnings.append("enrollments.csv is a delta: class memberships are left as stored")

    def build(self) -> ImportedRoster:
        urn_of_org = self._school_urns()
        roles = self._roles()
        pupil_classes, class_teachers = self._enrollments(roles)
        self.problems.raise_any()
        classes, class_sources = self._class_rows(urn_of_org, class_teachers)
        pupils, pupil_sources = self._pupil_rows(urn_of_org, roles, pupil_classes)
        if self.users.mode == "bulk" and not pupils:
            raise FileRejected(
                self.filename,
                self.users.member,
                "no user has the student role (in roles.csv or enrollments.csv)",
            )
        self._summarise_skips()
        return ImportedRoster(
            kind="oneroster",
            source=None,
            school_urns=list(dict.fromkeys(urn_of_org.values())),
            academic_year=self._academic_year(),
            classes=classes,
            pupils=pupils,
            warnings=self.warnings,
            complete=self.users.mode == "bulk",
            class_sources=class_sources,
            pupil_sources=pupil_sources,
            grade_mapping=self.grade_mapping.value,
        )

    def _school_urns(self) -> dict[str, str]:
        """School orgs whose identifier is a URN (trusts and LAs carry other numbers)."""
        urns: dict[str, str] = {}
        for sourced_id, row in self.tables["orgs"].rows.items():
            identifier = row.values.get("identifier", "")
            if row.values["type"].lower() == "school" and _is_urn(identifier):
                urns[sourced_id] = identifier
        return urns

    def _academic_year(self) -> int | None:
        """The start year of the latest school year session. OneRoster's schoolYear is the
        year a school year ends in (2026 for 2025/26); terms carry it too, as a fallback."""
        sessions = self.tables["academicSessions"].rows.values()
        school_years = [row for row in sessions if row.values["type"].lower() == "schoolyear"]
        years: list[int] = []
        unreadable = 0
        for row in school_years or sessions:
            value = row.values["schoolYear"]
            if value.isascii() and value.isdigit() and len(value) == 4:
                years.append(int(value) - 1)
            else:
                unreadable += 1
        if unreadable:
            self.warnings.append(
                f"academicSessions.csv: {unreadable} sessions with an unreadable schoolYear"
            )
        return max(years, default=None)

    def _roles(self) -> dict[str, set[str]]:
        """Each user's roles as the files state them: roles.csv and (OneRoster 1.1) users.csv's
        role column."""
        roles: dict[str, set[str]] = defaultdict(set)
        for user_id, row in self.users.rows.items():
            if role := row.values.get("role", "").lower():
                roles[user_id].add(role)
        role_table = self.tables["roles"]
        for row in role_table.rows.values():
            user_id = row.values["userSourcedId"]
            if self._refers(self.users, user_id, role_table, row, "userSourcedId"):
                roles[user_id].add(row.values["role"].lower())
        return roles

    def _enrollments(
        self, roles: dict[str, set[str]]
    ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Class sourcedIds by student, teacher sourcedIds by class. A student enrollment also
        makes the user a student, for files without roles.csv, unless their stated roles make
        them something else (a teacher enrolled as a student to see a class as pupils do is
        not a pupil): those rows are reported."""
        pupil_classes: dict[str, list[str]] = defaultdict(list)
        class_teachers: dict[str, list[str]] = defaultdict(list)
        enrollments = self.tables["enrollments"]
        not_students: list[tuple[int, str]] = []
        for row in enrollments.rows.values():
            class_id, user_id = row.values["classSourcedId"], row.values["userSourcedId"]
            if not (
                self._refers(self.classes, class_id, enrollments, row, "classSourcedId")
                and self._refers(self.users, user_id, enrollments, row, "userSourcedId")
            ):
                continue
            role = row.values["role"].lower()
            if role == "student":
                stated = roles.get(user_id, set())
                if stated and "student" not in stated:
                    not_students.append((row.number, "/".join(sorted(stated))))
                    continue
                roles[user_id].add(role)
                pupil_classes[user_id].append(class_id)
            elif role == "teacher":
                class_teachers[class_id].append(user_id)
        if not_students:
            kinds = ", ".join(sorted({kind for _, kind in not_students}))
            self.warnings.append(
                f"enrollments.csv {_named_rows([number for number, _ in not_students])}: "
                f"a student enrollment of a user whose role is {kinds}: not imported as a pupil"
            )
        return pupil_classes, class_teachers

    def _refers(
        self, target: _Table, sourced_id: str, source: _Table, row: _Row, column: str
    ) -> bool:
        """Whether a reference can be followed. One into a bulk file must be: a dangling one
        means the files do not belong together. One to a row being deleted is skipped, and so
        is one into a delta (which lists only changes) or an absent file, counted."""
        if sourced_id in target.rows:
            return True
        if sourced_id in target.skipped:
            return False
        if target.mode == "bulk":
            self.problems.add(
                f"{source.member} row {row.number}",
                f"{column} {sourced_id!r} is not in {target.member}",
            )
            return False
        self.unresolved += 1
        return False

    def _class_rows(
        self, urn_of_org: dict[str, str], class_teachers: dict[str, list[str]]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        course_titles = {
            sourced_id: row.values["title"]
            for sourced_id, row in self.tables["courses"].rows.items()
        }
        rows: list[dict[str, Any]] = []
        sources: list[str] = []
        teachers_without_email = 0
        seen: Counter[tuple[str, str | None]] = Counter()
        for sourced_id, row in self.classes.rows.items():
            sources.append(f"{self.classes.member} row {row.number}")
            values = row.values
            out: dict[str, Any] = {"code": _class_code(sourced_id, values)}
            _put(out, "name", values["title"])
            subjects = _first(values.get("subjects", ""))
            _put(out, "subject", subjects or course_titles.get(values.get("courseSourcedId", "")))
            if self.memberships_known:
                emails = [
                    self.users.rows[user_id].values.get("email", "")
                    for user_id in class_teachers.get(sourced_id, [])
                ]
                # A teacher we cannot name by email would silently drop off the class, so
                # the class's teachers are then left as stored.
                if all(emails):
                    out["teacher_emails"] = list(dict.fromkeys(emails))
                else:
                    teachers_without_email += 1
            _put(out, "school_urn", urn_of_org.get(values.get("schoolSourcedId", "")))
            seen[(out["code"], out.get("school_urn"))] += 1
            rows.append(out)
        if teachers_without_email:
            self.warnings.append(
                f"{teachers_without_email} classes have a teacher with no email: "
                "their teachers are left as stored"
            )
        repeated = sum(1 for count in seen.values() if count > 1)
        if repeated:
            self.warnings.append(f"classes.csv: {repeated} class codes are used more than once")
        return rows, sources

    def _pupil_rows(
        self,
        urn_of_org: dict[str, str],
        roles: dict[str, set[str]],
        pupil_classes: dict[str, list[str]],
    ) -> tuple[list[dict[str, Any]], list[str]]:
        demographics = self.tables["demographics"]
        code_of_class = {
            sourced_id: _class_code(sourced_id, row.values)
            for sourced_id, row in self.classes.rows.items()
        }
        student_orgs = self._student_role_orgs()
        race_flags = 0
        year_from: Counter[str] = Counter()
        rows: list[dict[str, Any]] = []
        sources: list[str] = []
        for user_id, row in self.users.rows.items():
            if "student" not in roles.get(user_id, ()):
                continue
            values = row.values
            out: dict[str, Any] = {"external_id": user_id}
            _put(out, "upn", _upn(values))
            _put(out, "legal_forename", values["givenName"])
            _put(out, "legal_surname", values["familyName"])
            _put(out, "preferred_forename", values.get("preferredGivenName"))
            _put(out, "preferred_surname", values.get("preferredFamilyName"))
            year_group, source = self._year_group(values, pupil_classes.get(user_id, []))
            _put(out, "year_group", year_group)
            year_from[source] += 1
            if demographic := demographics.rows.get(user_id):
                _put(out, "date_of_birth", demographic.values.get("birthDate"))
                _put(out, "sex", _sex(demographic.values.get("sex", "")))
                if any(demographic.values.get(flag, "").lower() == "true" for flag in _RACE_FLAGS):
                    race_flags += 1
            if self.memberships_known:
                out["classes"] = list(
                    dict.fromkeys(code_of_class[class_id] for class_id in pupil_classes[user_id])
                )
            # OneRoster 1.1 has no primary org: its users list their orgs.
            org = (
                values.get("primaryOrgSourcedId")
                or student_orgs.get(user_id)
                or _first(values.get("orgSourcedIds", ""))
                or ""
            )
            _put(out, "school_urn", urn_of_org.get(org))
            rows.append(out)
            sources.append(f"{self.users.member} row {row.number}")
        if race_flags:
            self.warnings.append(
                f"demographics.csv: race flags of {race_flags} pupils ignored "
                "(they do not map to DfE ethnicity codes)"
            )
        if demographics.mode == "absent" and rows:
            self.warnings.append(
                "no demographics.csv: pupils are imported without a date of birth or sex "
                "(those already stored are kept)"
            )
        if year_from["classes"]:
            self.warnings.append(
                f"users.csv: {year_from['classes']} students have no grades: year group taken "
                "from the grades of their classes"
            )
        if year_from["import"]:
            self.warnings.append(
                f"users.csv: {year_from['import']} students have no grades (nor their classes): "
                f"year group {self.year_group} as the import says"
            )
        if year_from["none"]:
            self.warnings.append(
                f"users.csv: {year_from['none']} students have no grades, their classes give "
                "no single year group and the import states none: refused (give year_group)"
            )
        return rows, sources

    def _year_group(self, values: dict[str, str], class_ids: list[str]) -> tuple[str | None, str]:
        """A student's year group and where it came from: their own grades (the first one;
        one with no year group is passed through for the row to be refused naming it), else
        the one year group all their classes' grades allow, else the import's."""
        grade = _first(values.get("grades", ""))
        if grade is not None:
            group = year_group_for(grade, self.grade_mapping)
            return (group.value if group else grade), "user"
        allowed: set[YearGroup] | None = None
        for class_id in class_ids:
            grades = [
                g.strip() for g in self.classes.rows[class_id].values.get("grades", "").split(",")
            ]
            groups = {year_group_for(g, self.grade_mapping) for g in grades if g}
            groups.discard(None)
            if groups:
                allowed = groups if allowed is None else allowed & groups  # type: ignore[operator]
        if allowed is not None and len(allowed) == 1:
            return next(iter(allowed)).value, "classes"
        if self.year_group is not None:
            return self.year_group.value, "import"
        return None, "none"

    def _student_role_orgs(self) -> dict[str, str]:
        """The org of each user's (first) student role: where a pupil with no primary org is."""
        orgs: dict[str, str] = {}
        for row in self.tables["roles"].rows.values():
            values = row.values
            if values["role"].lower() == "student" and values.get("orgSourcedId"):
                orgs.setdefault(values["userSourcedId"], values["orgSourcedId"])
        return orgs

    def _summarise_skips(self) -> None:
        deleted = {
            table.member: len(table.skipped) for table in self.tables.values() if table.skipped
        }
        if deleted:
            detail = ", ".join(f"{member} {count}" for member, count in deleted.items())
            total = sum(deleted.values())
            self.warnings.append(f"skipped {total} rows marked tobedeleted ({detail})")
        if self.unresolved:
            self.warnings.append(
                f"skipped {self.unresolved} references to rows not in this upload "
                "(delta or absent files)"
            )


def _class_code(sourced_id: str, values: dict[str, str]) -> str:
    return values.get("classCode") or sourced_id


def _upn(values: dict[str, str]) -> str | None:
    """The UPN from a ``{UPN:...}`` entry of userIds, else an identifier shaped like one (the
    check letter is left to the row's validation)."""
    for kind, identifier in _USER_ID.findall(values.get("userIds", "")):
        if kind.strip().upper() == "UPN" and identifier.strip():
            return identifier.strip()
    identifier = values.get("identifier", "")
    return identifier if _UPN_SHAPE.fullmatch(identifier) else None


def _sex(value: str) -> str | None:
    lowered = value.lower()
    if lowered in _SEX_NOT_STATED:
        return None
    return _SEX.get(lowered, value)


def _first(listed: str) -> str | None:
    """The first entry of a OneRoster comma-separated list field."""
    first = listed.partition(",")[0].strip()
    return first or None


def _is_urn(text: str) -> bool:
    try:
        check_urn(text)
    except DomainError:
        return False
    return True


def _put(row: dict[str, Any], key: str, value: str | None) -> None:
    """Set a key only when the file gives a value: absent means "leave as stored"."""
    if value:
        row[key] = value
