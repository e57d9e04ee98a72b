"""Search parameters: parsing, repairing, and rebuilding URLs (pure functions)."""

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from web.params import FACET_PARAMS, ParamError, SearchState, ToggleLinks, page_window, parse_state


def parse(pairs, strict=False):
    return parse_state(MultiDict(pairs), strict=strict)


def test_defaults():
    state = parse([])
    assert state == SearchState()
    assert state.effective_sort == "date"   # no words: newest first
    assert state.args() == []


def test_filters_dates_sort_and_page_are_read():
    state = parse([("q", "  logement   social "), ("theme", "éducation"), ("theme", "santé"),
                   ("theme", "éducation"), ("kind", "juridique"), ("from", "2024-01-01"),
                   ("to", "2024-12-31"), ("sort", "date"), ("page", "3")])
    assert state.q == "logement social"
    assert state.filters == {"theme": ("éducation", "santé"), "kind": ("juridique",)}
    assert (state.date_from, state.date_to) == (date(2024, 1, 1), date(2024, 12, 31))
    assert state.sort == "date" and state.page == 3 and not state.problems
    request = state.request(per_page=20)
    assert request.filters == {"theme": ("éducation", "santé"), "kind": ("juridique",)}
    assert request.per_page == 20 and request.page == 3 and request.sort == "date"


def test_bad_values_are_repaired_with_a_french_notice():
    state = parse([("from", "hier"), ("sort", "popularité"), ("page", "abc")])
    assert state.date_from is None and state.sort == "relevance" and state.page == 1
    assert len(state.problems) == 2
    assert "AAAA-MM-JJ" in state.problems[0] and "pertinence" in state.problems[1]


def test_inverted_dates_are_swapped():
    state = parse([("from", "2025-02-01"), ("to", "2024-02-01")])
    assert (state.date_from, state.date_to) == (date(2024, 2, 1), date(2025, 2, 1))
    assert "inversées" in state.problems[0]


def test_page_is_clamped():
    assert parse([("page", "-4")]).page == 1
    assert parse([("page", "99999")]).page == 1000


@pytest.mark.parametrize("pairs, message", [
    ([("page", "x")], "page"), ([("page", "0")], "page"), ([("sort", "x")], "sort"),
    ([("from", "2024-13-01")], "date"), ([("q", "a" * 501)], "q"),
])
def test_strict_parsing_refuses(pairs, message):
    with pytest.raises(ParamError, match=message):
        parse(pairs, strict=True)


def test_toggle_adds_and_removes_and_resets_page():
    state = parse([("q", "ville"), ("page", "4"), ("theme", "santé")])
    added = state.toggled("theme", "éducation")
    assert added.filters["theme"] == ("santé", "éducation") and added.page == 1
    removed = added.toggled("theme", "santé").toggled("theme", "éducation")
    assert "theme" not in removed.filters
    assert removed.args() == [("q", "ville")]


@pytest.mark.parametrize("pairs", [
    [],
    [("q", "ville")],
    [("q", "a&b=c d+é"), ("page", "3")],
    [("theme", "santé")],
    [("q", "logement"), ("theme", "santé"), ("theme", "emploi & insertion"), ("kind", "juridique"),
     ("year", "2020"), ("from", "2020-01-01"), ("to", "2021-02-03"), ("sort", "date"), ("page", "2")],
    [("territory", "Fort-de-France"), ("source", "a/b?c#d"), ("sort", "date")],
])
def test_toggle_links_equal_the_toggled_states_query_strings(pairs):
    state = parse(pairs)
    links = ToggleLinks(state)
    candidates = ["santé", "emploi & insertion", "juridique", "2020", "Fort-de-France", "a/b?c#d",
                  "nouveau", "é è+%"]
    for param in (*FACET_PARAMS, "unknown"):
        for value in candidates:
            assert links.query_string(param, value) == state.toggled(param, value).query_string(), \
                (param, value)


def test_args_round_trip():
    pairs = [("q", "a b"), ("kind", "juridique"), ("theme", "santé"), ("from", "2024-01-01"),
             ("sort", "date"), ("page", "2")]
    state = parse(pairs)
    assert parse(state.args()) == state
    assert state.query_string() == "q=a+b&kind=juridique&theme=sant%C3%A9&from=2024-01-01&sort=date&page=2"
    assert state.cleared().args() == [("q", "a b"), ("sort", "date")]
    assert state.without_dates().date_from is None


def test_page_window():
    assert page_window(1, 1) == [1]
    assert page_window(1, 5) == [1, 2, 3, None, 5]
    assert page_window(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page_window(2, 4) == [1, 2, 3, 4]
