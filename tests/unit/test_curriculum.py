"""Curriculum rules without a database: curriculum years, objective codes, hierarchies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.curriculum import (
    LAST_YEAR,
    MAX_CODE_LENGTH,
    MAX_SPAN_YEARS,
    MAX_STATEMENT_LENGTH,
    RECEPTION,
    CurriculumYears,
    check_label,
    check_objective_code,
    check_statement,
    check_unique_codes,
    depth_first,
    find_cycle,
)
from app.domain.errors import DomainError
from app.domain.pupils import YearGroup

years = st.integers(min_value=RECEPTION, max_value=LAST_YEAR)


@st.composite
def spans(draw: st.DrawFn) -> CurriculumYears:
    first = draw(years)
    last = draw(st.integers(min_value=first, max_value=min(LAST_YEAR, first + MAX_SPAN_YEARS - 1)))
    return CurriculumYears(first, last)


def label(year: int) -> str:
    return "R" if year == RECEPTION else str(year)


# --- CurriculumYears ---------------------------------------------------------------------


@given(spans())
def test_a_label_reads_back_as_the_same_years(value: CurriculumYears) -> None:
    assert CurriculumYears.parse(value.label) == value
    assert str(value) == value.label


@given(spans())
def test_contains_exactly_the_years_of_the_span(value: CurriculumYears) -> None:
    for year in range(RECEPTION, LAST_YEAR + 1):
        assert value.contains(year) is (value.first <= year <= value.last)
        assert value.contains(label(year)) is value.contains(year)
    assert list(value.years) == [y for y in range(RECEPTION, LAST_YEAR + 1) if value.contains(y)]
    assert value.span == len(value.years)


@given(spans())
def test_nursery_is_in_no_curriculum_years(value: CurriculumYears) -> None:
    assert not value.contains(YearGroup.N1)
    assert not value.contains("N2")


@given(years, years)
def test_any_pair_of_years_is_a_span_or_refused_with_the_field(first: int, last: int) -> None:
    text = f"{label(first)}-{label(last)}"
    if first <= last and last - first < MAX_SPAN_YEARS:
        parsed = CurriculumYears.parse(text)
        assert (parsed.first, parsed.last) == (first, last)
        assert parsed.label == (label(first) if first == last else text)
    else:
        with pytest.raises(DomainError) as caught:
            CurriculumYears.parse(text)
        assert caught.value.field == "curriculum_years"


@given(st.integers(min_value=-1000, max_value=1000))
def test_a_single_year_is_r_or_1_to_13(year: int) -> None:
    if 1 <= year <= LAST_YEAR:
        assert CurriculumYears.parse(str(year)) == CurriculumYears.single(year)
    else:
        with pytest.raises(DomainError):
            CurriculumYears.parse(str(year))


@given(st.text(max_size=8))
def test_parse_refuses_or_returns_a_valid_span(text: str) -> None:
    try:
        parsed = CurriculumYears.parse(text)
    except DomainError as exc:
        assert exc.field == "curriculum_years"
    else:
        assert RECEPTION <= parsed.first <= parsed.last <= LAST_YEAR
        assert parsed.span <= MAX_SPAN_YEARS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", "3"),
        ("03", "3"),
        (" 3-4 ", "3-4"),
        ("3 - 4", "3-4"),
        ("3\u20134", "3-4"),
        ("Y5", "5"),
        ("Year 5", "5"),
        ("Years 5-6", "5-6"),
        ("r", "R"),
        ("R-2", "R-2"),
        ("R-3", "R-3"),
        ("13", "13"),
        ("10-13", "10-13"),
    ],
)
def test_years_as_people_write_them(text: str, expected: str) -> None:
    assert CurriculumYears.parse(text).label == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0", "out of range"),
        ("14", "out of range"),
        ("5-3", "backwards"),
        ("abc", "not a year"),
        ("", "not a year"),
        ("N2", "not a year"),
        ("1-5", "at most 4"),
        ("R-4", "at most 4"),
        ("3-4-5", "not a year"),
        ("3.5", "not a year"),
        ("-3", "not a year"),
        ("\u0663", "not a year"),  # an Arabic-Indic three: int() would take it
    ],
)
def test_wrong_years_are_refused(text: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason) as caught:
        CurriculumYears.parse(text)
    assert caught.value.field == "curriculum_years"


def test_years_are_checked_when_built_directly() -> None:
    with pytest.raises(DomainError, match="backwards"):
        CurriculumYears(4, 3)
    with pytest.raises(DomainError, match="out of range"):
        CurriculumYears(-1, 2)
    with pytest.raises(DomainError, match="whole numbers"):
        CurriculumYears(True, 2)  # type: ignore[arg-type]


@given(spans(), spans())
def test_spans_order_by_first_year_then_last(a: CurriculumYears, b: CurriculumYears) -> None:
    assert (a < b) is ((a.first, a.last) < (b.first, b.last))


# --- Codes, statements, labels -------------------------------------------------------------


printable = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"))


@given(st.text(alphabet=printable, min_size=1, max_size=MAX_CODE_LENGTH))
def test_printable_codes_are_kept_as_they_are(code: str) -> None:
    assert check_objective_code(code) == code


@given(st.text(alphabet=printable, min_size=1, max_size=20), st.sampled_from([" ", "\t", "\n"]))
def test_codes_with_whitespace_at_an_end_are_refused(code: str, space: str) -> None:
    for bad in (space + code, code + space):
        with pytest.raises(DomainError, match="whitespace") as caught:
            check_objective_code(bad)
        assert caught.value.field == "code"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("", "empty"),
        ("x" * (MAX_CODE_LENGTH + 1), "at most 100"),
        ("EN1\x00a", "non-printable"),
        ("EN1\u200ba", "non-printable"),  # zero-width space
    ],
)
def test_bad_codes_are_refused(code: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason):
        check_objective_code(code)


def test_codes_may_have_spaces_inside() -> None:
    assert check_objective_code("MA 3.1") == "MA 3.1"


def test_statements_are_trimmed_and_must_say_something() -> None:
    assert check_statement("  Count to 10. ") == "Count to 10."
    with pytest.raises(DomainError, match="empty"):
        check_statement(" \n ")
    with pytest.raises(DomainError, match="at most 2000"):
        check_statement("x" * (MAX_STATEMENT_LENGTH + 1))


def test_labels_blank_is_none() -> None:
    assert check_label("  ", field="strand") is None
    assert check_label(None, field="strand") is None
    assert check_label(" Number ", field="strand") == "Number"
    with pytest.raises(DomainError) as caught:
        check_label("x" * 201, field="sub_strand")
    assert caught.value.field == "sub_strand"


@given(st.lists(st.sampled_from(["a", "b", "c", "d", "A"]), max_size=12))
def test_unique_codes_names_each_repeat_with_its_first_use(codes: list[str]) -> None:
    repeats = check_unique_codes(codes)
    assert len(repeats) == len(codes) - len(set(codes))
    for first, repeat in repeats:
        assert first < repeat
        assert codes[first] == codes[repeat]
        assert codes.index(codes[repeat]) == first
    assert [repeat for _first, repeat in repeats] == sorted(r for _f, r in repeats)


# --- Hierarchies -----------------------------------------------------------------------------


@st.composite
def forests(draw: st.DrawFn) -> dict[str, str | None]:
    """child -> parent (None at the top), each parent earlier in a hidden order."""
    size = draw(st.integers(min_value=0, max_value=30))
    names = [f"n{index}" for index in draw(st.permutations(range(size)))]
    parents: dict[str, str | None] = {}
    for index, name in enumerate(names):
        parents[name] = draw(st.sampled_from([None, *names[:index]]))
    return parents


@given(forests())
def test_a_forest_has_no_cycle_and_flattens_parents_first(parents: dict[str, str | None]) -> None:
    assert find_cycle({c: [p] if p else [] for c, p in parents.items()}) is None
    children: dict[str | None, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    order = depth_first(children)
    names = [name for name, _depth in order]
    assert sorted(names) == sorted(parents)
    place = {name: index for index, name in enumerate(names)}
    depth = dict(order)
    for child, parent in parents.items():
        if parent is None:
            assert depth[child] == 1
        else:
            assert place[parent] < place[child]
            assert depth[child] == depth[parent] + 1
    for kids in children.values():  # siblings keep their order
        assert [place[k] for k in kids] == sorted(place[k] for k in kids)


@given(forests(), st.data())
def test_a_closing_edge_is_found_as_a_cycle(parents: dict[str, str | None], data) -> None:
    if not parents:
        return
    node = data.draw(st.sampled_from(sorted(parents)))
    ancestors = [node]
    while parents[ancestors[-1]] is not None:
        ancestors.append(parents[ancestors[-1]])  # type: ignore[arg-type]
    top = ancestors[-1]
    graph = {c: [p] if p else [] for c, p in parents.items()}
    graph[top] = [node]  # the top now has its own descendant (or itself) as a parent
    cycle = find_cycle(graph)
    assert cycle is not None
    assert sorted(cycle) == sorted(ancestors)
    for index, name in enumerate(cycle):  # each a child of the next, the last of the first
        assert cycle[(index + 1) % len(cycle)] in graph[name]


def test_find_cycle_with_several_parents_and_a_long_chain() -> None:
    assert find_cycle({"a": ["b", "c"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["a"]}) == ["a"]
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(50_000)}
    assert find_cycle(chain) is None
    chain["n50000"] = ["n0"]
    assert len(find_cycle(chain) or []) == 50_001
