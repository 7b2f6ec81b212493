"""1EdTech OneRoster 1.2 CSV (a zip of CSV files) to roster sync rows.

``manifest.csv`` says which files the zip holds and whether each is ``bulk`` (everything),
``delta`` (changes only) or ``absent``. Students (users with the student role) become pupil
rows keyed by their ``sourcedId``; classes become class rows, with their teachers' emails
from teacher enrollments. The grade and field mapping is in docs/oneroster-mapping.md.

Values are passed through as written so the sync's row validation reports a bad one against
its row's index; a file that cannot be read, or whose references do not hold together, raises
``FileRejected`` naming the CSV and row.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.domain.errors import DomainError
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

# OneRoster grades are CEDS codes; England's NC years keep their own numbering ("01" is
# Year 1). Codes with no NC year (PS, UG, Other) are passed through, so the row is rejected
# with "unknown year group 'UG'" rather than guessed.
GRADE_TO_YEAR_GROUP: dict[str, str] = {
    "IT": "N1",
    "PR": "N1",
    "PK": "N2",
    "TK": "R",
    "KG": "R",
    **{f"{year:02d}": str(year) for year in range(1, 14)},
}

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
            ("classCode", "subjects", "courseSourcedId", "schoolSourcedId"),
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


def parse_oneroster(
    data: bytes, *, filename: str = "oneroster.zip", limits: ZipLimits = DEFAULT_ZIP_LIMITS
) -> ImportedRoster:
    """Read a OneRoster 1.2 CSV zip into roster sync rows; raise ``FileRejected`` if the zip
    is unsafe or not a readable OneRoster set."""
    with SafeZip(data, filename=filename, limits=limits) as archive:
        modes, warnings = _read_manifest(archive, filename)
        tables = {
            name: _read_table(archive, name, mode, filename)
            if mode != "absent"
            else _Table(name, mode)
            for name, mode in modes.items()
        }
    return _Builder(tables, filename, warnings).build()


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
    properties: dict[str, str] = {}
    for _number, values in _rows(archive, MANIFEST, ("propertyName", "value")):
        properties[values["propertyName"]] = values["value"]

    warnings: list[str] = []
    version = properties.get("oneroster.version")
    if version and version not in ("1.1", "1.2"):
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


def _read_table(archive: SafeZip, name: str, mode: str, filename: str) -> _Table:
    table = _Table(name, mode)
    member = table.member
    for number, values in _rows(archive, member, REQUIRED_COLUMNS[name], READ_COLUMNS[name]):
        where = f"{member} row {number}"
        sourced_id = values["sourcedId"]
        if not sourced_id:
            raise FileRejected(filename, where, "sourcedId is empty")
        if sourced_id in table.rows or sourced_id in table.skipped:
            raise FileRejected(filename, where, f"sourcedId {sourced_id!r} appears twice")
        if values.get("status", "").lower() == "tobedeleted":
            table.skipped.add(sourced_id)
            continue
        table.rows[sourced_id] = _Row(number, values)
    return table


def _rows(
    archive: SafeZip,
    member: str,
    required: tuple[str, ...],
    kept: frozenset[str] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """A CSV's data rows as (row number, values by column), values stripped; blank lines are
    skipped. The header must name every required column, each column once. Rows are read one
    at a time from the zip, and only the ``kept`` columns (all, if None) are held."""
    filename = archive.filename
    records = archive.csv_rows(member)
    header = next(records, None)
    if header is None:
        raise FileRejected(filename, member, "empty file: no header row")
    columns = [column.strip() for column in header]
    if not all(columns) or len(set(columns)) != len(columns):
        raise FileRejected(filename, member, "unreadable header: blank or repeated column names")
    for column in required:
        if column not in columns:
            raise FileRejected(filename, member, f"missing column {column}")
    wanted = [
        (position, column)
        for position, column in enumerate(columns)
        if kept is None or column in kept
    ]
    for number, fields in enumerate(records, start=2):
        if not any(value.strip() for value in fields):
            continue
        if len(fields) != len(columns):
            raise FileRejected(
                filename,
                f"{member} row {number}",
                f"{len(fields)} fields, but the header has {len(columns)}",
            )
        yield number, {column: fields[position].strip() for position, column in wanted}


# --- Mapping -----------------------------------------------------------------------------


class _Builder:
    """Joins the tables into class and pupil rows, counting what it had to skip."""

    def __init__(self, tables: dict[str, _Table], filename: str, warnings: list[str]) -> None:
        self.tables = tables
        self.filename = filename
        self.warnings = warnings
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
        classes = self._class_rows(urn_of_org, class_teachers)
        pupils = self._pupil_rows(urn_of_org, roles, pupil_classes)
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
        """Each user's roles, from roles.csv and (OneRoster 1.1) users.csv's role column."""
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
        makes the user a student, for files without roles.csv."""
        pupil_classes: dict[str, list[str]] = defaultdict(list)
        class_teachers: dict[str, list[str]] = defaultdict(list)
        enrollments = self.tables["enrollments"]
        for row in enrollments.rows.values():
            class_id, user_id = row.values["classSourcedId"], row.values["userSourcedId"]
            if not (
                self._refers(self.classes, class_id, enrollments, row, "classSourcedId")
                and self._refers(self.users, user_id, enrollments, row, "userSourcedId")
            ):
                continue
            role = row.values["role"].lower()
            if role == "student":
                roles[user_id].add(role)
                pupil_classes[user_id].append(class_id)
            elif role == "teacher":
                class_teachers[class_id].append(user_id)
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
            raise FileRejected(
                self.filename,
                f"{source.member} row {row.number}",
                f"{column} {sourced_id!r} is not in {target.member}",
            )
        self.unresolved += 1
        return False

    def _class_rows(
        self, urn_of_org: dict[str, str], class_teachers: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        course_titles = {
            sourced_id: row.values["title"]
            for sourced_id, row in self.tables["courses"].rows.items()
        }
        rows: list[dict[str, Any]] = []
        teachers_without_email = 0
        seen: Counter[tuple[str, str | None]] = Counter()
        for sourced_id, row in self.classes.rows.items():
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
        return rows

    def _pupil_rows(
        self,
        urn_of_org: dict[str, str],
        roles: dict[str, set[str]],
        pupil_classes: dict[str, list[str]],
    ) -> list[dict[str, Any]]:
        demographics = self.tables["demographics"].rows
        code_of_class = {
            sourced_id: _class_code(sourced_id, row.values)
            for sourced_id, row in self.classes.rows.items()
        }
        student_orgs = self._student_role_orgs()
        race_flags = 0
        rows: list[dict[str, Any]] = []
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
            _put(out, "year_group", _year_group(values.get("grades", "")))
            if demographic := demographics.get(user_id):
                _put(out, "date_of_birth", demographic.values.get("birthDate"))
                _put(out, "sex", _sex(demographic.values.get("sex", "")))
                if any(demographic.values.get(flag, "").lower() == "true" for flag in _RACE_FLAGS):
                    race_flags += 1
            if self.memberships_known:
                out["classes"] = list(
                    dict.fromkeys(code_of_class[class_id] for class_id in pupil_classes[user_id])
                )
            org = values.get("primaryOrgSourcedId") or student_orgs.get(user_id, "")
            _put(out, "school_urn", urn_of_org.get(org))
            rows.append(out)
        if race_flags:
            self.warnings.append(
                f"demographics.csv: race flags of {race_flags} pupils ignored "
                "(they do not map to DfE ethnicity codes)"
            )
        return rows

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


def _year_group(grades: str) -> str | None:
    grade = _first(grades)
    if grade is None:
        return None
    return GRADE_TO_YEAR_GROUP.get(grade.upper(), grade)


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
