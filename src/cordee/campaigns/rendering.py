"""From structured blocks to a subject, an HTML part, a text part (and an SMS text).

No raw HTML is accepted: every text is escaped when the HTML is built, and a text that holds
markup is refused with a message saying why, so that a marketer never believes a ``<b>`` or a
``<script>`` will do something. Placeholders are ``{{ first_name }}`` or
``{{ first_name|default:"ami" }}``; anything else between ``{{ }}`` (or a lone ``{{``, a
``{%``) is refused before the campaign can be saved.

A message is compiled once per language into pieces (literal text, placeholder); rendering a
recipient is then a join, which keeps 100,000 personalised mails cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BLOCK_TYPES = ("title", "paragraph", "button", "image", "offer", "survey")
MAX_TEXT = 5_000
MAX_URL = 500
MAX_BLOCKS = 50
MAX_SUBJECT = 200
MAX_SMS = 612  # four concatenated SMS parts

# name -> (default in French, default in English) when the customer's value is empty.
PLACEHOLDERS: dict[str, tuple[str, str]] = {
    "first_name": ("cher visiteur", "dear visitor"),
    "last_name": ("", ""),
    "last_stay": ("votre dernier séjour", "your last stay"),
    "last_stay_date": ("récemment", "recently"),
    "favourite_activity": ("nos activités", "our activities"),
    "loyalty_group": ("nos visiteurs", "our visitors"),
}
_PLACEHOLDER = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*default\s*:\s*\"([^\"{}<>\r\n]{0,100})\"\s*)?\}\}"
)
_LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!]|&#|javascript:", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029]")
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")


# --- checking -------------------------------------------------------------------------------


def check_text(text: Any, where: str, *, limit: int = MAX_TEXT) -> str:
    if not isinstance(text, str):
        raise ValidationError(_("%(where)s : texte attendu.") % {"where": where})
    if len(text) > limit:
        raise ValidationError(
            _("%(where)s : texte trop long (%(n)s caractères, %(max)s au plus).")
            % {"where": where, "n": len(text), "max": limit}
        )
    if _CONTROL.search(text):
        raise ValidationError(_("%(where)s : caractère de contrôle interdit.") % {"where": where})
    if _MARKUP.search(text):
        raise ValidationError(
            _(
                "%(where)s : le HTML n'est pas accepté (« %(found)s »). Écrivez du texte simple : "
                "la mise en forme vient des blocs."
            )
            % {"where": where, "found": _MARKUP.search(text).group(0)}  # type: ignore[union-attr]
        )
    _check_placeholders(text, where)
    return text


def _check_placeholders(text: str, where: str) -> None:
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            raise ValidationError(
                _(
                    "%(where)s : champ de personnalisation inconnu « %(name)s » (connus : %(known)s)."
                )
                % {"where": where, "name": match.group(1), "known": ", ".join(PLACEHOLDERS)}
            )
    rest = _PLACEHOLDER.sub("", text)
    leftover = _LEFTOVER.search(rest)
    if leftover:
        raise ValidationError(
            _(
                "%(where)s : personnalisation mal formée près de « %(near)s » ; écrivez par "
                "exemple {{ first_name }}."
            )
            % {"where": where, "near": rest[max(0, leftover.start() - 10) : leftover.end() + 10]}
        )


def check_url(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise ValidationError(_("%(where)s : adresse du lien manquante.") % {"where": where})
    url = url.strip()
    if len(url) > MAX_URL or _CONTROL.search(url) or any(c.isspace() for c in url):
        raise ValidationError(_("%(where)s : adresse du lien invalide.") % {"where": where})
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            _("%(where)s : seules les adresses http:// et https:// sont acceptées.")
            % {"where": where}
        )
    if "{{" in url or "}}" in url or '"' in url or "<" in url or ">" in url:
        raise ValidationError(_("%(where)s : adresse du lien invalide.") % {"where": where})
    return url


def check_subject(subject: Any, *, required: bool = True) -> str:
    if not isinstance(subject, str):
        raise ValidationError(_("Objet : texte attendu."))
    if _LINE_BREAK.search(subject):
        raise ValidationError(_("Objet : les retours à la ligne sont interdits dans un objet."))
    subject = subject.strip()
    if required and not subject:
        raise ValidationError(_("Objet : il est obligatoire pour un e-mail."))
    return check_text(subject, _("Objet"), limit=MAX_SUBJECT)


def check_blocks(blocks: Any) -> list[dict[str, str]]:
    """The blocks as stored, or a ValidationError naming the block and what is wrong."""
    if not isinstance(blocks, list):
        raise ValidationError(_("Les blocs doivent former une liste."))
    if len(blocks) > MAX_BLOCKS:
        raise ValidationError(_("Trop de blocs (%(max)s au plus).") % {"max": MAX_BLOCKS})
    clean: list[dict[str, str]] = []
    for number, block in enumerate(blocks, start=1):
        where = _("Bloc %(n)s") % {"n": number}
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            raise ValidationError(
                _("%(where)s : type inconnu (attendu : %(types)s).")
                % {"where": where, "types": ", ".join(BLOCK_TYPES)}
            )
        kind = block["type"]
        item = {"type": kind, "text": check_text(block.get("text") or "", where)}
        if kind in {"title", "paragraph", "offer", "button", "survey"} and not item["text"].strip():
            raise ValidationError(_("%(where)s : le texte est vide.") % {"where": where})
        if kind in {"button", "image"} or (kind == "offer" and block.get("url")):
            item["url"] = check_url(block.get("url"), where)
        clean.append(item)
    return clean


def check_sms(text: Any) -> str:
    return check_text(text or "", _("SMS"), limit=MAX_SMS)


# --- compiling and rendering ------------------------------------------------------------------

Piece = str | tuple[str, str | None]  # literal, or (placeholder, explicit default)


def _pieces(text: str) -> list[Piece]:
    out: list[Piece] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        if match.start() > pos:
            out.append(text[pos : match.start()])
        out.append((match.group(1), match.group(2)))
        pos = match.end()
    if pos < len(text):
        out.append(text[pos:])
    return out


@dataclass
class Compiled:
    """A message in one language, ready to be rendered for many recipients."""

    language: str
    subject: list[Piece]
    html: list[Piece | int]  # an int is a link slot: its URL (tracked or not) goes there
    text: list[Piece | int]
    sms: list[Piece]
    links: list[str] = field(default_factory=list)
    # The label of each survey button: a piece ("@survey", i) draws button i with the
    # recipient's own survey link, or nothing for a recipient without a stay to ask about.
    surveys: list[list[Piece]] = field(default_factory=list)


SURVEY = "@survey"

_STYLE = {
    "title": "font:bold 22px/1.3 Arial,sans-serif;color:#1d3557;margin:0 0 16px",
    "paragraph": "font:16px/1.5 Arial,sans-serif;color:#222;margin:0 0 16px",
    "button": (
        "display:inline-block;background:#1d6fa5;color:#fff;padding:12px 20px;"
        "border-radius:4px;text-decoration:none;font:bold 16px Arial,sans-serif"
    ),
    "offer": (
        "border:2px dashed #e07a1f;padding:12px 16px;margin:0 0 16px;"
        "font:16px/1.5 Arial,sans-serif;color:#222"
    ),
}


def _escaped(pieces: list[Piece]) -> list[Piece]:
    return [escape(p) if isinstance(p, str) else p for p in pieces]


def message_compile(
    subject: str, blocks: list[dict[str, str]], sms: str, language: str
) -> Compiled:
    compiled = Compiled(
        language=language, subject=_pieces(subject), html=[], text=[], sms=_pieces(sms)
    )
    html, text = compiled.html, compiled.text
    html.append(
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width"></head>'
        '<body style="margin:0;background:#f4f4f4"><div style="max-width:600px;margin:0 auto;'
        'background:#fff;padding:24px">'
    )

    def link(url: str) -> int:
        compiled.links.append(url)
        return len(compiled.links) - 1

    for block in blocks:
        kind, body = block["type"], block.get("text", "")
        if kind == "title":
            html += [f'<h1 style="{_STYLE["title"]}">', *_escaped(_pieces(body)), "</h1>"]
            text += [*_pieces(body), "\n\n"]
        elif kind == "paragraph":
            html += [f'<p style="{_STYLE["paragraph"]}">', *_escaped(_pieces(body)), "</p>"]
            text += [*_pieces(body), "\n\n"]
        elif kind == "button":
            slot = link(block["url"])
            html += ['<p style="margin:0 0 16px"><a href="', slot, f'" style="{_STYLE["button"]}">']
            html += [*_escaped(_pieces(body)), "</a></p>"]
            text += [*_pieces(body), " : ", slot, "\n\n"]
        elif kind == "image":
            # The image is fetched from where it lives: no tracking through it, no copy here.
            alt = _escaped(_pieces(body)) if body else [""]
            html += [f'<p style="margin:0 0 16px"><img src="{escape(block["url"])}" alt="']
            html += [*alt, '" style="max-width:100%;height:auto" width="552"></p>']
            if body:
                text += ["[", *_pieces(body), "]\n\n"]
        elif kind == "survey":
            # The recipient's own link (a signed token per stay): not tracked by redirect.
            compiled.surveys.append(_pieces(body))
            slot_piece: Piece = (SURVEY, str(len(compiled.surveys) - 1))
            html.append(slot_piece)
            text.append(slot_piece)
        elif kind == "offer":
            html += [f'<div style="{_STYLE["offer"]}">', *_escaped(_pieces(body))]
            text += ["* ", *_pieces(body)]
            if block.get("url"):
                slot = link(block["url"])
                html += [' <a href="', slot, '">', escape(_("En profiter")), "</a>"]
                text += [" : ", slot]
            html.append("</div>")
            text.append("\n\n")
    html.append("<!--footer-->")
    return compiled


def _value(name: str, explicit: str | None, values: dict[str, str], language: str) -> str:
    value = values.get(name) or ""
    if value:
        return _LINE_BREAK.sub(" ", value)
    if explicit is not None:
        return explicit
    fr, en = PLACEHOLDERS[name]
    return en if language == "en" else fr


def _survey(label: list[Piece], values: dict[str, str], language: str, html: bool) -> str:
    url = values.get("survey_url") or ""
    if not url:
        return ""
    text = _join(_escaped(label) if html else label, values, language, [], html)
    if not html:
        return f"{text} : {url}\n\n"
    return (
        f'<p style="margin:0 0 16px"><a href="{escape(url)}" style="{_STYLE["button"]}">'
        f"{text}</a></p>"
    )


def _join(
    pieces: list[Any],
    values: dict[str, str],
    language: str,
    links: list[str],
    html: bool,
    surveys: list[list[Piece]] | None = None,
) -> str:
    out: list[str] = []
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
        elif isinstance(piece, int):
            out.append(escape(links[piece]) if html else links[piece])
        elif piece[0] == SURVEY:
            out.append(_survey((surveys or [])[int(piece[1])], values, language, html))
        else:
            value = _value(piece[0], piece[1], values, language)
            out.append(escape(value) if html else value)
    return "".join(out)


@dataclass
class Rendered:
    subject: str
    html: str
    text: str
    sms: str


def message_render(
    compiled: Compiled,
    values: dict[str, str],
    *,
    links: list[str] | None = None,
    footer_html: str = "",
    footer_text: str = "",
) -> Rendered:
    """One recipient's message. ``links`` replaces the template's URLs (tracked redirects)."""
    lang = compiled.language
    urls = links if links is not None else compiled.links
    html = _join(compiled.html, values, lang, urls, True, compiled.surveys)
    html = html.replace("<!--footer-->", footer_html + "</div></body></html>")
    text = (
        _join(compiled.text, values, lang, urls, False, compiled.surveys).rstrip()
        + "\n\n"
        + footer_text
    )
    return Rendered(
        subject=_join(compiled.subject, values, lang, urls, False),
        html=html,
        text=text,
        sms=_join(compiled.sms, values, lang, urls, False),
    )
