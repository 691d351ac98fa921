"""A question whose client goes away is cancelled: its LLM call is aborted and its LLM slot freed at once."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Iterator

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from assistant.generation import CANCELLATION, Cancellation

_END = object()


class ClientWatch:
    """One request's :class:`Cancellation`, set for the work it runs in worker threads (and the threads those
    start, see assistant.streaming), and cancelled when the client disconnects."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.cancellation = Cancellation()
        self.context = contextvars.copy_context()
        self.context.run(CANCELLATION.set, self.cancellation)

    async def run(self, fn, *args, **kwargs):
        """``fn`` in a worker thread; a disconnect meanwhile cancels its LLM call (or its wait for a slot), so
        the thread finishes soon with the extractive answer. The request body must have been read already."""
        async def watch() -> None:  # the body has been read: the next message can only be a disconnect
            while (await self.request.receive())["type"] != "http.disconnect":
                pass
            self.cancellation.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            return await run_in_threadpool(self.context.run, fn, *args, **kwargs)
        finally:
            watcher.cancel()

    async def stream(self, items: Iterator[str]) -> AsyncIterator[str]:
        """The items, each taken in a worker thread, for a StreamingResponse. When the client disconnects,
        Starlette cancels the response while a thread still waits for the model's next words: the wait is
        abandoned and the LLM call cancelled at once, instead of running on to its end unread."""
        try:
            while (item := await anyio.to_thread.run_sync(self.context.run, next, items, _END,
                                                          abandon_on_cancel=True)) is not _END:
                yield item
        finally:
            self.cancellation.cancel()  # after the last item there is no call left; otherwise this stops it
