"""A tiny real SMTP server for the mail tests, on a free port of 127.0.0.1.

It speaks just enough SMTP for smtplib (and so Django's SMTP backend) and counts what a
mail server operator would see: connections, messages and their recipients. Its mode
can change while it runs, so one test can take the same server down and bring it back:

* ``"sink"``: accepts every message, except recipients in ``refuse`` (answered with
  ``refuse_code``, 550 "no such user" by default);
* ``"hang"``: accepts the TCP connection and never answers (a hanging mail server);
* ``hang_after=N``: a sink that stops answering after its N-th message, in the middle
  of a connection (at the next MAIL FROM, before that message is accepted);
* ``unconfirmed={N, …}``: a sink that receives its N-th message whole and then never
  confirms it (no "250" after the data): the mail server has it, the client cannot know.

A hanging connection hangs until ``release()`` or until its client is gone (a killed
process's connections close).

``release()`` closes every hanging connection (the client sees the server hang up).
"""

from __future__ import annotations

import collections
import select
import socket
import socketserver
import threading
import time


class _Handler(socketserver.StreamRequestHandler):
    server: SmtpServer

    def _reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def _hang(self) -> None:
        with self.server.lock:
            self.server.hanging += 1
        while not self.server.released.wait(0.05):
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                break  # the client is gone
        with self.server.lock:
            self.server.hanging -= 1

    def handle(self) -> None:
        smtp = self.server
        with smtp.lock:
            smtp.connections += 1
        if smtp.mode == "hang":
            self._hang()
            return
        self._reply("220 klimop-test ESMTP")
        sender, recipients = "", []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250 klimop-test")
            elif verb == "MAIL":
                if smtp.hang_after is not None and len(smtp.messages) >= smtp.hang_after:
                    self._hang()
                    return
                sender, recipients = command[10:].strip("<> "), []
                self._reply("250 OK")
            elif verb == "RCPT":
                address = command[8:].strip("<> ")
                if address in smtp.refuse:
                    self._reply(f"{smtp.refuse_code} 5.1.1 No such user")
                else:
                    recipients.append(address)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                with smtp.lock:
                    smtp.messages.append((sender, list(recipients), b"".join(data).decode(errors="replace")))
                    unconfirmed = len(smtp.messages) in smtp.unconfirmed
                if unconfirmed:
                    self._hang()
                    return
                self._reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = "", []
                self._reply("250 OK")
            elif verb == "NOOP":
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.mode = "sink"
        self.refuse: set[str] = set()
        self.refuse_code = 550
        self.hang_after: int | None = None
        self.unconfirmed: set[int] = set()
        self.connections = 0
        self.hanging = 0
        self.messages: list[tuple[str, list[str], str]] = []

    @property
    def port(self) -> int:
        return self.server_address[1]

    def recipients(self) -> collections.Counter:
        """How many messages each address received."""
        with self.lock:
            return collections.Counter(to for _sender, tos, _data in self.messages for to in tos)

    def release(self) -> None:
        """Hang up on every hanging connection (and on later ones until ``mode`` changes)."""
        self.released.set()

    def back(self) -> None:
        """The mail server works again: a sink, nothing refused or hanging."""
        self.mode, self.hang_after, self.unconfirmed = "sink", None, set()
        self.release()

    def wait_for(self, condition, timeout: float = 90.0) -> bool:
        """Poll ``condition()`` until it holds (True) or ``timeout`` seconds pass (False)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            time.sleep(0.05)
        return condition()

    def start(self) -> SmtpServer:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release()
        self.shutdown()
        self.server_close()


def use_smtp(settings, server: SmtpServer, timeout: float = 2) -> None:
    """Point Django's real SMTP backend at ``server``, waiting ``timeout`` seconds per attempt."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, timeout
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
