"""A mail server on loopback that accepts every message and only counts it.

Enough SMTP for Django's SMTP backend (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS,
no authentication), served by asyncio in a thread of its own, so the bench needs no extra
package. ``messages`` counts accepted messages, ``recipients`` their RCPT TO addresses, and
``first_at``/``last_at`` are the ``time.monotonic()`` moments of the first and last one.
"""

from __future__ import annotations

import asyncio
import threading
import time


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.messages = 0
        self.recipients = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # --- counting ---------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.messages = self.recipients = 0
            self.first_at = self.last_at = None

    def _accepted(self, recipients: int) -> None:
        now = time.monotonic()
        with self._lock:
            self.messages += 1
            self.recipients += recipients
            self.first_at = self.first_at or now
            self.last_at = now

    # --- the server ---------------------------------------------------------------------------
    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        reply("220 bench-sink ESMTP")
        recipients = 0
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
                if verb == "EHLO":
                    reply("250-bench-sink")
                    reply("250 8BITMIME")
                elif verb in ("HELO", "NOOP"):
                    reply("250 ok")
                elif verb in ("MAIL", "RSET"):
                    recipients = 0
                    reply("250 ok")
                elif verb == "RCPT":
                    recipients += 1
                    reply("250 ok")
                elif verb == "DATA":
                    reply("354 end with <CRLF>.<CRLF>")
                    await writer.drain()
                    while (await reader.readline()) not in (b".\r\n", b".\n", b""):
                        pass
                    self._accepted(recipients)
                    recipients = 0
                    reply("250 ok: queued")
                elif verb == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    break
                else:
                    reply("502 not implemented")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def start(self) -> SmtpSink:
        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(asyncio.start_server(self._session, self.host, self.port))
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=serve, name="smtp-sink", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the SMTP sink did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None
