"""A file server on the loopback address for download tests: Range requests, and two ways to misbehave.

::

    with ArchiveServer({"UCF101.rar": data}) as server:
        server.drop_after = 1000      # the next GET sends 1,000 bytes, then closes the connection
        server.ignore_range = True    # answer 200 with the whole file, as servers without Range do
        download_file(server.url("UCF101.rar"), ...)
        server.requests               # [(path, Range header or None, status), ...]

Only ``127.0.0.1`` on a free port; a thread per connection (``ThreadingHTTPServer``); stopped on exit.
"""

from __future__ import annotations

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        owner = self.server.owner
        name = self.path.lstrip("/")
        range_header = self.headers.get("Range")
        data = owner.files.get(name)
        if data is None:
            owner.requests.append((self.path, range_header, 404))
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if match and not owner.ignore_range:
            start = int(match.group(1))
            if start >= len(data):
                owner.requests.append((self.path, range_header, 416))
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        else:
            status = 200
        owner.requests.append((self.path, range_header, status))
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "none" if owner.ignore_range else "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        drop, owner.drop_after = owner.drop_after, None  # misbehave once
        if drop is not None and drop < len(body):
            self.wfile.write(body[:drop])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: "ArchiveServer"


class ArchiveServer:
    """Serve ``files`` (name -> bytes) at ``http://127.0.0.1:<port>/<name>``; a context manager."""

    def __init__(self, files: dict[str, bytes] | None = None):
        self.files: dict[str, bytes] = dict(files or {})
        self.requests: list[tuple[str, str | None, int]] = []
        self.drop_after: int | None = None
        self.ignore_range = False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def __enter__(self) -> "ArchiveServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
