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

The book build stages a copy of the book (``_config.yml``, ``book/``) with the *executed*
notebooks in ``notebooks/`` and runs ``jupyter-book build`` on it with warnings as errors; the
committed notebooks stay free of outputs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    notebook = Path(notebook).resolve()
    name = notebook_name(notebook)
    params = dict(parameters or {})
    out_dir = _writable_folder(out_dir, "--out")
    output = out_dir / f"{name}.ipynb"
    with lock_folder(out_dir):  # first (it is cheap): a second run into the same --out fails at once
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


__all__ = [
    "FolderLocked",
    "Interrupted",
    "NotebookFailed",
    "ParameterError",
    "RunRefused",
    "RunResult",
    "build_book",
    "chapter_notebooks",
    "check_parameters",
    "find_notebook",
    "lock_folder",
    "notebook_parameters",
    "parse_value",
    "run_all",
    "run_notebook",
    "toc_notebooks",
]
