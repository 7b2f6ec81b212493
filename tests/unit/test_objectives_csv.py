"""The objectives CSV importer, on the shipped national curriculum and on bad files."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.curriculum import CurriculumYears
from app.importers.errors import FileRejected
from app.importers.objectives import ImportedFramework, parse_objectives_csv
from app.starter import NATIONAL_CURRICULUM_DIR, national_curriculum_files

HEADER = ["subject", "curriculum_year", "strand", "sub_strand", "code", "statement"]
OBJECTIVE_KEYS = {
    "code",
    "statement",
    "curriculum_years",
    "strand",
    "sub_strand",
    "is_key",
    "position",
    "parent_code",
}


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, *, bom: bool = False) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def row(code: str = "MA3.1", year: str = "3", **extra: str) -> list[str]:
    values = {
        "subject": "Mathematics",
        "curriculum_year": year,
        "strand": "Number",
        "sub_strand": "Place value",
        "code": code,
        "statement": f"Statement for {code}.",
        **extra,
    }
    return [values[column] for column in HEADER]


def rejected(data: bytes, *, filename: str = "objectives.csv") -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        parse_objectives_csv(data, filename=filename)
    return caught.value


# --- The national curriculum -----------------------------------------------------------------


EXPECTED = {
    "english": ("English", 153, {"1": 49, "2": 38, "3-4": 29, "5-6": 37}),
    "mathematics": ("Mathematics", 235, {"1": 27, "2": 35, "3": 33, "4": 42, "5": 49, "6": 49}),
    "science": (
        "Science",
        108,
        {"1": 12, "2": 11, "3": 20, "3-4": 9, "4": 19, "5": 16, "5-6": 6, "6": 15},
    ),
}


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_the_national_curriculum_imports_cleanly(stem: str) -> None:
    path = national_curriculum_files()[stem]
    framework = parse_objectives_csv(path.read_bytes(), filename=path.name)
    subject, count, by_year = EXPECTED[stem]
    assert isinstance(framework, ImportedFramework)
    assert framework.subject == subject
    assert framework.source == f"CSV: {stem}.csv"
    assert framework.title is None
    assert framework.warnings == []
    assert len(framework.objectives) == count
    assert Counter(o["curriculum_years"] for o in framework.objectives) == by_year
    assert [o["position"] for o in framework.objectives] == list(range(1, count + 1))
    assert len({o["code"] for o in framework.objectives}) == count
    for objective in framework.objectives:
        assert set(objective) == OBJECTIVE_KEYS
        assert objective["statement"] and objective["strand"] and objective["sub_strand"]
        assert objective["is_key"] is False
        assert objective["parent_code"] is None
        CurriculumYears.parse(objective["curriculum_years"])


def test_english_key_stage_2_is_set_out_in_two_year_spans() -> None:
    path = national_curriculum_files()["english"]
    objectives = parse_objectives_csv(path.read_bytes()).objectives
    first = objectives[0]
    assert first["code"] == "EN1.beginning-punctuate-sentences-capital-letter"
    assert first["strand"] == "Grammar and Vocabulary"
    assert first["sub_strand"] == "Vocabulary Grammar Punctuation"
    spans = {CurriculumYears.parse(o["curriculum_years"]) for o in objectives}
    assert CurriculumYears(3, 4) in spans and CurriculumYears(5, 6) in spans
    assert not any(years.contains(3) and years.span == 1 for years in spans)


def test_the_shipped_files_keep_their_licence() -> None:
    files = national_curriculum_files()
    assert set(files) == {"english", "mathematics", "science"}
    assert all(path.is_file() and path.parent == NATIONAL_CURRICULUM_DIR for path in files.values())
    readme = (NATIONAL_CURRICULUM_DIR / "README.md").read_text(encoding="utf-8")
    assert "Open Government Licence v3.0" in readme


# --- Good files ----------------------------------------------------------------------------


def test_a_bom_spans_blank_sub_strands_and_blank_lines_are_fine() -> None:
    data = csv_bytes(
        [row("A", "3-4"), ["", "", "", "", "", ""], row("B", "R", sub_strand="")], bom=True
    )
    framework = parse_objectives_csv(data)
    assert [(o["code"], o["curriculum_years"], o["sub_strand"]) for o in framework.objectives] == [
        ("A", "3-4", "Place value"),
        ("B", "R", None),
    ]
    assert [o["position"] for o in framework.objectives] == [1, 2]


def test_column_names_ignore_case_and_order_and_extra_columns_are_warned_about() -> None:
    header = ["Code", "Statement", "Notes", "Subject", "Curriculum_Year", "Strand", "Sub_Strand"]
    data = csv_bytes([["X1", "Do a thing.", "n/a", "Science", "Y5", "Physics", "Light"]], header)
    framework = parse_objectives_csv(data)
    assert framework.subject == "Science"
    assert framework.objectives[0]["curriculum_years"] == "5"
    assert framework.warnings == ["columns not read: notes"]


@pytest.mark.parametrize("column", ["key", "is_key"])
def test_a_key_column_flags_key_objectives(column: str) -> None:
    header = [*HEADER, column]
    values = ["yes", "", "No", "TRUE", "x", "0"]
    data = csv_bytes([[*row(f"C{i}"), value] for i, value in enumerate(values)], header)
    flags = [o["is_key"] for o in parse_objectives_csv(data).objectives]
    assert flags == [True, False, False, True, True, False]


def test_a_subject_may_be_blank_in_some_rows_or_differ_only_in_case() -> None:
    data = csv_bytes([row("A"), row("B", subject=""), row("C", subject=" mathematics ")])
    assert parse_objectives_csv(data).subject == "Mathematics"
    assert parse_objectives_csv(csv_bytes([row("A", subject="")])).subject is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["R", "1", "2", "3-4", "5-6", "10-13", "Year 7"]),
            st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_any_well_formed_file_keeps_every_row_in_order(rows: list[tuple[str, str, bool]]) -> None:
    header = [*HEADER, "key"]
    data = csv_bytes(
        [
            [*row(f"K{index}", year, statement=statement), "yes" if key else ""]
            for index, (year, statement, key) in enumerate(rows)
        ],
        header,
    )
    objectives = parse_objectives_csv(data).objectives
    assert [o["code"] for o in objectives] == [f"K{index}" for index in range(len(rows))]
    for objective, (year, statement, key) in zip(objectives, rows, strict=True):
        assert objective["curriculum_years"] == CurriculumYears.parse(year).label
        assert objective["statement"] == statement.strip()
        assert objective["is_key"] is key


# --- Bad files -----------------------------------------------------------------------------


@pytest.mark.parametrize("missing", HEADER)
def test_a_missing_column_is_named(missing: str) -> None:
    header = [column for column in HEADER if column != missing]
    problem = rejected(csv_bytes([["x"] * len(header)], header))
    assert problem.where == "row 1"
    assert f"missing column {missing}" in problem.reason


@pytest.mark.parametrize("year", ["0", "14", "5-3", "abc", "1-6", "N1", ""])
def test_a_wrong_year_names_its_row(year: str) -> None:
    problem = rejected(csv_bytes([row("A"), row("B"), row("C", year)]), filename="maths.csv")
    assert problem.where == "row 4"
    assert "curriculum" in problem.reason
    assert str(problem).startswith("maths.csv, row 4: ")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"code": ""}, "code is empty"),
        ({"statement": "  "}, "statement is empty"),
        ({"strand": ""}, "strand is empty"),
        ({"code": "A\u200bB"}, "non-printable"),
        ({"code": "x" * 101}, "at most 100"),
        ({"statement": "x" * 2001}, "at most 2000"),
    ],
)
def test_a_bad_value_names_its_row(bad: dict[str, str], reason: str) -> None:
    values = dict(zip(HEADER, row("B"), strict=True)) | bad
    problem = rejected(csv_bytes([row("A"), [values[c] for c in HEADER]]))
    assert problem.where == "row 3"
    assert reason in problem.reason


def test_duplicate_codes_name_both_rows() -> None:
    problem = rejected(csv_bytes([row("A"), row("B"), ["", "", "", "", "", ""], row("A")]))
    assert problem.where == "row 5"
    assert "'A'" in problem.reason and "row 2" in problem.reason


def test_codes_differing_only_in_case_are_different() -> None:
    assert len(parse_objectives_csv(csv_bytes([row("ma1"), row("MA1")])).objectives) == 2


def test_two_subjects_in_one_file_are_refused() -> None:
    problem = rejected(csv_bytes([row("A"), row("B", subject="Science")]))
    assert problem.where == "row 3"
    assert "Science" in problem.reason and "Mathematics" in problem.reason


def test_a_bad_key_value_names_its_row() -> None:
    problem = rejected(csv_bytes([[*row("A"), "maybe"]], [*HEADER, "key"]))
    assert problem.where == "row 2"
    assert "maybe" in problem.reason


@pytest.mark.parametrize(
    ("data", "where", "reason"),
    [
        (b"", None, "empty file"),
        (csv_bytes([]), None, "no objectives"),
        (csv_bytes([row("A")]).replace(b"Number", b"N\xe9mber"), "line 2", "not UTF-8"),
        (csv_bytes([row("A")], [*HEADER[:-1], "code"]), "row 1", "repeated"),
        (csv_bytes([row("A")[:-1]]), "row 2", "5 fields"),
        (csv_bytes([row("A")], [*HEADER, "key", "is_key"]), "row 1", "both key and is_key"),
    ],
)
def test_unreadable_files(data: bytes, where: str | None, reason: str) -> None:
    problem = rejected(data)
    assert problem.where == where
    assert reason in problem.reason


def test_too_many_objectives_are_refused() -> None:
    data = csv_bytes([row(f"C{index}") for index in range(10_001)])
    assert "more than 10000" in rejected(data).reason
