"""One SMTP connection per batch, and a send that commits to the ledger at the last moment.

``SmtpSession.send`` writes the whole DATA section but its final ``.``, then calls
``commit()`` (the caller marks the ledger row sent), then writes the ``.``. The server stores
a message only on that ``.``: a worker killed before the commit leaves the row claimed and an
unterminated message the server throws away (so the row is sent again, once); killed after it,
the message is in the kernel's socket buffer on its way. The only window left is between the
commit returning and the ``.`` being written — microseconds, where the row says sent and the
server never got it (at most once, never twice).
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from typing import Any

from django.conf import settings


class TransientError(Exception):
    """Try again later: refused, timed out, dropped, 4xx."""


class UnreachableError(TransientError):
    """No connection at all: the server's fault, not any one message's."""


class PermanentError(Exception):
    """This address will not take mail (5xx on RCPT): suppress it."""


class RejectedError(Exception):
    """The server refused this message, not the address (5xx after DATA)."""


class Aborted(Exception):
    """``commit()`` declined (the claim was taken over): nothing was delivered."""


_BARE_LF = re.compile(rb"(?<!\r)\n")
_UNSAFE = re.compile(r"[\s<>]")


def _data(message: bytes) -> bytes:
    """CRLF line ends and dot-stuffing (RFC 5321 4.5.2). Our own mails already end every
    line in CRLF: two counts tell, and a plain replace stuffs the dots."""
    if message.count(b"\n") != message.count(b"\r\n"):
        message = _BARE_LF.sub(b"\r\n", message)
    data = message.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def smtp_settings() -> dict[str, Any]:
    """The default mailer's OPTIONS (``MAILERS``, from CORDEE_EMAIL_URL)."""
    mailers = getattr(settings, "MAILERS", {}) or {}
    return dict(mailers.get("default", {}).get("OPTIONS", {}))


class SmtpSession:
    """A lazily opened SMTP connection to the default mailer's server (CORDEE_EMAIL_URL)."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        options = smtp_settings()
        host, port = options.get("host") or "localhost", int(options.get("port") or 25)
        try:
            if options.get("use_ssl"):
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(host, port, timeout=self.timeout)
                if options.get("use_tls"):
                    smtp.starttls(context=ssl.create_default_context())
            # The final dot goes out as its own small write right after the body: without
            # TCP_NODELAY, Nagle holds it until the body is acknowledged (a delayed ACK, 40 ms).
            if smtp.sock is not None:
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            if options.get("username"):
                smtp.login(options["username"], options.get("password") or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentError(f"authentification refusée ({exc.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise UnreachableError(f"serveur injoignable : {exc}") from None
        self.smtp = smtp
        return smtp

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        self.smtp = None

    def _drop(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
        self.smtp = None

    def send(self, sender: str, recipient: str, message: bytes, commit: Callable[[], bool]) -> str:
        """Deliver ``message``; returns the server's answer. See the module's docstring."""
        self.begin(sender, recipient, message)
        if not commit():
            # Dropping the connection before the final dot: the server discards the mail.
            self._drop()
            raise Aborted("claim lost")
        self.dot()
        return self.reply()

    def begin(self, sender: str, recipient: str, message: bytes) -> None:
        """MAIL, RCPT, DATA and the body — all but the final dot."""
        smtp = self.open()
        stage = "mail"
        if _UNSAFE.search(sender) or _UNSAFE.search(recipient):
            raise RejectedError("adresse invalide")
        try:
            # MAIL and RCPT written directly: smtplib's mail()/rcpt() parse the address again
            # with email.utils on every message; these are checked addresses, no options.
            smtp.putcmd("mail", f"FROM:<{sender}>")
            code, reply = smtp.getreply()
            if code != 250:
                self._reset(smtp)
                raise (TransientError if code < 500 else RejectedError)(f"MAIL {code} {reply!r}")
            stage = "rcpt"
            smtp.putcmd("rcpt", f"TO:<{recipient}>")
            code, reply = smtp.getreply()
            if code not in (250, 251):
                self._reset(smtp)
                if code >= 500:
                    raise PermanentError(f"{code} {reply.decode(errors='replace')}")
                raise TransientError(f"RCPT {code} {reply.decode(errors='replace')}")
            stage = "data"
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._reset(smtp)
                raise (TransientError if code < 500 else RejectedError)(f"DATA {code}")
            smtp.send(_data(message))
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TransientError(f"connexion perdue ({stage}) : {exc}") from None

    def abort(self) -> None:
        """Give up the message under way: closing before the dot makes the server drop it."""
        self._drop()

    def dot(self) -> None:
        try:
            self.open().send(b".\r\n")
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise TransientError(f"connexion perdue (fin du message) : {exc}") from None

    def reply(self) -> str:
        """The server's answer to the dot."""
        smtp = self.smtp
        if smtp is None:
            return "sans réponse du serveur"
        try:
            code, reply = smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            # The dot went out; the server may well have the mail. Never send it twice.
            return f"sans réponse du serveur ({exc.__class__.__name__})"
        if code == 250:
            return reply.decode(errors="replace")[:120]
        raise (TransientError if code < 500 else RejectedError)(
            f"{code} {reply.decode(errors='replace')}"[:200]
        )

    @staticmethod
    def _reset(smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            smtp.rset()
