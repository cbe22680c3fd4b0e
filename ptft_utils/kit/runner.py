"""Execute chapter notebooks with papermill, and build the book from the executed copies.

One run = one notebook executed in a real Jupyter kernel with injected parameters, written to
``<out>/<name>.ipynb`` with its record at ``<out>/<name>/metrics.json``. Parameter *names* are
checked against the notebook's ``parameters`` cell (read by papermill's inspection) before a
kernel starts, and the common parameters' values too; chapter knobs are validated inside the
notebook by :func:`ptft_utils.kit.params.resolve`, so a hand-run notebook gets the same errors.

Before the kernel starts, a run also: takes a relative ``output_dir`` from the caller's working
directory (the kernel runs in the notebook's folder) and passes it absolute; checks that
``--out`` and ``output_dir`` are folders it can write; locks both (:func:`lock_folder`); and
moves an earlier record aside to ``metrics.previous.json``, so the folder never shows a record
this run did not write. When a cell raises, the kernel dies or the run is interrupted, a record
still ``running`` is marked ``failed`` with the error (:func:`ptft_utils.kit.results.mark_failed`).

Several notebooks run one after another (:func:`run_all`, stopping at the first failure) or at
once (:func:`run_parallel`, ``ptft run-all --jobs N``): each in a worker process of its own, which
runs it as :func:`run_notebook` would, while this process holds the lock of ``--out`` and reports
starts, ends and failures; no failure stops another, and Ctrl-C stops them all.
:func:`default_jobs` sizes N from the CPU cores and the chapters' ``cpu_threads``, and given the cores,
:func:`run_parallel` starts a chapter only when its threads fit beside those running.

The book build stages a copy of the book (``_config.yml``, ``book/``) with the *executed*
notebooks in ``notebooks/`` and runs ``jupyter-book build`` on it with warnings as errors; the
committed notebooks stay free of outputs.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.kit.params import COMMON, COMMON_KNOBS, ParameterError, check_names, validate
from ptft_utils.kit.results import METRICS_FILE, OutputDirError, check_output_dir, mark_failed, one_line_error

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = ".ptft.lock"
PREVIOUS_RECORD = "metrics.previous.json"


class NotebookFailed(RuntimeError):
    """A cell raised while papermill executed the notebook; the partial notebook is kept."""

    def __init__(self, notebook: Path, output: Path, cell: int | None, ename: str, evalue: str) -> None:
        self.notebook, self.output, self.cell, self.ename, self.evalue = notebook, output, cell, ename, evalue
        where = f"cell {cell}" if cell is not None else "a cell"
        super().__init__(
            f"{notebook.name}: {where} raised {ename}: {evalue}\n"
            f"The partly executed notebook is kept for inspection: {output}"
        )


class RunRefused(RuntimeError):
    """The run cannot start: a folder it writes is not writable, or another run holds it. Nothing ran."""


class FolderLocked(RunRefused):
    """Another process holds ``<folder>/.ptft.lock``."""

    def __init__(self, folder: Path, holder: str) -> None:
        self.folder, self.holder = folder, holder
        super().__init__(
            f"{folder} is in use by another ptft run (pid {holder}, lock file {folder / LOCK_FILE}); "
            "wait for it to finish or run into another --out"
        )


class Interrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C); its record is marked failed and the partial notebook kept."""

    def __init__(self, notebook: Path, output: Path) -> None:
        self.notebook, self.output = notebook, output
        kept = f"the partly executed notebook is kept: {output}" if output.exists() else "no notebook was written"
        super().__init__(f"interrupted while running {notebook.name}; {kept}")


@dataclass(frozen=True)
class RunResult:
    notebook: Path
    output: Path
    metrics: Path
    wall_seconds: float


def notebook_name(path: str | Path) -> str:
    return Path(path).stem


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell: ``{name: {"default": ..., "type": ..., "help": ...}}``."""
    import papermill

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such notebook" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        with warnings.catch_warnings():  # papermill warns of a name without .ipynb; the error below says more
            warnings.simplefilter("ignore", UserWarning)
            found = papermill.inspect_notebook(str(path))
    except Exception as exc:  # not JSON, not a notebook, unreadable: the reader's own words, on one line
        raise ValueError(f"{path}: not a Jupyter notebook ({one_line_error(exc)})") from None
    if not found:
        raise ValueError(f"{path}: no cell tagged 'parameters'")
    return {
        name: {"default": info["default"], "type": info["inferred_type_name"], "help": info["help"]}
        for name, info in found.items()
    }


def check_parameters(path: str | Path, parameters: Mapping[str, Any]) -> None:
    """Refuse unknown names and bad common values before any kernel starts."""
    known = notebook_parameters(path)
    check_names(parameters, known)
    for name in COMMON:
        if name in parameters:
            validate(name, parameters[name], COMMON_KNOBS[name])


def parse_value(text: str) -> Any:
    """A command-line value as YAML: ``3`` -> 3, ``0.1`` -> 0.1, ``[1, 5]`` -> [1, 5], ``cpu`` -> 'cpu'."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def run_notebook(
    notebook: str | Path,
    out_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
    log_output: bool = False,
    timeout: int | None = None,
) -> RunResult:
    """Execute one notebook into ``out_dir``; its record goes to ``output_dir`` (``<out_dir>/<name>`` unless given).

    Raises :class:`ParameterError` or :class:`RunRefused` before any kernel starts,
    :class:`NotebookFailed` when a cell raises (or the kernel dies), :class:`Interrupted` on Ctrl-C.
    """
    out_dir = _writable_folder(out_dir, "--out")
    with lock_folder(out_dir):  # first (it is cheap): a second run into the same --out fails at once
        return _run_in_locked_out(notebook, out_dir, parameters, progress=progress, log_output=log_output,
                                  timeout=timeout)  # fmt: skip


def _run_in_locked_out(
    notebook: str | Path,
    out_dir: Path,
    parameters: Mapping[str, Any] | None,
    *,
    progress: bool,
    log_output: bool = False,
    timeout: int | None = None,
) -> RunResult:
    """:func:`run_notebook` after its lock of ``out_dir``, which the caller holds (or its parent process, for
    :func:`run_parallel`'s workers); the record folder is locked here."""
    notebook = Path(notebook).resolve()
    name = notebook_name(notebook)
    params = dict(parameters or {})
    output = out_dir / f"{name}.ipynb"
    check_parameters(notebook, params)
    record_dir = _writable_folder(params.get("output_dir") or out_dir / name, "output_dir")
    params["output_dir"] = str(record_dir)  # absolute: the kernel's working directory is the notebook's folder
    with lock_folder(record_dir):  # also when output_dir lies outside --out
        with contextlib.suppress(FileNotFoundError):  # an earlier record must never pass for this run's
            os.replace(record_dir / METRICS_FILE, record_dir / PREVIOUS_RECORD)
        started = time.perf_counter()
        _execute(notebook, output, params, progress_bar=progress, log_output=log_output, execution_timeout=timeout)
    return RunResult(notebook, output, record_dir / METRICS_FILE, time.perf_counter() - started)


def _writable_folder(folder: str | Path, setting: str) -> Path:
    """``folder`` absolute (relative to the working directory), created and writable, or :class:`RunRefused`."""
    try:
        return check_output_dir(folder, setting)
    except OutputDirError as exc:
        raise RunRefused(str(exc)) from None


def _execute(notebook: Path, output: Path, params: dict[str, Any], **options: Any) -> None:
    """papermill in a real kernel; a record left ``running`` by a failure becomes ``failed``."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    def failed(error: BaseException | str) -> None:
        mark_failed(params["output_dir"], error, notebook=notebook.stem, parameters=params)

    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=params,
            cwd=str(notebook.parent),
            kernel_name="python3",
            # Kill the kernel at the end instead of asking it to stop: asked while a cell runs
            # (Ctrl-C, a timeout) it prints a page of ZMQ tracebacks; idle, it has nothing to lose.
            shutdown_kernel="immediate",
            **options,
        )
    except PapermillExecutionError as exc:
        failed(f"{exc.ename}: {exc.evalue}")
        raise NotebookFailed(notebook, output, exc.exec_count, exc.ename, exc.evalue) from None
    except KeyboardInterrupt:
        failed("KeyboardInterrupt: the run was interrupted")
        raise Interrupted(notebook, output) from None
    except Exception as exc:  # the kernel died or timed out: no cell reported an error
        failed(exc)
        raise NotebookFailed(notebook, output, None, type(exc).__name__, one_line_error(str(exc))) from None


_HELD: dict[Path, int] = {}  # folders this process has locked, with how deeply (run_all -> run_notebook)


@contextlib.contextmanager
def lock_folder(folder: str | Path) -> Iterator[Path]:
    """Hold ``<folder>/.ptft.lock`` for the block: one run at a time writes into a folder.

    The lock is ``fcntl.flock`` on that file, which also holds the holder's pid for the message
    of :class:`FolderLocked`. The operating system releases a flock when its process ends however
    it ends, so a lock file left by a killed run is taken over without a pid check, and a reused pid
    cannot keep a folder locked. Nesting in one process is allowed; the file is removed on release.
    """
    folder = Path(folder).resolve()
    fd = None if folder in _HELD else _acquire(folder / LOCK_FILE)
    _HELD[folder] = _HELD.get(folder, 0) + 1
    try:
        yield folder
    finally:
        _HELD[folder] -= 1
        if fd is not None:
            del _HELD[folder]
            with contextlib.suppress(FileNotFoundError):
                os.unlink(folder / LOCK_FILE)  # while still locked: a waiting run then locks a fresh file
            os.close(fd)


def _acquire(lock: Path) -> int:
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise FolderLocked(lock.parent, holder) from None
        try:
            current = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the holder removed this file between our open and our lock: lock the new one


def toc_notebooks(toc: str | Path = REPO_ROOT / "book" / "_toc.yml") -> list[Path]:
    """Notebooks the book's table of contents lists, in order (paths under the repository)."""
    import yaml

    toc = Path(toc)
    with open(toc, encoding="utf-8") as handle:
        tree = yaml.safe_load(handle)
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    root = toc.parent.parent
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def chapter_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """Every ``notebooks/NN_*.ipynb`` chapter, in order."""
    return sorted(p for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def find_notebook(name_or_path: str, root: Path = REPO_ROOT) -> Path:
    """A chapter by number (``04``), stem (``04_cnn_transfer``) or file name, else a notebook's path.

    A bare name (no ``/``) that names a chapter is that chapter in ``notebooks/``, even when a file
    or folder of that name sits in the working directory; write ``./04`` to mean that file.
    """
    chapters = chapter_notebooks(root)
    if "/" not in name_or_path and os.sep not in name_or_path:
        for path in chapters:
            if name_or_path in (path.name, path.stem, path.stem.split("_", 1)[0]):
                return path
    candidate = Path(name_or_path)
    if candidate.is_file():
        return candidate
    names = ", ".join(p.stem for p in chapters)
    if candidate.is_dir():
        raise FileNotFoundError(f"{candidate} is a folder, not a notebook; name a .ipynb file or a chapter: {names}")
    raise FileNotFoundError(f"no notebook {name_or_path!r}; chapters: {names}")


def build_book(
    executed_dir: str | Path,
    build_dir: str | Path = REPO_ROOT,
    root: Path = REPO_ROOT,
    *,
    warnings_as_errors: bool = True,
) -> Path:
    """Stage the book with executed notebooks and build HTML; return ``<build_dir>/_build/html``."""
    executed_dir, build_dir = Path(executed_dir), Path(build_dir)
    stage = build_dir / "_build" / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copy2(root / "_config.yml", stage / "_config.yml")
    shutil.copytree(root / "book", stage / "book")
    (stage / "notebooks").mkdir()
    for notebook in toc_notebooks(root / "book" / "_toc.yml"):
        executed = executed_dir / notebook.name
        if not executed.exists():
            raise FileNotFoundError(f"{executed}: the executed copy of {notebook.name} is missing; run it first")
        shutil.copy2(executed, stage / "notebooks" / notebook.name)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(stage),
        "--toc", str(stage / "book" / "_toc.yml"),
        "--config", str(stage / "_config.yml"),
        "--path-output", str(build_dir),
        "--keep-going",
    ]  # fmt: skip
    if warnings_as_errors:
        command.append("-W")
    html = build_dir / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)
    doctrees = build_dir / "_build" / ".doctrees"
    if doctrees.exists():
        shutil.rmtree(doctrees)
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    completed = subprocess.run(command, env=env, text=True, capture_output=True)
    if completed.returncode != 0:
        log = f"{completed.stdout[-6000:]}\n{completed.stderr[-6000:]}"
        raise RuntimeError(f"jupyter-book build failed (exit {completed.returncode}):\n{log}")
    return html


def run_all(
    notebooks: Iterable[Path],
    out_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
) -> list[RunResult]:
    """Run several notebooks in order with the same parameters; stop at the first failure.

    ``out_dir`` stays locked from the first notebook to the last.
    """
    results = []
    with lock_folder(_writable_folder(out_dir, "--out")):
        for notebook in notebooks:
            print(f"== {notebook.name}", flush=True)
            result = run_notebook(notebook, out_dir, parameters, progress=progress)
            print(f"   done in {result.wall_seconds:.1f} s -> {result.metrics}", flush=True)
            results.append(result)
    return results


# -- parallel runs: several notebooks at once, each in its own process ---------------------------------
WORKER_GRACE_SECONDS = 60
"""After Ctrl-C, how long an interrupted worker gets to mark its record failed and stop its kernel."""
_POLL_SECONDS = 0.2
# The worker runs with -P (the working directory's files cannot shadow a module) and finds this
# package where this process found it, should it not be installed.
_WORKER = (
    "import sys; sys.path.append(sys.argv[2]); "
    "from ptft_utils.kit.runner import _worker; sys.exit(_worker(sys.argv[1]))"
)


def cpu_cores() -> int:
    """The CPU cores this process may run on (its affinity where the OS has one), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def profile_setting(notebook: str | Path, profile: str, name: str) -> Any:
    """``PROFILES[profile][name]`` as the notebook's source writes it, read without running anything.

    The table is the one a code cell assigns to ``PROFILES``, written with literals in ``{...}`` or
    ``dict(...)`` (every chapter's is). None when the file cannot be read, there is no such table,
    profile or entry, or the entry is not a literal.
    """
    try:
        with open(notebook, encoding="utf-8") as handle:
            cells = list(json.load(handle).get("cells", []))
    except (OSError, ValueError, AttributeError, TypeError):  # unreadable, not JSON, not a notebook's shape
        return None
    for cell in cells:
        source = "".join(cell.get("source", "")) if cell.get("cell_type") == "code" else ""
        if "PROFILES" not in source:
            continue
        # IPython's %magics and !shell lines are not Python: blank them out before parsing
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in [node for node in tree.body if isinstance(node, ast.Assign)]:
            if any(isinstance(target, ast.Name) and target.id == "PROFILES" for target in node.targets):
                row = _literal_entries(node.value).get(profile)
                value = _literal_entries(row).get(name) if row is not None else None
                try:
                    return ast.literal_eval(value) if value is not None else None
                except ValueError:
                    return None
    return None


def _literal_entries(node: ast.expr) -> dict[str, ast.expr]:
    """The string-keyed entries of a ``{...}`` or ``dict(name=...)`` expression; empty for anything else."""
    if isinstance(node, ast.Dict):
        return {k.value: v for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)}  # fmt: skip
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        return {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
    return {}


def chapter_threads(notebook: str | Path, parameters: Mapping[str, Any] | None = None) -> int:
    """The CPU threads a run of ``notebook`` with ``parameters`` asks for; 0 means "the framework's default".

    ``cpu_threads`` if given, else the value in the chapter's profile table (profile ``default``
    unless given), else 1: a chapter without the knob is counted as one thread.
    """
    params = dict(parameters or {})
    threads = params.get("cpu_threads")
    if threads is None:
        threads = profile_setting(notebook, str(params.get("profile") or "default"), "cpu_threads")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        return 1
    return threads


def default_jobs(
    notebooks: Iterable[str | Path], parameters: Mapping[str, Any] | None = None, *, cores: int | None = None
) -> int:
    """How many notebooks may run at once when ``--jobs`` is not given: as many as the cores allow.

    ``cores // the smallest cpu_threads`` among the notebooks (0, the framework's default, takes
    every core), at least 1 and at most the number of notebooks: an upper bound, because
    :func:`run_parallel`, given ``cores``, starts a notebook only when its threads fit beside those
    running (:func:`notebook_threads`). ``cores`` defaults to :func:`cpu_cores`. One at a time when
    ``device`` is ``cuda`` or ``mps`` (every run would share the one accelerator) or ``output_dir``
    is given (every run would write the same record folder).
    """
    params = dict(parameters or {})
    notebooks = list(notebooks)
    cores = cores or cpu_cores()
    if not notebooks or params.get("device") in ("cuda", "mps") or params.get("output_dir"):
        return 1
    narrowest = min(notebook_threads(notebooks, params, cores=cores).values())
    return max(1, min(len(notebooks), cores // narrowest))


def notebook_threads(
    notebooks: Iterable[str | Path], parameters: Mapping[str, Any] | None = None, *, cores: int | None = None
) -> dict[Path, int]:
    """The CPU threads each notebook's run takes (:func:`chapter_threads`; 0, every core, counts as ``cores``)."""
    cores = cores or cpu_cores()
    return {Path(nb).resolve(): min(cores, chapter_threads(nb, parameters) or cores) for nb in notebooks}


@dataclass(frozen=True)
class ChapterRun:
    """How one notebook of :func:`run_parallel` ended.

    ``status``: ``done`` (``result`` is set), ``failed`` (a cell raised, the kernel or the worker
    died), ``refused`` (nothing ran: a parameter, a folder, a lock) or ``interrupted``.
    ``message`` is the error as ``ptft run`` would print it; ``seconds`` the wall time of its worker,
    from start to end (``result.wall_seconds`` counts only the kernel's execution).
    """

    notebook: Path
    status: str
    seconds: float
    message: str = ""
    result: RunResult | None = None


class RunsInterrupted(KeyboardInterrupt):
    """:func:`run_parallel` was interrupted (Ctrl-C); every running notebook was stopped, its record marked failed."""

    def __init__(self, stopped: list[Path], not_started: int, out_dir: Path) -> None:
        self.stopped, self.not_started, self.out_dir = stopped, not_started, out_dir
        names = ", ".join(path.name for path in stopped) or "no notebook"
        later = f", {not_started} not started" if not_started else ""
        super().__init__(
            f"interrupted while running {names}{later}; their records are marked failed and the partly "
            f"executed notebooks kept in {out_dir}"
        )


@dataclass
class _Job:
    notebook: Path
    process: subprocess.Popen[bytes]
    result: Path
    log: Path
    started: float


def run_parallel(
    notebooks: Iterable[str | Path],
    out_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    jobs: int,
    report: Any = None,
    cores: int | None = None,
) -> list[ChapterRun]:
    """Run notebooks ``jobs`` at a time, each in its own process; a failure stops no other.

    With ``cores``, a notebook also waits until its CPU threads (:func:`notebook_threads`) fit
    beside those of the notebooks running, so that a two-thread chapter on two cores runs alone
    while one-thread chapters run in pairs; the first waiting notebook that fits starts next.

    Each worker is a fresh Python process (in its own session, so a terminal's Ctrl-C reaches only
    this one) doing what :func:`run_notebook` does, its output kept in a temporary log. This
    process holds the lock of ``out_dir`` from the first start to the last end; each worker locks
    its record folder (``<out_dir>/<name>``). ``report`` (default: print) gets one line when a
    notebook starts, ends (with its wall time) or fails, with the counts so far, and a summary.

    Returns a :class:`ChapterRun` per notebook, in the order given. Raises :class:`RunRefused`
    before anything starts when ``out_dir`` cannot be used, or when two notebooks would write one
    folder (``output_dir`` given, two of the same name). On Ctrl-C (SIGINT) every running worker is
    interrupted once, as ``ptft run`` would be, and given :data:`WORKER_GRACE_SECONDS` to mark its
    record failed; then :class:`RunsInterrupted` is raised.
    """
    paths = [Path(notebook).resolve() for notebook in notebooks]
    params = dict(parameters or {})
    say = report or (lambda line: print(line, flush=True))
    if params.get("output_dir") and len(paths) > 1:
        raise RunRefused("output_dir names one record folder for every notebook; leave it unset or use --jobs 1")
    names = [notebook_name(notebook) for notebook in paths]
    if len(set(names)) < len(names):
        twice = sorted({name for name in names if names.count(name) > 1})
        raise RunRefused(f"two notebooks named {', '.join(twice)} would write the same files in --out")
    out = _writable_folder(out_dir, "--out")
    jobs = max(1, min(jobs, len(paths)))
    started = time.monotonic()
    threads = notebook_threads(paths, params, cores=cores) if cores else None
    within = f" within {cores} cores" if cores else ""
    with lock_folder(out), tempfile.TemporaryDirectory(prefix="ptft-jobs-") as scratch:
        say(f"== {len(paths)} notebooks, {'up to ' if cores else ''}{jobs} at a time{within}, into {out}")
        ended = _run_jobs(paths, out, params, Path(scratch), (jobs, cores, threads), say)
    runs = [ended[notebook] for notebook in paths]
    done = [run for run in runs if run.status == "done"]
    busy = sum(run.seconds for run in runs)
    say(f"== {len(done)} of {len(runs)} notebooks done, {len(runs) - len(done)} failed; "
        f"{time.monotonic() - started:.1f} s wall for {busy:.1f} s of notebook time, {jobs} at a time")  # fmt: skip
    for run in runs:
        detail = f"  {_first_line(run)}" if run.message else ""
        say(f"   {run.notebook.name:<40} {run.status:<11} {run.seconds:7.1f} s{detail}")
    return runs


def _first_line(run: ChapterRun) -> str:
    """The first line of ``run.message``, without the notebook's name that it may start with."""
    return run.message.splitlines()[0].removeprefix(f"{run.notebook.name}: ") if run.message else "no message"


def _next_fitting(
    waiting: list[Path], running: list[_Job], slots: tuple[int, int | None, dict[Path, int] | None]
) -> Path | None:
    """The first waiting notebook that may start now: below ``jobs`` and, with a thread budget, within it."""
    jobs, cores, threads = slots
    if not waiting or len(running) >= jobs:
        return None
    if not cores or not threads or not running:  # no budget, or nothing running: the next one starts
        return waiting[0]
    used = sum(threads[job.notebook] for job in running)
    return next((notebook for notebook in waiting if used + threads[notebook] <= cores), None)


def _run_jobs(
    notebooks: list[Path],
    out: Path,
    params: dict[str, Any],
    scratch: Path,
    slots: tuple[int, int | None, dict[Path, int] | None],
    say: Any,
) -> dict[Path, ChapterRun]:
    """The scheduling loop of :func:`run_parallel`: start, poll, collect; stop everything on Ctrl-C or an error.

    ``slots`` is ``(jobs, cores, threads)``: at most ``jobs`` at once and, when ``cores`` is set, at
    most ``cores`` threads (each notebook's from ``threads``) among the notebooks running.
    """
    waiting = list(notebooks)
    running: list[_Job] = []
    ended: dict[Path, ChapterRun] = {}
    interrupted = False

    def counts() -> str:
        failed = sum(run.status != "done" for run in ended.values())
        return f"({len(running)} running, {len(ended) - failed} done, {failed} failed, {len(waiting)} waiting)"

    def on_sigint(signum: int, frame: Any) -> None:  # a flag, not an exception: nothing is cut off half-way
        nonlocal interrupted
        interrupted = True

    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if in_main_thread else None
    try:
        while (waiting or running) and not interrupted:
            while (notebook := _next_fitting(waiting, running, slots)) is not None:
                waiting.remove(notebook)
                running.append(_start(notebook, out, params, scratch))
                say(f"== {running[-1].notebook.name} started {counts()}")
            time.sleep(_POLL_SECONDS)
            for job in [job for job in running if job.process.poll() is not None]:
                running.remove(job)
                run = ended[job.notebook] = _collect(job)
                if run.result is not None:
                    say(f"== {job.notebook.name} done in {run.seconds:.1f} s -> {run.result.metrics} {counts()}")
                else:
                    say(f"== {job.notebook.name} {run.status.upper()} after {run.seconds:.1f} s: {_first_line(run)} "
                        f"{counts()}")  # fmt: skip
    except KeyboardInterrupt:  # a SIGINT handler of our own could not be installed (not the main thread)
        interrupted = True
    finally:
        if running:  # interrupted, or an error of our own: no worker outlives this call
            _stop(running)
            for job in running:
                ended[job.notebook] = _collect(job, stopped=True)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if interrupted:
        stopped = [notebook for notebook in notebooks if notebook in ended and ended[notebook].status == "interrupted"]
        raise RunsInterrupted(stopped, len(waiting), out)
    return ended


def _start(notebook: Path, out: Path, params: dict[str, Any], scratch: Path) -> _Job:
    """One worker process for ``notebook``: its orders and its outcome in JSON files, its output in a log."""
    name = notebook_name(notebook)
    spec, result, log = scratch / f"{name}.spec.json", scratch / f"{name}.result.json", scratch / f"{name}.log"
    # Parameters are YAML/JSON values already (papermill injects them as such), so JSON keeps them.
    orders = {"notebook": str(notebook), "out_dir": str(out), "parameters": params, "result": str(result)}
    spec.write_text(json.dumps(orders), encoding="utf-8")
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-P", "-c", _WORKER, str(spec), str(REPO_ROOT)],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return _Job(notebook, process, result, log, time.monotonic())


def _collect(job: _Job, *, stopped: bool = False) -> ChapterRun:
    """A finished worker's :class:`ChapterRun`: from its result file, else from its exit status and log."""
    seconds = time.monotonic() - job.started
    try:
        outcome = json.loads(job.result.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        if stopped:
            return ChapterRun(job.notebook, "interrupted", seconds, f"interrupted while running {job.notebook.name}")
        tail = job.log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:]
        message = f"{job.notebook.name}: the worker ended (exit status {job.process.returncode}) without a result"
        return ChapterRun(job.notebook, "failed", seconds, "\n".join([message, *tail]))
    if outcome["status"] != "done":
        return ChapterRun(job.notebook, outcome["status"], seconds, outcome["message"])
    result = RunResult(job.notebook, Path(outcome["output"]), Path(outcome["metrics"]), outcome["wall_seconds"])
    return ChapterRun(job.notebook, "done", seconds, "", result)


def _stop(running: list[_Job]) -> None:
    """Interrupt every running worker once, as Ctrl-C would; kill one that is not gone after the grace period."""
    for job in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.process.pid, signal.SIGINT)
    deadline = time.monotonic() + WORKER_GRACE_SECONDS
    for job in running:
        try:
            job.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(job.process.pid, signal.SIGKILL)
            job.process.wait()


def _worker(spec_path: str) -> int:
    """One notebook of :func:`run_parallel`, in its own process; exits as ``ptft run`` would (0, 1, 2, 130).

    The parent holds the lock of ``--out``; this process locks the record folder. Its outcome goes
    to the result file the parent named, as JSON.
    """
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))  # written by run_parallel, a moment ago
    notebook = Path(spec["notebook"])
    outcome: dict[str, Any] = {"status": "done", "message": ""}
    code = 0
    try:
        result = _run_in_locked_out(notebook, Path(spec["out_dir"]), spec["parameters"], progress=False)
        outcome.update(output=str(result.output), metrics=str(result.metrics), wall_seconds=result.wall_seconds)
    except NotebookFailed as exc:
        outcome, code = {"status": "failed", "message": str(exc)}, 1
    except (RunRefused, ValueError, FileNotFoundError) as exc:  # ValueError: ParameterError, not a notebook
        outcome, code = {"status": "refused", "message": str(exc)}, 2
    except KeyboardInterrupt as exc:
        message = str(exc) if isinstance(exc, Interrupted) else f"interrupted while running {notebook.name}"
        outcome, code = {"status": "interrupted", "message": message}, 130
    except Exception as exc:  # a bug of ours: the traceback goes to the log, the one line to the parent
        traceback.print_exc()
        outcome, code = {"status": "failed", "message": f"{notebook.name}: {one_line_error(exc)}"}, 1
    atomic_write_text(spec["result"], json.dumps(outcome))
    return code


__all__ = [
    "ChapterRun",
    "FolderLocked",
    "Interrupted",
    "NotebookFailed",
    "ParameterError",
    "RunRefused",
    "RunResult",
    "RunsInterrupted",
    "build_book",
    "chapter_notebooks",
    "chapter_threads",
    "check_parameters",
    "cpu_cores",
    "default_jobs",
    "find_notebook",
    "lock_folder",
    "notebook_parameters",
    "notebook_threads",
    "parse_value",
    "profile_setting",
    "run_all",
    "run_notebook",
    "run_parallel",
    "toc_notebooks",
]
