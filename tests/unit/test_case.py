"""The 1EdTech CASE 1.0 importer, on a real package and on broken ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.grades import GradeMapping
from app.importers.case import parse_case_package
from app.importers.errors import FileRejected
from app.importers.objectives import ImportedFramework
from tests.support.real_world import case_with_educational_level

REAL = Path(__file__).resolve().parents[2] / "examples" / "act-holistic-framework-math.json"
DOC = "doc-1"


def item(identifier: str, code: str | None = None, **extra: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "identifier": identifier,
        "fullStatement": f"Statement {identifier}",
        **extra,
    }
    if code is not None:
        value["humanCodingScheme"] = code
    return value


def child_of(child: str, parent: str, index: int | str = 0, **extra: Any) -> dict[str, Any]:
    return {
        "identifier": f"assoc-{child}-{parent}-{index}",
        "associationType": "isChildOf",
        "originNodeURI": {"identifier": child, "title": child},
        "destinationNodeURI": {"identifier": parent, "title": parent},
        **extra,
    }


def package(
    items: list[dict[str, Any]], associations: list[dict[str, Any]] | None, **document: Any
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "CFDocument": {"identifier": DOC, "title": "A framework", "creator": "A Trust", **document},
        "CFItems": items,
    }
    if associations is not None:
        value["CFAssociations"] = associations
    return value


def parse(value: Any) -> ImportedFramework:
    return parse_case_package(json.dumps(value).encode())


def rejected(value: Any) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        parse(value)
    return caught.value


# --- The real package ----------------------------------------------------------------------


def test_the_real_package_imports_cleanly() -> None:
    framework = parse_case_package(REAL.read_bytes(), filename=REAL.name)
    assert framework.title == "ACT Holistic Framework, Math"
    assert framework.source == "CASE: ACT, Inc."
    assert framework.subject is None
    assert framework.warnings == []
    objectives = framework.objectives
    assert len(objectives) == 28
    assert [o["position"] for o in objectives] == list(range(1, 29))
    by_code = {o["code"]: o for o in objectives}
    assert len(by_code) == 28
    assert objectives[0]["code"] == "H.A.MATH.GM"
    assert objectives[0]["parent_code"] is None
    # Four levels above the 24 leaves, each the only child of the one before.
    chain = ["H.A.MATH.GM", "H.A.MATH.GM.PF", "H.A.MATH.GM.PF.2DFP", "H.A.MATH.GM.PF.2DFP.L1"]
    assert [o["code"] for o in objectives[:4]] == chain
    assert [by_code[code]["parent_code"] for code in chain] == [None, *chain[:3]]
    leaves = objectives[4:]
    assert len(leaves) == 24
    assert all(o["parent_code"] == chain[-1] for o in leaves)
    assert {o["code"] for o in leaves} == {f"{chain[-1]}.{n}" for n in range(1, 25)}

    def depth(code: str) -> int:
        parent = by_code[code]["parent_code"]
        return 1 if parent is None else depth(parent) + 1

    assert max(depth(code) for code in by_code) == 5
    assert {o["strand"] for o in objectives} == {"Geometry and Measurement"}
    assert objectives[0]["sub_strand"] is None
    assert {o["sub_strand"] for o in objectives[1:]} == {"Plane Figures"}
    assert objectives[0]["statement"].startswith("Properties and measurements")
    assert all(o["curriculum_years"] is None and o["is_key"] is False for o in objectives)


# --- Reading -------------------------------------------------------------------------------


def test_sequence_numbers_order_siblings_and_the_rest_keep_file_order() -> None:
    items = [item("a", "A"), item("b", "B"), item("c", "C"), item("d", "D"), item("e", "E")]
    links = [
        child_of("a", DOC),
        child_of("b", "a"),
        child_of("c", "a", sequenceNumber=2),
        child_of("d", "a", sequenceNumber="1"),
        child_of("e", DOC),
    ]
    objectives = parse(package(items, links)).objectives
    assert [(o["code"], o["position"], o["parent_code"]) for o in objectives] == [
        ("A", 1, None),
        ("D", 2, "A"),
        ("C", 3, "A"),
        ("B", 4, "A"),
        ("E", 5, None),
    ]


def test_sourced_id_is_accepted_and_the_identifier_stands_in_for_a_missing_code() -> None:
    items = [
        {"sourcedId": "s-1", "fullStatement": "Top", "abbreviatedStatement": "Number"},
        {"sourcedId": "s-2", "fullStatement": "Middle", "humanCodingScheme": " N.1 "},
        {"sourcedId": "s-3", "fullStatement": "Leaf", "humanCodingScheme": ""},
    ]
    links = [
        {
            "sourcedId": "x1",
            "associationType": "isChildOf",
            "originNodeURI": {"sourcedId": "s-1"},
            "destinationNodeURI": {"sourcedId": DOC},
        },
        child_of("s-2", "s-1"),
        child_of("s-3", "s-2"),
    ]
    objectives = parse(package(items, links)).objectives
    assert [o["code"] for o in objectives] == ["s-1", "N.1", "s-3"]
    assert [(o["strand"], o["sub_strand"]) for o in objectives] == [
        ("Number", None),
        ("Number", "Middle"),
        ("Number", "Middle"),
    ]


def test_education_levels_become_curriculum_years() -> None:
    items = [
        item("a", "A", educationLevel=["03"]),
        item("b", "B", educationLevel=["KG", "01"]),
        item("c", "C", educationLevel=["05", "06"]),
        item("d", "D", educationLevel=["PK"]),
        item("e", "E", educationLevel=["01", "02", "03", "04", "05"]),
        item("f", "F", educationLevel=[]),
        item("g", "G", educationLevel="07"),
    ]
    framework = parse(package(items, [child_of(i["identifier"], DOC) for i in items]))
    years = [o["curriculum_years"] for o in framework.objectives]
    assert years == ["3", "R-1", "5-6", None, None, None, "7"]
    assert framework.warnings == [
        "2 item(s) have an educationLevel with no England curriculum year (or more than 4 "
        "years): imported without a curriculum year"
    ]


def test_document_subject_and_wrapping() -> None:
    value = package([item("a", "A")], [child_of("a", DOC)], subject=["Mathematics"])
    assert parse(value).subject == "Mathematics"
    assert parse({"CFPackage": value}).subject == "Mathematics"
    value = package([item("a", "A")], [child_of("a", DOC)], subject=["Maths", "Science"])
    assert parse(value).subject is None
    value = package([item("a", "A")], [child_of("a", DOC)], creator=None, publisher="Pub")
    assert parse(value).source == "CASE: Pub"


def test_other_associations_orphans_and_second_parents_are_warned_about() -> None:
    items = [item("a", "A"), item("b", "B"), item("c", "C"), item("d", "D")]
    links = [
        child_of("a", DOC),
        child_of("b", "a"),
        child_of("c", "a"),
        child_of("c", "b", 1),
        child_of("c", "a", 2),  # the same link again: not a second parent
        {**child_of("a", "b"), "associationType": "exactMatchOf"},
        {**child_of("a", "zzz"), "associationType": "isRelatedTo"},
        {**child_of("b", "zzz"), "associationType": "isRelatedTo"},
    ]
    framework = parse(package(items, links))
    assert [(o["code"], o["parent_code"]) for o in framework.objectives] == [
        ("A", None),
        ("B", "A"),
        ("C", "A"),
        ("D", None),
    ]
    assert framework.warnings == [
        "3 association(s) not read (only isChildOf is): 1 exactMatchOf, 2 isRelatedTo",
        "1 item(s) are in no isChildOf association: placed at the top level",
        "1 item(s) are children of more than one parent: each is placed under its first",
    ]


def test_a_package_without_associations_is_flat() -> None:
    framework = parse(package([item("a", "A"), item("b", "B")], None))
    assert [o["parent_code"] for o in framework.objectives] == [None, None]
    assert framework.warnings == ["no isChildOf associations: every item is at the top level"]


# --- Broken packages -----------------------------------------------------------------------


def test_a_dangling_parent_names_the_association() -> None:
    items = [item("a", "A"), item("b", "B")]
    problem = rejected(package(items, [child_of("a", DOC), child_of("b", "ghost")]))
    assert problem.where == "CFAssociations[1] (assoc-b-ghost-0)"
    assert "dangling" in problem.reason and "ghost" in problem.reason


def test_a_dangling_child_names_the_association() -> None:
    problem = rejected(package([item("a", "A")], [child_of("a", DOC), child_of("ghost", "a")]))
    assert problem.where == "CFAssociations[1] (assoc-ghost-a-0)"
    assert "dangling" in problem.reason and "ghost" in problem.reason


def test_an_association_without_ends_is_refused() -> None:
    link = child_of("a", DOC)
    del link["destinationNodeURI"]
    problem = rejected(package([item("a", "A")], [link]))
    assert "destinationNodeURI" in problem.reason


@pytest.mark.parametrize("size", [1, 2, 3])
def test_a_cycle_names_its_items(size: int) -> None:
    names = [f"n{index}" for index in range(size)]
    items = [item("top", "TOP"), *(item(name, name.upper()) for name in names)]
    links = [child_of("top", DOC), child_of(names[0], "top")]
    links += [child_of(names[i], names[(i + 1) % size], 1) for i in range(size)]
    problem = rejected(package(items, links))
    assert problem.where == "CFAssociations"
    assert "cycle" in problem.reason
    assert all(name.upper() in problem.reason for name in names)
    assert "TOP" not in problem.reason


def test_a_repeated_identifier_is_refused() -> None:
    problem = rejected(package([item("a", "A"), item("b", "B"), item("a", "C")], None))
    assert problem.where == "CFItems[2] (a)"
    assert "CFItems[0]" in problem.reason


def test_a_repeated_code_names_both_items() -> None:
    problem = rejected(package([item("a", "A"), item("b", "B"), item("c", "B")], None))
    assert problem.where == "CFItems[2]"
    assert "'B'" in problem.reason and "CFItems[1]" in problem.reason


@pytest.mark.parametrize(
    ("value", "where", "reason"),
    [
        ({"CFDocument": {"identifier": DOC}}, None, "no CFItems"),
        ({"CFItems": []}, None, "no CFDocument"),
        ([1, 2], None, "top level is not an object"),
        (package([], None), "CFItems", "no items"),
        ({**package([item("a")], None), "CFItems": {"a": 1}}, None, "no CFItems"),
        ({**package([item("a")], None), "CFAssociations": {}}, "CFAssociations", "list"),
        (package([item("a")], None, identifier=""), "CFDocument", "no identifier"),
        (package([{"fullStatement": "x"}], None), "CFItems[0]", "no identifier"),
        (package(["a"], None), "CFItems[0]", "must be an object"),
        (package([item("a", fullStatement=" ")], None), "CFItems[0] (a)", "statement is empty"),
        (package([item("a", "A", fullStatement=None)], None), "CFItems[0] (a)", "empty"),
        (package([item("a", "x" * 101)], None), "CFItems[0] (a)", "at most 100"),
        (package([item(DOC)], None), f"CFItems[0] ({DOC})", "CFDocument's identifier"),
        (package([item("a")], [child_of(DOC, "a")]), "CFAssociations[0]", "cannot be a child"),
    ],
)
def test_broken_packages(value: Any, where: str | None, reason: str) -> None:
    problem = rejected(value)
    assert (problem.where or "").startswith(where or "")
    if where is None:
        assert problem.where is None
    assert reason in problem.reason


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (b'{"CFDocument": {\n  "identifier": "x",\n  oops}', "line 3", "column 3"),
        (b"", "line 1", "not JSON"),
        (b"<CFDocument/>", "line 1", "not JSON"),
        (b'{"a": "\xff"}', "line 1", "not UTF-8"),
        (b"[" * 100_000, None, "nested too deeply"),
    ],
)
def test_not_json(data: bytes, where: str | None, reason: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_case_package(data, filename="pkg.json")
    assert caught.value.where == where
    assert reason in caught.value.reason
    assert str(caught.value).startswith("pkg.json")


def test_a_bom_is_fine() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(package([item("a", "A")], None)).encode()
    assert parse_case_package(data).objectives[0]["code"] == "A"


# --- Any forest ----------------------------------------------------------------------------


@st.composite
def forests(draw: st.DrawFn) -> tuple[list[str], dict[str, str | None], list[int]]:
    """Item identifiers in file order, each one's parent (None: the document), and the order
    the isChildOf associations are listed in."""
    size = draw(st.integers(min_value=1, max_value=40))
    hidden = [f"i{index}" for index in range(size)]  # parents come first in this order
    parents: dict[str, str | None] = {}
    for index, name in enumerate(hidden):
        parents[name] = draw(st.sampled_from([None, *hidden[:index]]))
    in_file = draw(st.permutations(hidden))
    link_order = draw(st.permutations(range(size)))
    return list(in_file), parents, list(link_order)


@given(forests(), st.booleans())
def test_any_forest_gives_every_item_once_parents_first(forest, sequenced: bool) -> None:
    names, parents, link_order = forest
    items = [item(name, f"C-{name}") for name in names]
    links = [
        child_of(
            name,
            parents[name] or DOC,
            **({"sequenceNumber": len(names) - position} if sequenced else {}),
        )
        for position, name in enumerate(names)
    ]
    links = [links[index] for index in link_order]
    objectives = parse(package(items, links)).objectives

    codes = [o["code"] for o in objectives]
    assert sorted(codes) == sorted(f"C-{name}" for name in names)
    assert [o["position"] for o in objectives] == list(range(1, len(names) + 1))
    place = {code: index for index, code in enumerate(codes)}
    for name, parent in parents.items():
        objective = objectives[place[f"C-{name}"]]
        assert objective["parent_code"] == (f"C-{parent}" if parent else None)
        if parent:
            assert place[f"C-{parent}"] < place[f"C-{name}"]
    # Siblings: file order, or reversed by their sequence numbers.
    for parent in {None, *parents.values()}:
        kids = [f"C-{name}" for name in names if parents[name] == parent]
        expected = kids[::-1] if sequenced else kids
        assert sorted(kids, key=place.__getitem__) == expected
    # The strand is the top ancestor, the sub-strand the second level.
    for name in names:
        chain = [name]
        while parents[chain[-1]] is not None:
            chain.append(parents[chain[-1]])  # type: ignore[arg-type]
        chain.reverse()
        objective = objectives[place[f"C-{name}"]]
        assert objective["strand"] == f"Statement {chain[0]}"
        assert objective["sub_strand"] == (f"Statement {chain[1]}" if len(chain) > 1 else None)


def test_educational_level_is_read_through_the_grade_mapping():
    england = parse_case_package(case_with_educational_level())
    years = {o["code"]: o["curriculum_years"] for o in england.objectives}
    assert years == {"RD": "R-1", "RD.1": "1", "RD.2": "R-1"}
    assert any("1 exactMatchOf" in warning for warning in england.warnings)
    us_age = parse_case_package(case_with_educational_level(), grade_mapping=GradeMapping.US_AGE)
    years = {o["code"]: o["curriculum_years"] for o in us_age.objectives}
    assert years == {"RD": "1-2", "RD.1": "2", "RD.2": "1-2"}
