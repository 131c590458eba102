"""Tokens signed with the key derived once are Django's own, byte for byte."""

from __future__ import annotations

import time

import pytest
from django.core import signing

from cordee.core import signing as fast_signing


@pytest.mark.parametrize(
    ("payload", "compress"),
    [
        ({"c": 123456, "k": 1763860000, "e": 1766460000}, True),
        ({"a": 7, "c": 1, "k": 0, "e": 2}, False),
        ({"text": "x" * 400}, True),  # long enough for zlib to win: the "." prefix
    ],
)
def test_tokens_are_the_ones_django_makes(payload, compress, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 1_763_900_000.5)
    ours = fast_signing.dumps(payload, salt="cordee.test", compress=compress)
    assert ours == signing.dumps(payload, salt="cordee.test", compress=compress)
    assert signing.loads(ours, salt="cordee.test") == payload
    with pytest.raises(signing.BadSignature):
        signing.loads(ours, salt="cordee.other")


def test_a_new_secret_key_signs_with_the_new_key(settings):
    first = fast_signing.dumps({"c": 1}, salt="s")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    second = fast_signing.dumps({"c": 1}, salt="s")
    assert signing.loads(second, salt="s") == {"c": 1}
    with pytest.raises(signing.BadSignature):
        signing.loads(first, salt="s")
