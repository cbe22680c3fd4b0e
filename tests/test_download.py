"""The fetch machinery against a real HTTP server on 127.0.0.1 (no mocks of our own code).

Each test builds a temporary registry entry pointing at the loopback server and a fresh cache
folder (``PTFT_DATA``), with no mirror unless the test sets one.
"""

from __future__ import annotations

import collections
import functools
import gzip
import hashlib
import logging
import multiprocessing
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ptft_utils.data import download, registry
from ptft_utils.data.download import ChecksumError, DataUnavailableError, fetch, fetch_result, verify
from ptft_utils.data.registry import Checksum, FileEntry

pytestmark = pytest.mark.network

PAYLOAD = bytes(range(256)) * 800  # 204,800 bytes
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


# ------------------------------------------------------------------------------- loopback server
@dataclass
class Route:
    body: bytes
    fail_first: int = 0  # how many first requests fail
    failure: str = ""  # "drop": half the body then the connection closes; "500": an HTTP 500
    delay: float = 0.0  # seconds before the body is sent
    ranges: bool = True  # honour "Range: bytes=N-" with a 206


@dataclass
class Loopback:
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    range_headers: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(state: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with state.lock:
                state.requests[self.path] += 1
                nth = state.requests[self.path]
                if self.headers.get("Range"):
                    state.range_headers.append(self.headers["Range"])
            route = state.routes.get(self.path)
            if route is None:
                self.send_error(404, "Not Found")
                return
            failing = nth <= route.fail_first
            if failing and route.failure == "500":
                self.send_error(500, "Internal Server Error")
                return
            body, start = route.body, 0
            range_header = self.headers.get("Range", "")
            if route.ranges and range_header.startswith("bytes=") and range_header.endswith("-"):
                start = int(range_header[len("bytes=") : -1])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            if route.delay:
                time.sleep(route.delay)
            payload = body[start:]
            if failing and route.failure == "drop":
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(payload)

    return Handler


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Loopback(port=httpd.server_address[1])
    httpd.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PTFT_DATA", str(folder))
    monkeypatch.delenv("PTFT_DATA_MIRROR", raising=False)
    monkeypatch.setattr(download, "BACKOFF_SECONDS", 0.05)
    return folder


def entry_for(*urls: str, filename: str = "payload.bin", checksums: tuple[Checksum, ...] | None = None) -> FileEntry:
    return FileEntry(
        key="loopback-payload",
        dataset="loopback",
        filename=filename,
        urls=urls,
        checksums=checksums or (Checksum("sha256", PAYLOAD_SHA256),),
        size=len(PAYLOAD),
        mirror_name=f"mirror-{filename}",
    )


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# -------------------------------------------------------------------------------------- the tests
def test_fetch_downloads_verifies_and_caches(server: Loopback, cache: Path) -> None:
    server.routes["/data/payload.bin"] = Route(PAYLOAD)
    entry = entry_for(server.url("/data/payload.bin"))

    got = fetch_result(entry)
    again = fetch_result(entry)

    assert got.path == cache / "loopback" / "payload.bin"
    assert got.path.read_bytes() == PAYLOAD
    assert got.origin == "download"
    assert again.origin == "cache"
    assert server.requests["/data/payload.bin"] == 1


def test_fetch_accepts_a_registered_key(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD)
    entry = registry.register(entry_for(server.url("/payload.bin")))
    try:
        assert fetch("loopback-payload").read_bytes() == PAYLOAD
    finally:
        registry.unregister(entry.key)


def test_fetch_moves_to_the_mirror_url_after_a_404(server: Loopback, cache: Path) -> None:
    server.routes["/mirror/payload.bin"] = Route(PAYLOAD)
    entry = entry_for(server.url("/official/payload.bin"), server.url("/mirror/payload.bin"))

    got = fetch_result(entry)

    assert got.source == server.url("/mirror/payload.bin")
    assert got.path.read_bytes() == PAYLOAD
    assert server.requests["/official/payload.bin"] == 1  # a 404 is not retried


def test_fetch_rejects_a_corrupt_payload_and_leaves_nothing_in_the_cache(server: Loopback, cache: Path) -> None:
    corrupt = bytearray(PAYLOAD)
    corrupt[1000] ^= 0xFF
    server.routes["/payload.bin"] = Route(bytes(corrupt))
    entry = entry_for(server.url("/payload.bin"))

    with pytest.raises(DataUnavailableError) as caught:
        fetch(entry)

    assert "checksum mismatch" in str(caught.value)
    assert hashlib.sha256(bytes(corrupt)).hexdigest() in str(caught.value)
    assert files_in(cache / "loopback") == []


def test_fetch_resumes_after_the_connection_drops_mid_file(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD, fail_first=1, failure="drop")
    entry = entry_for(server.url("/payload.bin"))

    path = fetch(entry)

    assert path.read_bytes() == PAYLOAD
    assert server.requests["/payload.bin"] == 2
    assert server.range_headers == [f"bytes={len(PAYLOAD) // 2}-"]


def test_fetch_restarts_when_the_server_ignores_range(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD, fail_first=1, failure="drop", ranges=False)

    path = fetch(entry_for(server.url("/payload.bin")))

    assert path.read_bytes() == PAYLOAD
    assert server.requests["/payload.bin"] == 2


def test_fetch_retries_a_server_error_then_succeeds(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD, fail_first=2, failure="500")

    path = fetch(entry_for(server.url("/payload.bin")))

    assert path.read_bytes() == PAYLOAD
    assert server.requests["/payload.bin"] == 3


def test_fetch_gives_up_after_bounded_retries(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD, fail_first=99, failure="500")

    with pytest.raises(DataUnavailableError) as caught:
        fetch(entry_for(server.url("/payload.bin")))

    assert server.requests["/payload.bin"] == download.MAX_ATTEMPTS
    assert f"gave up after {download.MAX_ATTEMPTS} attempts" in str(caught.value)


def test_two_processes_fetching_at_once_download_once(server: Loopback, cache: Path) -> None:
    server.routes["/slow/payload.bin"] = Route(PAYLOAD, delay=1.5)
    entry = entry_for(server.url("/slow/payload.bin"))

    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.map(functools.partial(fetch_result, progress=False), [entry, entry], chunksize=1)

    assert server.requests["/slow/payload.bin"] == 1
    assert sorted(r.origin for r in results) == ["cache", "download"]  # the second found the first's file
    paths = [r.path for r in results]
    assert paths[0] == paths[1] == cache / "loopback" / "payload.bin"
    assert hashlib.sha256(paths[0].read_bytes()).hexdigest() == PAYLOAD_SHA256
    assert files_in(cache / "loopback") == ["payload.bin"]


def test_no_server_gives_one_error_that_says_what_to_do(cache: Path, tmp_path: Path, monkeypatch) -> None:
    port = dead_port()
    urls = (f"http://127.0.0.1:{port}/official/payload.bin", f"http://127.0.0.1:{port}/mirror/payload.bin")
    mirror = tmp_path / "empty-mirror"
    mirror.mkdir()
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(mirror))
    entry = entry_for(*urls)

    with pytest.raises(DataUnavailableError) as caught:
        fetch(entry)

    message = str(caught.value)
    assert "'loopback'" in message  # the dataset
    assert all(url in message for url in urls)  # every URL tried ...
    assert message.count("ConnectionRefusedError") == 2  # ... with its error
    assert str(mirror / "mirror-payload.bin") in message  # the mirror place, and that it lacked the file
    assert str(cache / "loopback" / "payload.bin") in message  # where to place it by hand
    assert PAYLOAD_SHA256 in message  # and what it must match
    assert caught.value.dataset == "loopback"
    assert [where for where, _ in caught.value.attempts] == [str(mirror / "mirror-payload.bin"), *urls]


def test_a_cached_file_failing_its_checksum_is_fetched_again(server: Loopback, cache: Path, caplog) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD)
    entry = entry_for(server.url("/payload.bin"))
    target = cache / "loopback" / "payload.bin"
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOAD[:-1] + b"\x00")

    with caplog.at_level(logging.WARNING, logger="ptft_utils.data.download"):
        got = fetch_result(entry)

    assert got.origin == "download"
    assert target.read_bytes() == PAYLOAD
    assert any("failed its checksum, fetching again" in r.getMessage() for r in caplog.records)


def test_a_mirror_url_is_tried_before_the_registry_urls(server: Loopback, cache: Path, monkeypatch) -> None:
    server.routes["/m/mirror-payload.bin"] = Route(PAYLOAD)
    server.routes["/official/payload.bin"] = Route(PAYLOAD)
    monkeypatch.setenv("PTFT_DATA_MIRROR", server.url("/m"))

    got = fetch_result(entry_for(server.url("/official/payload.bin")))

    assert got.origin == "mirror"
    assert server.requests["/official/payload.bin"] == 0


def test_a_mirror_folder_is_copied_through_verification(cache: Path, tmp_path: Path, monkeypatch) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "mirror-payload.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(mirror))

    got = fetch_result(entry_for(f"http://127.0.0.1:{dead_port()}/payload.bin"))

    assert got.origin == "mirror"
    assert got.path == cache / "loopback" / "payload.bin"
    assert got.path.read_bytes() == PAYLOAD


def test_a_corrupt_mirror_copy_is_skipped_for_the_next_source(server: Loopback, cache: Path, tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "mirror-payload.bin").write_bytes(b"not the payload")
    monkeypatch.setenv("PTFT_DATA_MIRROR", str(mirror))
    server.routes["/payload.bin"] = Route(PAYLOAD)

    got = fetch_result(entry_for(server.url("/payload.bin")))

    assert got.origin == "download"
    assert got.path.read_bytes() == PAYLOAD


def test_network_false_never_touches_the_network(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD)

    with pytest.raises(DataUnavailableError, match="network was not tried"):
        fetch(entry_for(server.url("/payload.bin")), network=False)

    assert server.requests["/payload.bin"] == 0


def test_checksum_error_names_expected_and_actual(tmp_path: Path) -> None:
    path = tmp_path / "wrong.bin"
    path.write_bytes(b"hello")
    entry = entry_for("http://127.0.0.1:9/none")

    with pytest.raises(ChecksumError) as caught:
        verify(entry, path)

    assert caught.value.expected == f"sha256 {PAYLOAD_SHA256} (of the file)"
    assert hashlib.sha256(b"hello").hexdigest() in caught.value.actual
    assert PAYLOAD_SHA256 in str(caught.value) and str(path) in str(caught.value)


def test_a_recompressed_gzip_passes_on_its_payload_checksum(tmp_path: Path) -> None:
    official = gzip.compress(PAYLOAD, mtime=0)
    recompressed = gzip.compress(PAYLOAD, mtime=1_234_567_890)
    entry = entry_for(
        "http://127.0.0.1:9/none",
        filename="payload.gz",
        checksums=(Checksum("md5", hashlib.md5(official).hexdigest()), Checksum("sha256", PAYLOAD_SHA256, "gunzip")),
    )
    path = tmp_path / "payload.gz"
    path.write_bytes(recompressed)

    assert official != recompressed
    assert (verify(entry, path).algorithm, verify(entry, path).of) == ("sha256", "gunzip")
    path.write_bytes(official)  # it matches the MD5 too, but the SHA-256 is preferred
    assert (verify(entry, path).algorithm, verify(entry, path).of) == ("sha256", "gunzip")


def test_a_file_that_is_not_gzip_fails_the_payload_checksum(tmp_path: Path) -> None:
    entry = entry_for("http://127.0.0.1:9/none", checksums=(Checksum("sha256", PAYLOAD_SHA256, "gunzip"),))
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(PAYLOAD)[:-20])

    with pytest.raises(ChecksumError, match="does not decompress"):
        verify(entry, path)


def test_an_md5_match_is_rejected_where_a_sha256_is_listed(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD)
    other_sha256 = hashlib.sha256(b"the file the publisher meant").hexdigest()
    entry = entry_for(
        server.url("/payload.bin"),
        checksums=(Checksum("md5", hashlib.md5(PAYLOAD).hexdigest()), Checksum("sha256", other_sha256)),
    )

    with pytest.raises(DataUnavailableError) as caught:
        fetch(entry)

    assert "checksum mismatch" in str(caught.value)
    assert f"expected sha256 {other_sha256} (of the file);" in str(caught.value)  # the MD5 is not offered
    assert files_in(cache / "loopback") == []


def test_a_sha256_match_is_accepted_and_the_provenance_says_sha256(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD)
    entry = entry_for(
        server.url("/payload.bin"),
        checksums=(Checksum("md5", hashlib.md5(PAYLOAD).hexdigest()), Checksum("sha256", PAYLOAD_SHA256)),
    )

    got = fetch_result(entry)

    assert got.checksum.algorithm == "sha256"
    assert got.describe() == f"download {server.url('/payload.bin')}, sha256 ok"


def test_an_md5_alone_is_accepted_and_the_provenance_says_it_is_the_only_one(server: Loopback, cache: Path) -> None:
    server.routes["/payload.bin"] = Route(PAYLOAD)
    entry = entry_for(server.url("/payload.bin"), checksums=(Checksum("md5", hashlib.md5(PAYLOAD).hexdigest()),))

    got = fetch_result(entry)

    assert got.checksum.algorithm == "md5"
    assert got.describe().endswith(", md5 ok (the only published checksum)")
