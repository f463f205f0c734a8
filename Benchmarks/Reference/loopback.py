"""An accept-all HTTP server on 127.0.0.1, in a process of its own.

The server reads each request whole, counts the events in its body and answers
`204 No Content` (after `delay` seconds when one is given). It checks nothing else, like the
Swift benchmarks' `AcceptAllServer`.

It runs in a separate process, started with `spawn`, so that it never takes the interpreter
lock from the SDK's threads: the measured process holds only the SDK and its producer. It is a
single asyncio loop (no thread per connection), which keeps its own cost per request small;
on 2 cores it still shares the machine with the measured process, as the Swift benchmark's
in-process NIO server does.

Events are counted as `"visitor_id"` keys in the body: a batch of the Optimizely Events API
has one visitor per user event. The count is added to a shared counter just before the
response is written, so the counter says how many events the server has acknowledged.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from dataclasses import dataclass

_RESPONSE = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
_EVENT_MARK = b'"visitor_id"'


class _Connection(asyncio.Protocol):
    """One client connection: splits the byte stream into requests and answers each."""

    def __init__(self, delay: float, events, requests) -> None:
        self.delay = delay
        self.events = events
        self.requests = requests
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            body_start = head_end + 4
            request_end = body_start + _content_length(bytes(self.buffer[:head_end]))
            if len(self.buffer) < request_end:
                return
            events = self.buffer.count(_EVENT_MARK, body_start, request_end)
            del self.buffer[:request_end]
            if self.delay > 0:
                asyncio.get_running_loop().call_later(self.delay, self._answer, events)
            else:
                self._answer(events)

    def _answer(self, events: int) -> None:
        if self.transport is None:
            return
        with self.events.get_lock():
            self.events.value += events
        with self.requests.get_lock():
            self.requests.value += 1
        self.transport.write(_RESPONSE)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _serve(delay: float, events, requests, port_pipe) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Connection(delay, events, requests), host="127.0.0.1", port=0, backlog=1024
        )
        port_pipe.send(server.sockets[0].getsockname()[1])
        port_pipe.close()
        await server.serve_forever()

    asyncio.run(main())


@dataclass
class LoopbackServer:
    """A running server process: its URL, its counters, and how to stop it."""

    url: str
    process: multiprocessing.Process
    _events: object
    _requests: object

    @property
    def events(self) -> int:
        """Events acknowledged so far (counted in the bodies of answered requests)."""
        return self._events.value

    @property
    def requests(self) -> int:
        """Requests answered so far."""
        return self._requests.value

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server process has used (Linux /proc)."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def start_server(delay: float = 0.0) -> LoopbackServer:
    """Starts an accept-all server that answers each request after `delay` seconds."""
    context = multiprocessing.get_context("spawn")
    events = context.Value("q", 0)
    requests = context.Value("q", 0)
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_serve, args=(delay, events, requests, sending), daemon=True)
    process.start()
    sending.close()
    if not receiving.poll(30):
        process.terminate()
        raise RuntimeError("the loopback server did not start within 30 s")
    port = receiving.recv()
    return LoopbackServer(f"http://127.0.0.1:{port}/v1/events", process, events, requests)
