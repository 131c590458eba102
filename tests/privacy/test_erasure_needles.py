"""Finding the people of an erasure batch in stored text (rejected import lines, kept API
answers): the needle index gives the same owner as testing every needle with ``in``."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cordee.privacy.erasure import _Needles, _Person


def brute(people: list[_Person], text: str) -> int | None:
    return min((p.pk for p in people if any(n in text for n in p.needles)), default=None)


def person(pk: int, *needles: str) -> _Person:
    return _Person(pk, "", "", list(needles))


PEOPLE = [
    person(7, "jean.dupont@orange.fr", "+33612345678"),
    person(3, "a.b@c.de", "+4915112345678"),
    person(12, "dupont@orange.fr"),  # a suffix of another person's address
    person(5, "x@y.com", "+33612345678"),  # the same phone as person 7
    person(9, "ab-cdef"),  # neither an e-mail nor an E.164 number
]


def test_the_first_person_named_owns_the_text():
    index = _Needles(PEOPLE)
    cases = {
        "durand\x00jean.dupont@orange.fr\x0006": 7,  # 12's address is in it too: 7 < 12
        "mailto:dupont@orange.fr;": 12,
        "tél. +33612345678": 5,
        "+4915112345678 et jean.dupont@orange.fr": 3,
        "a.b@c.de.example": 3,
        "contact@orange.fr": None,
        "ab-cdefg": 9,
        "@@++": None,
        "": None,
    }
    for text, owner in cases.items():
        assert index.owner(text) == owner == brute(PEOPLE, text), text


fragments = st.sampled_from(
    [n for p in PEOPLE for n in p.needles] + ["@", "+", "orange.fr", "jean.", "336", "\x00", " "]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(fragments, st.text(alphabet="ab.@+-0123456789", max_size=6))))
def test_same_owner_as_testing_each_needle(parts):
    text = "".join(parts)
    assert _Needles(PEOPLE).owner(text) == brute(PEOPLE, text)


def test_no_needles_is_falsy():
    assert not _Needles([person(1)])
