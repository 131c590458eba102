"""A campaign's message for one recipient: personalised, with its links, footer and headers."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils import translation
from django.utils.translation import gettext as _

from cordee.campaigns import links as signed
from cordee.campaigns.conf import provider_metadata_headers
from cordee.campaigns.mime import HeaderInjection, mime_build
from cordee.campaigns.models import Campaign, Message, Variant
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
    variant_id: int | None = None  # an A/B test row's variant; None: the campaign's message


class Composer:
    """Compiles the campaign's message once per language and renders recipients from it."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self._compiled: dict[tuple[int | None, str], Compiled] = {}
        self._messages: dict[int, Message] | None = None
        self.domain = campaign.sender_email.rpartition("@")[2] or "cordee.invalid"
        self._footer_labels: dict[str, tuple[str, str, str]] = {}
        self._unsubscribe: tuple[int, str] = (0, "")
        self._surveys: bool | None = None

    def _resolve(self, variant_id: int | None) -> int | None:
        """The variant whose message ``variant_id`` gets: itself for an A/B test row, the
        winner (set once, never changed) for the rest, None for a campaign without variants."""
        if self._messages is None:
            variants = Variant.objects.filter(campaign=self.campaign.pk).select_related("message")
            self._messages = (
                {v.pk: v.message for v in variants} if self.campaign.test_percent else {}
            )
        if variant_id is not None or len(self._messages) < 2:
            return variant_id
        if self.campaign.winner_id is None:
            self.campaign.winner_id = (
                Campaign.objects.filter(pk=self.campaign.pk)
                .values_list("winner_id", flat=True)
                .first()
            )
        if self.campaign.winner_id is None:
            # Only held rows have neither a variant nor a winner, and no claim takes them.
            raise LookupError(f"campaign {self.campaign.pk}: no winner yet")
        return int(self.campaign.winner_id)

    def compiled(self, language: str, variant_id: int | None = None) -> Compiled:
        variant_id = self._resolve(variant_id)
        key = (variant_id, language)
        if key not in self._compiled:
            assert self._messages is not None
            message = self.campaign.message if variant_id is None else self._messages[variant_id]
            subject, blocks, sms = message.variant(language)
            self._compiled[key] = message_compile(subject, blocks, sms, language)
        return self._compiled[key]

    def draws_surveys(self) -> bool:
        """Whether any version of the message (language, variant) has a survey block: only
        then is each recipient's survey link signed."""
        if self._surveys is None:
            messages = [
                self.campaign.message,
                *Message.objects.filter(variants__campaign=self.campaign.pk),
            ]
            self._surveys = any(
                block.get("type") == "survey"
                for message in messages
                for language in ("fr", "en")
                for block in message.variant(language)[1]
            )
        return self._surveys

    def _labels(self, language: str) -> tuple[str, str, str]:
        """The footer's sentences in ``language``, translated once per campaign, not per mail."""
        if language not in self._footer_labels:
            with translation.override(language):
                why = _(
                    "Vous recevez ce message de %(sender)s car vous avez accepté : %(purpose)s."
                ) % {
                    "sender": self.campaign.sender_name,
                    "purpose": self.campaign.purpose.name,
                }
                labels = (why, _("Gérer mes préférences"), _("Se désinscrire"))
            self._footer_labels[language] = labels
        return self._footer_labels[language]

    def unsubscribe_url(self, delivery_id: int) -> str:
        """Signed once per mail although the footer and the header both carry it."""
        if self._unsubscribe[0] != delivery_id:
            self._unsubscribe = (delivery_id, signed.unsubscribe_url(delivery_id))
        return self._unsubscribe[1]

    def _footer(self, r: Recipient) -> tuple[str, str]:
        why, prefs_label, unsub_label = self._labels(r.language)
        prefs = signed.preference_link(r.customer)
        unsub = self.unsubscribe_url(r.delivery_id) if r.delivery_id else prefs
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
        compiled = self.compiled(r.language, r.variant_id)
        urls = None
        if r.tracked and r.delivery_id:
            urls = [signed.click_url(r.delivery_id, i) for i in range(len(compiled.links))]
        footer_html, footer_text = self._footer(r)
        return message_render(
            compiled, r.values, links=urls, footer_html=footer_html, footer_text=footer_text
        )

    def sms_text(self, r: Recipient) -> str:
        compiled = self.compiled(r.language, r.variant_id)
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
            unsubscribe_url=self.unsubscribe_url(r.delivery_id) if r.delivery_id else "",
            reply_to=self.campaign.reply_to,
            extra_headers=provider_metadata_headers(r.delivery_id),
        )
        return data, message_id

    def api_parts(self, r: Recipient) -> tuple[str, str, str, dict[str, str]]:
        """Subject, text, HTML and headers for a provider's send API (which builds the MIME)."""
        rendered = self.render(r)
        headers = {}
        if r.delivery_id:
            headers["List-Unsubscribe"] = f"<{self.unsubscribe_url(r.delivery_id)}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        if "\r" in rendered.subject or "\n" in rendered.subject:
            raise HeaderInjection("line break in the subject")
        return rendered.subject, rendered.text, rendered.html, headers
