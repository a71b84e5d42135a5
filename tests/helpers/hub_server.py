"""A tiny Hugging Face Hub stand-in on 127.0.0.1, for download tests with the real client.

It serves ``/{repo_id}/resolve/{revision}/{filename}`` the way the Hub does for a plain (non-LFS,
non-Xet) file, with the headers ``huggingface_hub.hf_hub_download`` (2.x, also 0.x) reads from its
``HEAD`` and ``GET`` requests: ``X-Repo-Commit`` (required), ``ETag`` (the blob name in the cache),
``Content-Length`` (the expected size); a missing file answers 404 with ``X-Error-Code:
EntryNotFound``. Any other registered path (e.g. SesquiLSR's GitHub ``raw`` URL) is served as a plain
file. It answers loopback clients only, records every request, refuses more than ``max_requests``,
and stops when the ``with`` block ends.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class _Content:
    data: bytes
    hub: bool
    #: Send only this many bytes, without a Content-Length, then close (a cut-short download).
    cut_after: int | None = None
    #: The commit the Hub reports for this file (a pinned commit revision reports itself).
    commit: str = FAKE_COMMIT
    #: Send the full Content-Length but only this many bytes, then go silent until the hub stops
    #: (a stalled download).
    stall_after: int | None = None
    #: Announce this Content-Length instead of the real one (a server lying about the size).
    announce: int | None = None
    #: Send the data again and again up to this many bytes (a file larger than it should be);
    #: ``sent`` records how many the client took before it closed the connection.
    repeat_to: int | None = None
    sent: int = 0


@dataclass
class LocalHub:
    """``with LocalHub() as hub: hub.add_hub_file(...); hub.url`` — a bounded loopback file server."""

    max_requests: int = 50
    files: dict[str, _Content] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _stopping: threading.Event = field(default_factory=threading.Event)

    def add_hub_file(self, repo_id: str, revision: str, filename: str, data: bytes) -> None:
        """Serve ``data`` at the Hub's resolve URL of ``repo_id@revision/filename``."""
        commit = revision if len(revision) == 40 else FAKE_COMMIT
        self.files[f"/{repo_id}/resolve/{revision}/{filename}"] = _Content(data, hub=True, commit=commit)

    def add_file(
        self,
        path: str,
        data: bytes,
        *,
        cut_after: int | None = None,
        stall_after: int | None = None,
        announce: int | None = None,
        repeat_to: int | None = None,
    ) -> None:
        """Serve ``data`` at ``path`` (e.g. ``/LoganBooker/SesquiLSR/raw/main/models/x.safetensors``);
        with ``cut_after``, send only that many bytes, without a Content-Length, and close; with
        ``stall_after``, announce the full length, send that many bytes and then nothing more."""
        self.files[path] = _Content(
            data,
            hub=False,
            cut_after=cut_after,
            stall_after=stall_after,
            announce=announce,
            repeat_to=repeat_to,
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (use as ``HF_ENDPOINT`` / ``hf_endpoint``)."""
        assert self._server is not None, "start the hub with 'with LocalHub() as hub:'"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def count(self, method: str, suffix: str = "") -> int:
        """How many ``method`` requests were made for paths ending in ``suffix``."""
        return sum(1 for m, path in self.requests if m == method and path.endswith(suffix))

    def __enter__(self) -> LocalHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 10  # a stuck client cannot hold a thread forever

            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def _answer(self, with_body: bool) -> None:
                if self.client_address[0] != "127.0.0.1":
                    self.send_error(403, "loopback only")
                    return
                path = self.path.split("?", 1)[0]
                hub.requests.append((self.command, path))
                if len(hub.requests) > hub.max_requests:
                    self.send_error(429, "request budget of the test hub exhausted")
                    return
                content = hub.files.get(path)
                if content is None:
                    self.send_response(404)
                    if "/resolve/" in path:
                        self.send_header("X-Error-Code", "EntryNotFound")
                        self.send_header("X-Repo-Commit", FAKE_COMMIT)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if content.announce is not None:
                    self.send_header("Content-Length", str(content.announce))
                elif content.cut_after is None and content.repeat_to is None:
                    self.send_header("Content-Length", str(len(content.data)))
                if content.hub:
                    self.send_header("ETag", f'"{hashlib.sha256(content.data).hexdigest()}"')
                    self.send_header("X-Repo-Commit", content.commit)
                self.end_headers()
                if with_body and content.stall_after is not None:
                    self.wfile.write(content.data[: content.stall_after])
                    self.wfile.flush()
                    hub._stopping.wait(timeout=30)  # silent, connection open
                    self.close_connection = True
                elif with_body and content.repeat_to is not None:
                    self.close_connection = True
                    try:
                        while content.sent < content.repeat_to and not hub._stopping.is_set():
                            self.wfile.write(content.data)
                            content.sent += len(content.data)
                    except OSError:  # the client stopped reading and closed: what the test wants
                        pass
                elif with_body:
                    self.wfile.write(content.data[: content.cut_after])
                    self.close_connection = True

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def do_GET(self) -> None:
                self._answer(with_body=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        assert self._server is not None and self._thread is not None
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
