"""A 1EdTech CASE 1.0 JSON package to a framework's objectives.

A package is one ``CFDocument`` (the framework: title, creator, subject), its ``CFItems``
(the objectives) and ``CFAssociations``. Only ``isChildOf`` associations are read: the origin
is the child, the destination its parent, and a parent that is the document itself puts the
item at the top level. Other association types (exactMatchOf, isRelatedTo, ...) have no
Markbook equivalent and are counted in the warnings.

Each item becomes one objective: ``humanCodingScheme`` is its code (its identifier when it has
none), ``fullStatement`` its statement. The strand is the item's top-level ancestor (the item
itself at the top), the sub-strand its second-level ancestor, each by its abbreviated
statement when it has one. Siblings are ordered by the isChildOf ``sequenceNumber`` where
given, then in ``CFItems`` order; objectives are numbered depth-first, parents before
children. ``educationLevel`` (or ``educationalLevel``, as some exporters write it; a list or
a comma-separated string) becomes the curriculum years, each grade read by the import's
grade mapping (app/domain/grades.py), as the OneRoster importer reads grades: by default "KG"
is reception and "01"-"13" the year of that number. Levels with no curriculum year (nursery,
PS, UG) leave the item without one, counted in the warnings.

The package is stored whole or not at all: anything that does not hold together (a dangling
or cyclic isChildOf, a repeated identifier or code, an item without a statement) raises
``FileRejected`` naming the item or association.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from app.domain.curriculum import (
    MAX_LABEL_LENGTH,
    MAX_OBJECTIVES,
    CurriculumYears,
    check_label,
    check_objective_code,
    check_statement,
    check_unique_codes,
    depth_first,
    find_cycle,
)
from app.domain.errors import DomainError
from app.domain.grades import DEFAULT_GRADE_MAPPING, GradeMapping, curriculum_year_for
from app.importers.errors import FileRejected
from app.importers.objectives import ImportedFramework, decode_utf8

CHILD_OF = "isChildOf"
# The item's grades, as CASE 1.0 spells the field and as some exporters do.
LEVEL_FIELDS = ("educationLevel", "educationalLevel")


@dataclass(slots=True)
class _Item:
    index: int  # in CFItems
    identifier: str
    code: str
    statement: str
    label: str  # how it reads as a strand or sub-strand
    years: CurriculumYears | None

    @property
    def where(self) -> str:
        return f"CFItems[{self.index}] ({self.code})"


@dataclass(slots=True)
class _Link:
    parent: str | None  # an item's identifier; None for the document
    sequence: int | None
    index: int  # in CFAssociations


def parse_case_package(
    data: bytes,
    *,
    filename: str = "case.json",
    grade_mapping: GradeMapping = DEFAULT_GRADE_MAPPING,
) -> ImportedFramework:
    """Read a CASE 1.0 JSON package; raise ``FileRejected`` if it is not JSON, not a CASE
    package, or its items and associations do not form a tree."""
    package = _load_json(data, filename)
    if isinstance(package, dict) and "CFDocument" not in package:
        # Some services wrap the package: {"CFPackage": {"CFDocument": ..., ...}}.
        wrapped = package.get("CFPackage")
        if isinstance(wrapped, dict):
            package = wrapped
    if not isinstance(package, dict):
        raise FileRejected(filename, None, "not a CASE package: the top level is not an object")
    return _Reader(package, filename, grade_mapping).read()


def _load_json(data: bytes, filename: str) -> Any:
    text = decode_utf8(data, filename=filename)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(
            filename, f"line {exc.lineno}", f"not JSON ({exc.msg} at column {exc.colno})"
        ) from None
    except RecursionError:
        raise FileRejected(filename, None, "not readable JSON: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise FileRejected(filename, None, f"not readable JSON ({exc})") from None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _identifier(node: Any) -> str:
    """A CASE object's identifier: ``identifier``, or ``sourcedId`` as some exporters say."""
    if not isinstance(node, dict):
        return ""
    return _text(node.get("identifier")) or _text(node.get("sourcedId"))


def _sequence(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


class _Reader:
    def __init__(self, package: dict[str, Any], filename: str, grade_mapping: GradeMapping) -> None:
        self.package = package
        self.filename = filename
        self.grade_mapping = grade_mapping
        self.warnings: list[str] = []

    def reject(self, where: str | None, reason: str) -> FileRejected:
        return FileRejected(self.filename, where, reason)

    def read(self) -> ImportedFramework:
        document = self.package.get("CFDocument")
        if not isinstance(document, dict):
            raise self.reject(None, "not a CASE package: no CFDocument object")
        document_id = _identifier(document)
        if not document_id:
            raise self.reject("CFDocument", "no identifier (or sourcedId)")
        title, source, subject = self._document(document)
        items = self._items(document_id)
        links = self._links(document_id, items)
        objectives = self._objectives(items, links)
        return ImportedFramework(
            subject=subject,
            source=source,
            title=title,
            objectives=objectives,
            warnings=self.warnings,
        )

    # --- The document ------------------------------------------------------------------

    def _document(self, document: dict[str, Any]) -> tuple[str | None, str, str | None]:
        try:
            title = check_label(_text(document.get("title")), field="title")
            creator = check_label(
                _text(document.get("creator")) or _text(document.get("publisher")),
                field="creator",
            )
        except DomainError as exc:
            raise self.reject("CFDocument", exc.message) from None
        subjects = self._subjects(document)
        subject = None
        if len(subjects) == 1:
            subject = subjects[0]
        elif subjects:
            self.warnings.append(
                f"the document names {len(subjects)} subjects ({', '.join(subjects)}): none chosen"
            )
        return title, f"CASE: {creator}" if creator else "CASE", subject

    @staticmethod
    def _subjects(document: dict[str, Any]) -> list[str]:
        named = document.get("subject")
        values = [named] if isinstance(named, str) else named if isinstance(named, list) else []
        subjects = [_text(value) for value in values if _text(value)]
        if not subjects and isinstance(document.get("subjectURI"), list):
            subjects = [
                _text(link.get("title"))
                for link in document["subjectURI"]
                if isinstance(link, dict) and _text(link.get("title"))
            ]
        return [subject for subject in dict.fromkeys(subjects) if len(subject) <= MAX_LABEL_LENGTH]

    # --- Items -------------------------------------------------------------------------

    def _items(self, document_id: str) -> dict[str, _Item]:
        raw_items = self.package.get("CFItems")
        if not isinstance(raw_items, list):
            raise self.reject(None, "not a CASE package: no CFItems list")
        if not raw_items:
            raise self.reject("CFItems", "the package has no items: nothing to import")
        if len(raw_items) > MAX_OBJECTIVES:
            raise self.reject(
                "CFItems",
                f"{len(raw_items)} items: at most {MAX_OBJECTIVES} objectives in one framework",
            )
        items: dict[str, _Item] = {}
        unmapped_years = 0
        for index, raw in enumerate(raw_items):
            where = f"CFItems[{index}]"
            if not isinstance(raw, dict):
                raise self.reject(where, "an item must be an object")
            identifier = _identifier(raw)
            if not identifier:
                raise self.reject(where, "no identifier (or sourcedId)")
            where = f"{where} ({identifier})"
            if identifier == document_id:
                raise self.reject(where, "the item has the CFDocument's identifier")
            if identifier in items:
                raise self.reject(
                    where, f"identifier {identifier!r} is also {items[identifier].where}"
                )
            try:
                code = check_objective_code(_text(raw.get("humanCodingScheme")) or identifier)
                statement = check_statement(raw.get("fullStatement"), field="fullStatement")
            except DomainError as exc:
                raise self.reject(where, exc.message) from None
            levels = next((raw[name] for name in LEVEL_FIELDS if raw.get(name)), None)
            years, mapped = _years(levels, self.grade_mapping)
            unmapped_years += not mapped
            items[identifier] = _Item(
                index=index,
                identifier=identifier,
                code=code,
                statement=statement,
                label=_label(_text(raw.get("abbreviatedStatement")), statement, code),
                years=years,
            )
        listed = list(items.values())
        repeats = check_unique_codes(item.code for item in listed)
        if repeats:
            first, repeat = repeats[0]
            raise self.reject(
                f"CFItems[{listed[repeat].index}]",
                f"code {listed[repeat].code!r} (humanCodingScheme) is also the code of "
                f"CFItems[{listed[first].index}]",
            )
        if unmapped_years:
            self.warnings.append(
                f"{unmapped_years} item(s) have an educationLevel with no England curriculum "
                "year (or more than 4 years): imported without a curriculum year"
            )
        return items

    # --- Associations ------------------------------------------------------------------

    def _links(self, document_id: str, items: dict[str, _Item]) -> dict[str, list[_Link]]:
        """Each item's isChildOf parents, in file order, the associations checked."""
        raw_associations = self.package.get("CFAssociations", [])
        if raw_associations is None:
            raw_associations = []
        if not isinstance(raw_associations, list):
            raise self.reject("CFAssociations", "must be a list")
        links: dict[str, list[_Link]] = {}
        ignored: Counter[str] = Counter()
        for index, raw in enumerate(raw_associations):
            where = f"CFAssociations[{index}]"
            if not isinstance(raw, dict):
                raise self.reject(where, "an association must be an object")
            if identifier := _identifier(raw):
                where = f"{where} ({identifier})"
            kind = raw.get("associationType")
            if kind != CHILD_OF:
                ignored[kind if isinstance(kind, str) and kind else "(no type)"] += 1
                continue
            child = _identifier(raw.get("originNodeURI"))
            parent = _identifier(raw.get("destinationNodeURI"))
            if not child or not parent:
                end = "originNodeURI" if not child else "destinationNodeURI"
                raise self.reject(where, f"isChildOf without an {end} identifier")
            if child not in items:
                reason = (
                    "the CFDocument cannot be a child"
                    if child == document_id
                    else f"dangling isChildOf: child {child!r} is not an item in the package"
                )
                raise self.reject(where, reason)
            if parent != document_id and parent not in items:
                raise self.reject(
                    where,
                    f"dangling isChildOf: parent {parent!r} is neither an item in the package "
                    "nor its CFDocument",
                )
            target = None if parent == document_id else parent
            known = links.setdefault(child, [])
            if all(link.parent != target for link in known):
                known.append(_Link(target, _sequence(raw.get("sequenceNumber")), index))

        cycle = find_cycle(
            {
                child: [link.parent for link in known if link.parent is not None]
                for child, known in links.items()
            }
        )
        if cycle:
            path = " -> ".join(items[identifier].code for identifier in [*cycle, cycle[0]])
            raise self.reject(
                "CFAssociations",
                f"isChildOf associations form a cycle (each item a child of the next): {path}",
            )
        if ignored:
            kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(ignored.items()))
            self.warnings.append(
                f"{ignored.total()} association(s) not read (only isChildOf is): {kinds}"
            )
        return links

    # --- The tree ----------------------------------------------------------------------

    def _objectives(
        self, items: dict[str, _Item], links: dict[str, list[_Link]]
    ) -> list[dict[str, Any]]:
        siblings: dict[str | None, list[tuple[tuple[bool, int, int], str]]] = {}
        orphans = several = 0
        for identifier, item in items.items():
            known = links.get(identifier)
            if not known:
                orphans += 1
                link = _Link(None, None, -1)
            else:
                several += len(known) > 1
                link = known[0]
            order = (link.sequence is None, link.sequence or 0, item.index)
            siblings.setdefault(link.parent, []).append((order, identifier))
        if orphans and links:
            self.warnings.append(
                f"{orphans} item(s) are in no isChildOf association: placed at the top level"
            )
        elif orphans:
            self.warnings.append("no isChildOf associations: every item is at the top level")
        if several:
            self.warnings.append(
                f"{several} item(s) are children of more than one parent: each is placed "
                "under its first"
            )
        children = {
            parent: [identifier for _order, identifier in sorted(entries)]
            for parent, entries in siblings.items()
        }

        objectives: list[dict[str, Any]] = []
        parent_of = {child: parent for parent, kids in children.items() for child in kids}
        strand: dict[str, _Item] = {}
        sub_strand: dict[str, _Item | None] = {}
        for position, (identifier, depth) in enumerate(depth_first(children), start=1):
            item = items[identifier]
            parent = parent_of[identifier]
            strand[identifier] = item if parent is None else strand[parent]
            sub_strand[identifier] = (
                None if depth == 1 else item if depth == 2 else sub_strand[parent]
            )
            below = sub_strand[identifier]
            objectives.append(
                {
                    "code": item.code,
                    "statement": item.statement,
                    "curriculum_years": item.years.label if item.years else None,
                    "strand": strand[identifier].label,
                    "sub_strand": below.label if below else None,
                    "is_key": False,
                    "position": position,
                    "parent_code": items[parent].code if parent is not None else None,
                }
            )
        return objectives


def _label(abbreviated: str, statement: str, code: str) -> str:
    """An item as a strand or sub-strand: its abbreviated statement, else its statement if
    short enough, else its code."""
    for candidate in (abbreviated, statement):
        if candidate and len(candidate) <= MAX_LABEL_LENGTH:
            return candidate
    return code


def _years(levels: Any, mapping: GradeMapping) -> tuple[CurriculumYears | None, bool]:
    """The curriculum years an ``educationLevel`` names, and whether it could be read (an
    absent or empty one reads as "no years" without complaint)."""
    if isinstance(levels, str):
        levels = levels.split(",")
    if not isinstance(levels, list):
        return None, levels is None
    names = [_text(level).upper() for level in levels if _text(level)]
    if not names:
        return None, True
    years = [curriculum_year_for(name, mapping) for name in names]
    if any(year is None for year in years):
        return None, False
    numbers = [year for year in years if year is not None]
    try:
        return CurriculumYears(min(numbers), max(numbers)), True
    except DomainError:
        return None, False
