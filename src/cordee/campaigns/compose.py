"""A campaign's message for one recipient: personalised, with its links, footer and headers."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils import translation
from django.utils.translation import gettext as _

from cordee.campaigns import links as signed
from cordee.campaigns.conf import provider_metadata_headers
from cordee.campaigns.mime import mime_build
from cordee.campaigns.models import Campaign
from cordee.campaigns.rendering import Compiled, Rendered, message_compile, message_render
from cordee.customers.models import Customer


def language_of(customer: Customer) -> str:
    return "en" if (customer.language or "").lower().startswith("en") else "fr"


@dataclass
class Recipient:
    customer: Customer
    delivery_id: int  # 0 for a preview or a test send
    language: str
    values: dict[str, str]
    tracked: bool = False


class Composer:
    """Compiles the campaign's message once per language and renders recipients from it."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self._compiled: dict[str, Compiled] = {}
        self.domain = campaign.sender_email.rpartition("@")[2] or "cordee.invalid"

    def compiled(self, language: str) -> Compiled:
        if language not in self._compiled:
            subject, blocks, sms = self.campaign.message.variant(language)
            self._compiled[language] = message_compile(subject, blocks, sms, language)
        return self._compiled[language]

    def _footer(self, r: Recipient) -> tuple[str, str]:
        with translation.override(r.language):
            why = _(
                "Vous recevez ce message de %(sender)s car vous avez accepté : %(purpose)s."
            ) % {
                "sender": self.campaign.sender_name,
                "purpose": self.campaign.purpose.name,
            }
            prefs_label, unsub_label = _("Gérer mes préférences"), _("Se désinscrire")
        prefs = signed.preference_link(r.customer)
        unsub = signed.unsubscribe_url(r.delivery_id) if r.delivery_id else prefs
        html = (
            '<hr style="border:0;border-top:1px solid #ddd;margin:24px 0 12px">'
            f'<p style="font:12px/1.5 Arial,sans-serif;color:#666">{escape(why)}<br>'
            f'<a href="{escape(prefs)}">{escape(prefs_label)}</a> · '
            f'<a href="{escape(unsub)}">{escape(unsub_label)}</a></p>'
        )
        if r.tracked and r.delivery_id:
            html += (
                f'<img src="{escape(signed.open_url(r.delivery_id))}" width="1" height="1" alt="">'
            )
        text = f"--\n{why}\n{prefs_label} : {prefs}\n{unsub_label} : {unsub}\n"
        return html, text

    def render(self, r: Recipient) -> Rendered:
        compiled = self.compiled(r.language)
        urls = None
        if r.tracked and r.delivery_id:
            urls = [signed.click_url(r.delivery_id, i) for i in range(len(compiled.links))]
        footer_html, footer_text = self._footer(r)
        return message_render(
            compiled, r.values, links=urls, footer_html=footer_html, footer_text=footer_text
        )

    def sms_text(self, r: Recipient) -> str:
        compiled = self.compiled(r.language)
        stop = " Rép. STOP pour arrêter" if r.language == "fr" else " Reply STOP to opt out"
        text = message_render(compiled, r.values).sms
        return text if "STOP" in text else text + stop

    def message_id(self, delivery_id: int, suffix: str = "") -> str:
        return f"<cordee.{self.campaign.pk}.{delivery_id}{suffix}@{self.domain}>"

    def email_bytes(
        self, r: Recipient, *, subject_prefix: str = "", to: str = ""
    ) -> tuple[bytes, str]:
        rendered = self.render(r)
        message_id = self.message_id(r.delivery_id, "" if r.delivery_id else ".test")
        data = mime_build(
            sender_name=self.campaign.sender_name,
            sender_email=self.campaign.sender_email,
            to=to or r.customer.email,
            subject=subject_prefix + rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
            unsubscribe_url=signed.unsubscribe_url(r.delivery_id) if r.delivery_id else "",
            reply_to=self.campaign.reply_to,
            extra_headers=provider_metadata_headers(r.delivery_id),
        )
        return data, message_id
