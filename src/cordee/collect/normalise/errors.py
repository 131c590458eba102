"""The one error every normaliser raises, and the shared notion of an empty value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.text import format_lazy

if TYPE_CHECKING:
    # The stubs' name for what gettext_lazy() returns.
    from django.utils.functional import _StrPromise as LazyMessage
else:
    from django.utils.functional import Promise as LazyMessage

# Spreadsheet and database exports write these where a cell is empty. Treating them as
# empty everywhere (rather than as a name "Null" or a phone "-") keeps junk out of the
# golden record. "NA" is not here: it is Namibia's country code.
NULL_TOKENS = frozenset({"null", "n/a", "#n/a", "-", "?"})

# A value quoted back in a message is cut so that a hostile 10,000-character cell
# cannot flood an import report.
_SHOWN_MAX = 60


class InvalidValue(ValueError):
    """A value that cannot be normalised; ``message`` is a French, user-facing reason."""

    def __init__(self, message: str | LazyMessage) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


def is_blank(raw: str) -> bool:
    """True for a missing value: blanks, or a placeholder such as 'NULL' or 'N/A'."""
    text = raw.strip()
    return not text or (len(text) <= 4 and text.lower() in NULL_TOKENS)


def shown(raw: str) -> str:
    """The raw value as it may be quoted in a message: printable, short."""
    raw = raw.strip()
    text = "".join(c if c.isprintable() else " " for c in raw[:_SHOWN_MAX])
    return text + "…" if len(raw) > _SHOWN_MAX else text


def invalid(template: str | LazyMessage, raw: str) -> InvalidValue:
    """Build the error; the message stays lazy so that no settings are needed until shown."""
    return InvalidValue(format_lazy(template, value=shown(raw)))
