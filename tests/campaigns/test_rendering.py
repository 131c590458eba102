"""Templates: personalisation with defaults, broken placeholders, hostile HTML, header injection."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cordee.campaigns.mime import HeaderInjection, mime_build
from cordee.campaigns.rendering import (
    check_blocks,
    check_subject,
    check_text,
    message_compile,
    message_render,
)


def render(blocks, values, subject="Objet", language="fr"):
    return message_render(message_compile(subject, check_blocks(blocks), "", language), values)


def test_placeholders_take_the_customer_value_or_a_safe_default():
    blocks = [
        {
            "type": "paragraph",
            "text": "Bonjour {{ first_name }}, vu à {{ last_stay }} ; {{favourite_activity}}.",
        }
    ]
    assert (
        "Bonjour Élodie, vu à Hôtel des Alpes ; ski."
        in render(
            blocks,
            {"first_name": "Élodie", "last_stay": "Hôtel des Alpes", "favourite_activity": "ski"},
        ).text
    )
    assert (
        "Bonjour cher visiteur, vu à votre dernier séjour ; nos activités."
        in render(blocks, {}).text
    )
    assert (
        "Hello dear visitor"
        in render([{"type": "paragraph", "text": "Hello {{ first_name }}"}], {}, language="en").text
    )


def test_an_explicit_default_wins_over_the_built_in_one():
    out = render(
        [{"type": "title", "text": '{{ first_name|default:"Chers amis" }} !'}], {"first_name": ""}
    )
    assert out.text.startswith("Chers amis !")


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour {{ prenom }}",
        "Bonjour {{ first_name",
        "Bonjour first_name }}",
        "{% if x %}oui{% endif %}",
        "{{ first_name|upper }}",
        "{{}}",
    ],
)
def test_broken_placeholders_are_refused_with_a_clear_message(text):
    with pytest.raises(ValidationError) as err:
        check_blocks([{"type": "paragraph", "text": text}])
    message = " ".join(err.value.messages)
    assert "Bloc 1" in message and ("personnalisation" in message or "inconnu" in message)


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "Cliquez <a href='x'>ici</a>",
        "<img src=x onerror=alert(1)>",
        "&#60;script&#62;",
        "<!-- x -->",
        "javascript:alert(1)",
    ],
)
def test_html_in_a_text_is_refused(text):
    with pytest.raises(ValidationError, match="HTML"):
        check_blocks([{"type": "paragraph", "text": text}])


def test_a_customer_value_with_markup_is_escaped_not_executed():
    out = render(
        [{"type": "paragraph", "text": "Bonjour {{ first_name }}"}],
        {"first_name": "<script>x</script>"},
    )
    assert "<script>" not in out.html and "&lt;script&gt;x&lt;/script&gt;" in out.html
    assert "Bonjour <script>x</script>" in out.text  # the text part is plain text


def test_a_less_than_sign_in_prose_is_fine_and_escaped():
    out = render([{"type": "paragraph", "text": "Prix < 50 € & plus"}], {})
    assert "Prix &lt; 50 € &amp; plus" in out.html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,x",
        "ftp://x.example/",
        "https://",
        "https://a.example/\nx",
        "https://a.example/ b",
        "//evil.example",
        'https://x.example/"onmouseover="x',
    ],
)
def test_only_http_links_are_accepted(url):
    with pytest.raises(ValidationError, match="adresse"):
        check_blocks([{"type": "button", "text": "Voir", "url": url}])


@pytest.mark.parametrize(
    "subject", ["Bonjour\r\nBcc: tous@example.org", "Bonjour\nX", "A\rB", "Promo\u2028ligne"]
)
def test_line_breaks_in_a_subject_are_refused(subject):
    with pytest.raises(ValidationError, match="retours à la ligne"):
        check_subject(subject)


def test_the_mime_builder_refuses_header_injection_whatever_the_caller_checked():
    with pytest.raises(HeaderInjection):
        mime_build(
            sender_name="Office",
            sender_email="a@b.example",
            to="x@y.example\r\nBcc: z@z.example",
            subject="S",
            text="t",
            html="h",
            message_id="<m@b>",
        )


def test_huge_and_malformed_input_is_refused():
    with pytest.raises(ValidationError, match="trop long"):
        check_text("x" * 10_000, "Bloc 1")
    with pytest.raises(ValidationError, match="Trop de blocs"):
        check_blocks([{"type": "paragraph", "text": "x"}] * 51)
    with pytest.raises(ValidationError, match="type inconnu"):
        check_blocks([{"type": "raw_html", "text": "x"}])
    with pytest.raises(ValidationError, match="liste"):
        check_blocks("not a list")
    with pytest.raises(ValidationError, match="contrôle"):
        check_text("a\x00b", "Bloc 1")
    with pytest.raises(ValidationError, match="texte attendu"):
        check_blocks([{"type": "paragraph", "text": ["x"]}])


def test_the_text_part_is_generated_from_the_blocks():
    blocks = [
        {"type": "title", "text": "Titre"},
        {"type": "button", "text": "Réserver", "url": "https://vallee.example/r"},
        {"type": "image", "text": "Le lac", "url": "https://vallee.example/lac.jpg"},
        {"type": "offer", "text": "-20 %", "url": "https://vallee.example/o"},
    ]
    out = render(blocks, {})
    assert out.text.splitlines()[:7] == [
        "Titre",
        "",
        "Réserver : https://vallee.example/r",
        "",
        "[Le lac]",
        "",
        "* -20 % : https://vallee.example/o",
    ]


def test_a_survey_block_draws_the_recipients_own_link_or_nothing():
    compiled = message_compile(
        "Objet",
        check_blocks([{"type": "survey", "text": "Votre avis, {{ first_name }} <3 ?"}]),
        "",
        "fr",
    )
    url = "https://vallee.example/enquete/?t=abc&x=1"
    out = message_render(compiled, {"first_name": "Zoé", "survey_url": url})
    assert '<a href="https://vallee.example/enquete/?t=abc&amp;x=1"' in out.html
    assert "Votre avis, Zoé &lt;3 ?</a>" in out.html
    assert f"Votre avis, Zoé <3 ? : {url}" in out.text
    assert compiled.links == []  # a per-recipient link, not one of the tracked ones
    empty = message_render(compiled, {"first_name": "Zoé"})
    assert "Votre avis" not in empty.html and "Votre avis" not in empty.text
    with pytest.raises(ValidationError, match="vide"):
        check_blocks([{"type": "survey", "text": "  "}])


def test_link_tokens_made_fast_are_the_signers_own(settings):
    from cordee.campaigns import links

    for kind, numbers in (("d", (12,)), ("k", (12, 3)), ("o", (987654321,))):
        token = links.token_make(kind, *numbers)
        assert token == links._SIGNER.sign(kind + ".".join(str(n) for n in numbers))
        assert links.token_read(token, kind) == list(numbers)
    assert links.token_read(links.token_make("d", 5)[:-1] + "x", "d") is None
    # Another secret key: other tokens (the derived key is not kept across keys).
    before = links.token_make("d", 5)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert links.token_make("d", 5) != before
