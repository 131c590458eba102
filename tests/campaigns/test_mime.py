"""Subjects in any script survive the trip, dots and line ends are what SMTP expects."""

from __future__ import annotations

import email
from email import policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cordee.campaigns.mailer import _data
from cordee.campaigns.mime import HeaderInjection, encode_header, mime_build


def built(subject: str, text: str = "Bonjour", html: str = "<p>Bonjour</p>") -> bytes:
    return mime_build(
        sender_name="Office de tourisme de la Vallée",
        sender_email="bonjour@vallee.example",
        to="elodie@example.fr",
        subject=subject,
        text=text,
        html=html,
        message_id="<cordee.1.2@vallee.example>",
        unsubscribe_url="https://crm.vallee.example/c/d/TOKEN/",
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Élodie, l'hiver arrive ❄",
        "Zoé 🏔️🎿 " * 12,  # four-byte characters across several encoded words
        "日本語のお客様へ、冬のお知らせです。" * 3,
        "Plain ASCII subject",
    ],
)
def test_a_subject_reads_back_exactly_with_the_standard_parser(subject):
    message = email.message_from_bytes(built(subject), policy=policy.default)
    assert message["Subject"] == subject
    assert not message.defects
    for line in built(subject).split(b"\r\n\r\n")[0].split(b"\r\n"):
        assert len(line) <= 998


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=200))
def test_any_subject_survives_encoding(subject):
    folded = encode_header(subject)
    assert "\n" not in folded.replace("\r\n ", "")
    message = email.message_from_bytes(
        f"Subject: {folded}\r\n\r\n".encode("ascii"), policy=policy.default
    )
    assert message["Subject"] == subject.strip() or message["Subject"] == subject


@pytest.mark.parametrize("subject", ["Bonjour\r\nBcc: x@evil.example", "Hé\nBcc: x@evil.example"])
def test_a_line_break_in_a_subject_is_refused(subject):
    with pytest.raises(HeaderInjection):
        built(subject)


def test_the_data_section_is_dot_stuffed_and_ends_in_crlf():
    assert _data(b".first\r\nline\r\n.second\r\n") == b"..first\r\nline\r\n..second\r\n"
    assert _data(b"bare\nfeeds\n.dot") == b"bare\r\nfeeds\r\n..dot\r\n"
    message = built("Sujet", text=".\nune ligne qui commence par un point\n.")
    data = _data(message)
    assert b"\r\n.\r\n" not in data  # never an early end of the message
    assert data.replace(b"\r\n..", b"\r\n.") == message
