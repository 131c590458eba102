"""A local SMTP server (aiosmtpd) that keeps or counts what it receives.

For the tests (which read the messages back) and the benchmark (which counts them, by
Message-ID, to prove none was sent twice or lost). ``refuse`` answers 550 for some
recipients; ``drop_at`` closes the connection abruptly at the N-th RCPT, like a server that
goes away half-way.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"^Message-ID: (<[^>\r\n]+>)", re.MULTILINE | re.IGNORECASE)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Sink:
    keep: bool = True
    refuse: set[str] = field(default_factory=set)
    drop_at: set[int] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)
    ids: Counter[bytes] = field(default_factory=Counter)
    rcpt_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        return sum(self.ids.values())

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        self.rcpt_count += 1
        if self.rcpt_count in self.drop_at:
            server.transport.close()
            return "421 going away"
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data: bytes = envelope.original_content or envelope.content
        found = _MESSAGE_ID.search(data)
        with self.lock:
            self.ids[found.group(1) if found else b""] += 1
            if self.keep:
                self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), data))
        return "250 Message accepted for delivery"


class SinkServer:
    """``with SinkServer(sink) as (host, port): ...`` on loopback, on a free port."""

    def __init__(self, sink: Sink, port: int = 0) -> None:
        self.sink = sink
        self.controller = Controller(
            sink,
            hostname="127.0.0.1",
            port=port or free_port(),
            decode_data=False,
            data_size_limit=10 * 1024 * 1024,
        )

    def __enter__(self) -> tuple[str, int]:
        self.controller.start()
        return self.controller.hostname, self.controller.port

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
