"""uvicorn's h11 protocol with a deadline for the request head, so a slowloris client cannot hold a connection."""

from __future__ import annotations

import asyncio
import functools
import logging

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("sesam.http")


class HeadTimeoutProtocol(H11Protocol):
    """Closes a connection whose request line and headers are not complete ``head_timeout_s`` after the
    connection opened, or after the first byte of a following request on a keep-alive connection.

    uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but has no limit on receiving a head: a
    client sending one byte a second, or a partial head and then nothing, kept its connection open for ever.
    The body that follows a complete head is not timed here (h11 is then past its IDLE state)."""

    def __init__(self, *args, head_timeout_s: float = 10.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout_s = head_timeout_s
        self._head_timer: asyncio.TimerHandle | None = None

    def _awaiting_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _arm(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a new connection that sends nothing, or not a whole head, has no other timeout

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # cancels the keep-alive timer; a complete head starts a request
        if self._awaiting_head():
            self._arm()  # the first bytes of a head (on a keep-alive connection: of the next one)
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            log.debug("closed a connection from %s whose request head did not arrive within %s s",
                      (self.client or ("unknown",))[0], self.head_timeout_s)
            self.transport.close()


def head_timeout_protocol(head_timeout_s: float):
    """The protocol for uvicorn's ``http=`` option; a partial of an importable class, so it can be pickled
    into the processes of ``--workers N``."""
    return functools.partial(HeadTimeoutProtocol, head_timeout_s=head_timeout_s)
