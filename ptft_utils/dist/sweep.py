"""Sweep a notebook over a grid of parameters and seeds: one papermill run per cell, resumable.

To run on this machine, in a pool of worker processes (``--jobs``, default: the cores / cores per run):
$ ptft sweep 02_formulas --profile smoke -g opt_steps "[10, 20]" --seeds 0-1 --jobs 2 --out runs/sweep

To run each cell as a Ray task on a single node (ptft starts Ray with this machine's cores, without
its dashboard, and stops it at the end; ``pip install "ptft[dist]"`` first):
$ ptft sweep 02_formulas --profile smoke -g opt_steps "[10, 20]" --seeds 0-4 --executor ray --out runs/sweep

To run on a Ray cluster (every node needs this checkout installed at the same path, and the
notebook and ``--out`` on a filesystem all nodes share):
- on the head node:
$ ray start --head --port 6379
- on each other node:
$ ray start --address HEAD:6379
- then, on any node of the cluster:
$ ptft sweep 04 -g pretrain_epochs "[1, 5]" --seeds 0-9 --device cuda --executor ray --address auto --out /shared/s
- or from a machine outside it, through Ray Client (its port 10001 on the head; same shared paths):
$ ptft sweep 04 ... --executor ray --address ray://HEAD:10001 --out /shared/sweep
- when done, on every node: ray stop

Kill any of these and run the same command again: it reruns only what is not complete.
``ptft sweep --summarize --out DIR`` shows a finished sweep's table; ``-g NAME VALUES`` takes a
YAML list, ``-p NAME VALUE`` a fixed value, ``--seeds 0-9`` or ``0,3,5`` sets ``seed``.

**Cells and run ids.** The cells are the product of the ``-g`` lists, in the order given, with the
seeds innermost; every cell also gets the fixed ``-p``/``--profile``/``--device`` values. A
cell's id is its swept values, ``name=value`` joined by ``__`` (``opt_steps=10__seed=0``); where
a value cannot be written plainly (a list, a string with other characters than letters, digits
and ``.+-_,``, a string that reads as a number) or the id would pass 80 characters, the readable
part is followed by ``-`` and 8 hex digits of a SHA-1 of the cell's swept values
(``lr_grid=0.001,0.01-3f2a9c1d``). The same cell always gets the same id, and two cells never share
one. The fixed values are not in the id: a rerun with another ``--profile`` into the same
``--out`` replaces the runs (the resume rule sees their parameters differ).

**Layout.** ``<out>/sweep.json`` (the manifest: the notebook, the grid, each cell with its id,
parameters, status and the ``ptft run`` command that reruns it alone; written atomically) and per
cell ``<out>/<id>/`` holding the executed ``<chapter>.ipynb`` and its record ``metrics.json``
(``output_dir`` is the cell's folder). Each run goes through :func:`ptft_utils.kit.runner.run_notebook`,
the path of ``ptft run``: parameter checks before a kernel starts, locked folders, the record's
status ``running``/``complete``/``failed``, a failed run's partial notebook kept.

**Resume rule.** A cell is skipped when ``<out>/<id>/metrics.json`` is ``complete``, is a record
of the same notebook, and holds, for every parameter the cell sets (``output_dir`` aside), an
equal value; a missing, ``running`` (killed), ``failed`` or unreadable record, or one with other
parameters, is run again. The rule is checked by the driver to plan, and again by the worker
under the cell's folder lock just before it runs, so a run still finishing when its sweep is
killed and rerun is neither run twice nor lost. The driver holds ``<out>``'s lock for the whole
sweep; pool workers die with it (a killed driver leaves no run going).

**Failures.** A failing run is recorded (``failed``, its error, the partial notebook) and the other
cells go on; the sweep exits 1 and its last line says how many of the N runs failed.

**Ray.** Each run is a task with ``num_cpus`` = the cell's ``cpu_threads`` (when it sets one,
else 1) and ``num_gpus`` = 1 when its ``device`` is ``cuda``; tasks are not retried (a crashed
worker's run is recorded failed; rerun the sweep). Ray is imported only here, and only for
``--executor ray``.

Results: :func:`sweep_table` (also ``--summarize``) has one row per cell with each swept parameter
as a column, lists included (``ptft results`` drops list-valued parameters);
:func:`sweep_ci` and :func:`plot_sweep` give a metric's mean and 95% interval over seeds
against one parameter.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ptft_utils.eval.stats import mean_ci
from ptft_utils.kit import runner
from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.kit.results import (
    COMPLETE,
    FAILED,
    METRICS_FILE,
    BadRecord,
    OutputDirError,
    check_output_dir,
    load_run,
    mark_failed,
    one_line_error,
)

MANIFEST = "sweep.json"
MANIFEST_SCHEMA = 1
EXECUTORS = ("local", "ray")
PENDING = "pending"
MAX_ID_LENGTH = 80
LOCK_WAIT_SECONDS = 30.0
"""How long a worker waits for a cell's folder held by another process (a killed sweep's last run)."""
INSTALL_RAY = 'pip install "ptft[dist]"'

Report = Callable[[str], None]


class SweepError(ValueError):
    """A sweep that cannot start: a bad grid, seed list or manifest, or an executor that is not installed."""


# -- the grid -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """One run of the sweep: its id, the values it sweeps and every parameter it injects."""

    run_id: str
    swept: dict[str, Any]
    parameters: dict[str, Any] = field(repr=False)


def parse_seeds(text: str) -> list[int]:
    """``"0-9"`` -> 0..9, ``"0,3,5"`` -> [0, 3, 5], ``"0-2,7"`` -> [0, 1, 2, 7]; no seed twice."""
    seeds: list[int] = []
    for part in str(text).split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None:
            raise SweepError(f"--seeds {text!r}: write a range 0-9, a list 0,3,5 or both (0-2,7); {part!r} is neither")
        first, last = int(match[1]), int(match[2] if match[2] is not None else match[1])
        if last < first:
            raise SweepError(f"--seeds {text!r}: the range {part.strip()} runs backwards")
        seeds.extend(range(first, last + 1))
    twice = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if twice:
        raise SweepError(f"--seeds {text!r} names seed(s) {twice} more than once")
    return seeds


def parse_grid(pairs: Sequence[Sequence[str]] | None) -> dict[str, list[Any]]:
    """``-g NAME VALUES`` pairs as ``{name: values}``; VALUES is a YAML list, read as ``ptft run`` reads ``-p``."""
    grid: dict[str, list[Any]] = {}
    for name, text in pairs or []:
        values = runner.parse_value(text)
        if not isinstance(values, list) or not values:
            raise SweepError(f'-g {name} {text!r}: give a non-empty YAML list of values, e.g. -g {name} "[1, 2]"')
        if name in grid:
            raise SweepError(f"-g {name} is given twice; put all its values in one list")
        rendered = [_canonical(value) for value in values]
        twice = [values[i] for i, text_i in enumerate(rendered) if rendered.index(text_i) != i]
        if twice:
            raise SweepError(f"-g {name} {text!r} lists {twice[0]!r} more than once")
        grid[name] = values
    return grid


def fixed_parameters(
    pairs: Sequence[Sequence[str]] | None, profile: str | None = None, device: str | None = None
) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs (YAML values, as ``ptft run`` reads them) plus ``--profile`` and ``--device``."""
    fixed: dict[str, Any] = {name: runner.parse_value(value) for name, value in (pairs or [])}
    if profile:
        fixed["profile"] = profile
    if device:
        fixed["device"] = device
    return fixed


def plan(fixed: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], seeds: Sequence[int] | None) -> list[Cell]:
    """The cells: the product of the grid's lists (in order) and the seeds (innermost), each with the fixed values."""
    swept_names = [*grid, *(["seed"] if seeds is not None else [])]
    if not swept_names:
        raise SweepError("nothing to sweep: give -g NAME VALUES and/or --seeds")
    if "output_dir" in fixed or "output_dir" in grid:
        raise SweepError("output_dir cannot be set: each run's folder, <out>/<run-id>, is its output_dir")
    if "seed" in grid and seeds is not None:
        raise SweepError("seed is swept twice (-g seed and --seeds); use --seeds")
    both = [name for name in swept_names if name in fixed]
    if both:
        raise SweepError(f"{both[0]} is both fixed (-p, --profile, --device) and swept; give it one way")
    lists = [list(grid[name]) for name in grid] + ([list(seeds)] if seeds is not None else [])
    cells = []
    for values in itertools.product(*lists):
        swept = dict(zip(swept_names, values, strict=True))
        cells.append(Cell(run_id(swept), swept, {**fixed, **swept}))
    ids = [cell.run_id for cell in cells]
    clash = next((i for i in ids if ids.count(i) > 1), None)
    if clash is not None:  # the id rule is injective; this guards against an edit that breaks it
        raise SweepError(f"two cells share the run id {clash!r}")
    return cells


_PLAIN = re.compile(r"[A-Za-z0-9.+-]+(?:[_,][A-Za-z0-9.+-]+)*")


def run_id(swept: Mapping[str, Any]) -> str:
    """``opt_steps=10__seed=0``; with ``-`` and 8 hex digits of a hash when a value cannot be written plainly.

    A value is plain when it is a number, a bool or ``null`` (as JSON writes it), or a string of
    letters, digits and ``.+-`` (single ``_`` or ``,`` inside) that does not read as JSON.
    """
    parts, exact = [], True
    for name, value in swept.items():
        text, plain = _id_token(value)
        exact &= plain
        parts.append(f"{name}={text}")
    readable = "__".join(parts)
    if exact and len(readable) <= MAX_ID_LENGTH:
        return readable
    digest = hashlib.sha1(_canonical(dict(swept)).encode()).hexdigest()[:8]
    return f"{readable[: MAX_ID_LENGTH - 9].rstrip('_=,.-')}-{digest}"


def _id_token(value: Any) -> tuple[str, bool]:
    """A value as it appears in a run id, and whether that text is the value exactly."""
    if isinstance(value, list):
        text = ",".join(_id_token(item)[0] for item in value)
        plain = False
    else:
        text = value if isinstance(value, str) else json.dumps(value)
        plain = _PLAIN.fullmatch(text) is not None and not (isinstance(value, str) and _reads_as_json(text))
    if not plain:
        text = re.sub(r"[^A-Za-z0-9.+,-]+", "-", text).strip("-") or "x"
    return text, plain


def _reads_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def check_cells(notebook: str | Path, cells: Sequence[Cell], out: str | Path) -> None:
    """The checks ``ptft run`` makes before a kernel starts, for every cell: names, common values."""
    for cell in cells:
        runner.check_parameters(notebook, {**cell.parameters, "output_dir": str(Path(out) / cell.run_id)})


# -- resuming -----------------------------------------------------------------------------------
def resume_reason(folder: str | Path, notebook: str, parameters: Mapping[str, Any]) -> str | None:
    """None when ``folder`` holds a complete record of ``notebook`` with these parameters; else why it must run."""
    path = Path(folder) / METRICS_FILE
    if not path.exists():
        return "no record yet"
    try:
        record = load_run(path)
    except BadRecord as exc:
        return f"unreadable record ({exc.reason})"
    if record["notebook"] != notebook:
        return f"its record is of notebook {record['notebook']!r}"
    if record["status"] != COMPLETE:
        error = f": {record.get('error')}" if record["status"] == FAILED else " (killed or interrupted)"
        return f"its record is {record['status'] or 'without status'}{error}"
    recorded = record["parameters"]
    for name, value in parameters.items():
        if name == "output_dir":
            continue
        if name not in recorded:
            return f"its record has no parameter {name}"
        if not _same(recorded[name], value):
            return f"its record has {name}={recorded[name]!r}, this sweep {value!r}"
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal as parameters: 10 and 10.0 are (a float knob resolves 10 to 10.0); True and 1 are not."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# -- one run (in a worker) ----------------------------------------------------------------------
def run_cell(notebook: str, folder: str, parameters: Mapping[str, Any], run_id: str = "") -> dict[str, Any]:
    """Run one cell into ``folder`` unless its record already says it is done; never raises.

    Returns ``{"run_id", "status": "complete"|"failed", "reused", "error", "wall_seconds", "output"}``.
    The resume rule is checked again here, under the folder's lock.
    """
    started = time.perf_counter()
    name = runner.notebook_name(notebook)
    outcome: dict[str, Any] = {"run_id": run_id, "status": FAILED, "reused": False, "error": None,
                               "wall_seconds": None, "output": str(Path(folder) / f"{name}.ipynb")}  # fmt: skip
    try:
        with _wait_for_lock(Path(folder)):
            if resume_reason(folder, name, parameters) is None:
                return {**outcome, "status": COMPLETE, "reused": True}
            result = _run_notebook(notebook, folder, {**parameters, "output_dir": folder})
            problem = resume_reason(folder, name, parameters)
            if problem is not None:  # the notebook ran to its end but did not save a complete record
                outcome["error"] = f"the notebook finished but {problem}; does it call rec.save()?"
            else:
                outcome["status"] = COMPLETE
            outcome["wall_seconds"] = round(result.wall_seconds, 3)
    except runner.NotebookFailed as exc:
        outcome["error"] = f"{exc.ename}: {exc.evalue}"
    except KeyboardInterrupt:
        outcome["error"] = "interrupted"
    except Exception as exc:  # refused (a locked folder, a parameter) or a bug: this cell fails, the others go on
        outcome["error"] = one_line_error(exc)
    if outcome["wall_seconds"] is None:
        outcome["wall_seconds"] = round(time.perf_counter() - started, 3)
    return outcome


KERNEL_START_FAILED = re.compile(r"Kernel (didn't respond|died before replying)")
"""nbclient's words for a kernel that never came up (e.g. a port taken between its choice and its bind)."""


def _run_notebook(notebook: str, folder: str, parameters: Mapping[str, Any]) -> runner.RunResult:
    """:func:`ptft_utils.kit.runner.run_notebook`, tried once more when the kernel failed to start.

    Parallel kernels (ours, or any other program's sockets) race for the ports Jupyter picks
    (jupyter/jupyter_client#487); a kernel that lost the race never answers, and no cell ran.
    """
    try:
        return runner.run_notebook(notebook, folder, parameters, progress=False)
    except runner.NotebookFailed as exc:
        if exc.cell is not None or not KERNEL_START_FAILED.search(exc.evalue):
            raise
    return runner.run_notebook(notebook, folder, parameters, progress=False)


@contextmanager
def _wait_for_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s run lock, waiting up to :data:`LOCK_WAIT_SECONDS` for another holder to finish."""
    folder = _writable(folder, "the run's folder")
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with ExitStack() as stack:
        while True:
            try:
                stack.enter_context(runner.lock_folder(folder))
                break
            except runner.FolderLocked:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
        yield


def _writable(folder: str | Path, setting: str) -> Path:
    """``folder`` absolute, created and writable, or :class:`ptft_utils.kit.runner.RunRefused` saying why."""
    try:
        return check_output_dir(folder, setting)
    except OutputDirError as exc:
        raise runner.RunRefused(str(exc)) from None


_IN_RUN = threading.Event()  # set in a pool worker while run_cell runs
_STOPPING = threading.Event()  # set in a pool worker told to stop: it starts no further run


def _pool_worker_init(parent: int) -> None:
    """Pool-worker initializer: stop on the driver's word only, and never outlive the driver.

    A terminal's Ctrl-C is ignored (the driver gets it and sends SIGTERM, which interrupts a run
    the way Ctrl-C interrupts ``ptft run``: its record is marked failed). When the driver dies,
    even by SIGKILL, a watcher thread kills this worker's kernel and the worker within a second.
    """
    import signal

    def on_term(signum: int, frame: Any) -> None:
        _STOPPING.set()
        if not _IN_RUN.is_set():
            os._exit(0)
        import logging

        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # nbclient's tasks, cut off with the kernel
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        try:
            import psutil

            for child in psutil.Process().children(recursive=True):
                child.kill()
        except Exception:  # psutil missing or a child gone: the kernel's own parent poller ends it
            pass
        os._exit(1)

    threading.Thread(target=watch, name="ptft-die-with-driver", daemon=True).start()


def _pool_run_cell(notebook: str, folder: str, parameters: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    if _STOPPING.is_set():  # queued before the sweep was interrupted
        output = str(Path(folder) / f"{runner.notebook_name(notebook)}.ipynb")
        return {"run_id": run_id, "status": FAILED, "reused": False, "error": "not started: the sweep was interrupted",
                "wall_seconds": 0.0, "output": output}  # fmt: skip
    _IN_RUN.set()
    try:
        return run_cell(notebook, folder, parameters, run_id)
    finally:
        _IN_RUN.clear()


# -- the sweep ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """How one cell ended in this sweep: complete (``reused``: done by an earlier sweep) or failed."""

    run_id: str
    status: str
    reused: bool = False
    error: str | None = None
    wall_seconds: float | None = None
    output: str | None = None


def run_sweep(
    notebook: str | Path,
    out: str | Path,
    cells: Sequence[Cell],
    *,
    executor: str = "local",
    jobs: int | None = None,
    address: str | None = None,
    command: Sequence[str] | None = None,
    report: Report | None = print,
) -> list[Outcome]:
    """Run every cell that the resume rule does not skip, on ``executor``; one :class:`Outcome` per cell, in order.

    Raises :class:`SweepError` (Ray not installed, a cluster without the resources a run needs) or
    :class:`ptft_utils.kit.runner.RunRefused` (``out`` not writable or locked) before any run.
    """
    if executor not in EXECUTORS:
        raise SweepError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    if jobs is not None and jobs < 1:
        raise SweepError(f"--jobs {jobs}: give at least 1")
    ray = _import_ray() if executor == "ray" else None
    say = report or (lambda line: None)
    notebook = Path(notebook).resolve()
    out = _writable(out, "--out")
    name = runner.notebook_name(notebook)
    with runner.lock_folder(out):
        state, todo = _plan(out, name, cells)
        manifest = _manifest(notebook, out, cells, executor, command)
        _write_manifest(out, manifest, state)
        reused = len(cells) - len(todo)
        say(f"sweep {name}: {len(cells)} runs into {out}; {reused} already complete, {len(todo)} to run ({executor})")

        finished = _progress(out, manifest, state, len(todo), say)
        tasks = [(str(notebook), str(out / cell.run_id), cell) for cell in todo]
        if ray is not None:
            _execute_ray(ray, tasks, jobs, address, finished, say)
        elif tasks:
            _execute_local(tasks, jobs, finished)
    return [_outcome(cell.run_id, state[cell.run_id]) for cell in cells]


def _plan(out: Path, name: str, cells: Sequence[Cell]) -> tuple[dict[str, dict[str, Any]], list[Cell]]:
    """Each cell's starting state, and the cells the resume rule does not skip."""
    state: dict[str, dict[str, Any]] = {}
    todo = []
    for cell in cells:
        reason = resume_reason(out / cell.run_id, name, cell.parameters)
        state[cell.run_id] = {"status": COMPLETE if reason is None else PENDING, "reused": reason is None}
        if reason is not None:
            todo.append(cell)
    return state, todo


def _progress(
    out: Path, manifest: dict[str, Any], state: dict[str, dict[str, Any]], total: int, say: Report
) -> Callable[[dict[str, Any]], None]:
    """The callback each finished run reports to: it updates the manifest and prints one line."""
    done = 0

    def finished(outcome: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        state[outcome["run_id"]] = outcome
        _write_manifest(out, manifest, state)
        if outcome["status"] == COMPLETE:
            what = "complete (done meanwhile)" if outcome["reused"] else "complete"
        else:
            kept = outcome["output"] and Path(outcome["output"]).exists()
            what = f"FAILED: {outcome['error']}" + (f" (notebook kept: {outcome['output']})" if kept else "")
        say(f"[{done}/{total}] {outcome['run_id']}  {what}  {outcome['wall_seconds'] or 0:.1f} s")

    return finished


def _outcome(run_id: str, entry: dict[str, Any]) -> Outcome:
    return Outcome(
        run_id,
        entry["status"],
        bool(entry.get("reused")),
        entry.get("error"),
        entry.get("wall_seconds"),
        entry.get("output"),
    )


Task = tuple[str, str, Cell]


def cpus_per_run(notebook: str | Path, cell: Cell) -> int:
    """The cores one run takes: its ``cpu_threads`` (given, else the chapter's profile table's), else 1.

    0 (the framework's default: every core) counts as all of this machine's cores.
    """
    return runner.chapter_threads(notebook, cell.parameters) or runner.cpu_cores()


def gpus_per_run(cell: Cell) -> int:
    return 1 if cell.parameters.get("device") == "cuda" else 0


def _execute_local(tasks: Sequence[Task], jobs: int | None, finished: Callable[[dict[str, Any]], None]) -> None:
    """A pool of ``jobs`` spawned worker processes (default: the cores / cores per run); workers die with it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if jobs is None:
        jobs = max(1, runner.cpu_cores() // max(cpus_per_run(notebook, cell) for notebook, _, cell in tasks))
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process with threads
        initializer=_pool_worker_init,
        initargs=(os.getpid(),),
    )
    try:
        futures = {
            pool.submit(_pool_run_cell, notebook, folder, cell.parameters, cell.run_id): (notebook, folder, cell)
            for notebook, folder, cell in tasks
        }
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # the worker process died (killed, out of memory)
                outcome = _crashed(*futures[future], exc)
            finished(outcome)
    except BaseException:  # Ctrl-C or an error of ours: interrupt the runs, start no other, wait for them
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in multiprocessing.active_children():
            worker.terminate()
        pool.shutdown(wait=True)
        raise
    pool.shutdown(wait=True)


def _crashed(notebook: str, folder: str, cell: Cell, error: BaseException) -> dict[str, Any]:
    """The outcome of a run whose worker died; its record, if still ``running``, is marked failed."""
    message = f"the worker running it died ({one_line_error(error)})"
    mark_failed(folder, message, notebook=runner.notebook_name(notebook), parameters=cell.parameters)
    output = str(Path(folder) / f"{runner.notebook_name(notebook)}.ipynb")
    return {"run_id": cell.run_id, "status": FAILED, "reused": False, "error": message, "wall_seconds": None,
            "output": output}  # fmt: skip


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise SweepError(f"--executor ray needs Ray, which is not installed: {INSTALL_RAY}") from None
    return ray


def _execute_ray(
    ray: Any,
    tasks: Sequence[Task],
    jobs: int | None,
    address: str | None,
    finished: Callable[[dict[str, Any]], None],
    say: Report,
) -> None:
    """Each task a Ray task (at most ``jobs`` at a time, if given); start and stop Ray unless joining one."""
    import logging

    started_here = not ray.is_initialized()
    if started_here:
        if address:
            context = ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
            say(f"ray: joined the cluster at {address} ({_resources(ray)})")
        else:
            cores = os.cpu_count() or 1
            context = ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False,
                               logging_level=logging.WARNING)  # fmt: skip
            where = getattr(context, "address_info", {}).get("gcs_address", "this machine")
            say(f"ray: started a single-node cluster at {where} ({_resources(ray)})")
    try:
        if not tasks:
            return
        _check_resources(ray, tasks)
        remote = ray.remote(run_cell)
        waiting = list(tasks)
        running: dict[Any, Task] = {}
        try:
            while waiting or running:
                while waiting and (jobs is None or len(running) < jobs):
                    notebook, folder, cell = task = waiting.pop(0)
                    options = {
                        "num_cpus": cpus_per_run(notebook, cell),
                        "num_gpus": gpus_per_run(cell),
                        "max_retries": 0,
                    }
                    ref = remote.options(**options).remote(notebook, folder, cell.parameters, cell.run_id)
                    running[ref] = task
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    task = running.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except Exception as exc:  # the worker crashed, or the task was cancelled
                        outcome = _crashed(*task, exc)
                    finished(outcome)
        except BaseException:
            for ref in running:
                ray.cancel(ref, force=True)
            raise
    finally:
        if started_here:
            ray.shutdown()


def _resources(ray: Any) -> str:
    total = ray.cluster_resources()
    return f"{total.get('CPU', 0):g} CPUs, {total.get('GPU', 0):g} GPUs"


def _check_resources(ray: Any, tasks: Sequence[Task]) -> None:
    """Refuse a run that needs more CPUs or GPUs than the whole cluster has (Ray would wait for ever)."""
    total = ray.cluster_resources()
    for notebook, _, cell in tasks:
        for resource, need in (("CPU", cpus_per_run(notebook, cell)), ("GPU", gpus_per_run(cell))):
            if need > total.get(resource, 0):
                raise SweepError(
                    f"run {cell.run_id} needs {need} {resource}(s) and the Ray cluster has "
                    f"{total.get(resource, 0):g}; set device/cpu_threads or join a larger cluster"
                )


# -- the manifest -------------------------------------------------------------------------------
def _manifest(
    notebook: Path, out: Path, cells: Sequence[Cell], executor: str, command: Sequence[str] | None
) -> dict[str, Any]:
    swept = list(cells[0].swept) if cells else []
    grid = {name: _distinct([cell.swept[name] for cell in cells]) for name in swept}
    fixed = {k: v for k, v in (cells[0].parameters.items() if cells else ()) if k not in swept}
    return {
        "schema": MANIFEST_SCHEMA,
        "notebook": runner.notebook_name(notebook),
        "notebook_path": str(notebook),
        "command": shlex.join(command) if command else None,
        "executor": executor,
        "swept": swept,
        "grid": grid,
        "fixed": fixed,
        "cells": [
            {
                "id": cell.run_id,
                "swept": cell.swept,
                "parameters": cell.parameters,
                "command": rerun_command(notebook, out, cell),
            }
            for cell in cells
        ],
    }


def _distinct(values: Sequence[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(_canonical(value), value)
    return list(seen.values())


def _write_manifest(out: Path, manifest: dict[str, Any], state: Mapping[str, Mapping[str, Any]]) -> None:
    cells = []
    for cell in manifest["cells"]:
        now = state.get(cell["id"], {})
        entry = {**cell, "status": now.get("status", PENDING), "reused": bool(now.get("reused"))}
        if now.get("error"):
            entry["error"] = now["error"]
        cells.append(entry)
    counts = {status: sum(c["status"] == status for c in cells) for status in (COMPLETE, FAILED, PENDING)}
    atomic_write_text(out / MANIFEST, json.dumps({**manifest, "counts": counts, "cells": cells}, indent=2) + "\n")


def read_manifest(out: str | Path) -> dict[str, Any]:
    """``<out>/sweep.json``; :class:`SweepError` naming the file when it is missing or unreadable."""
    path = Path(out) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"{path}: no sweep manifest (is {out} the --out of a ptft sweep?)") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot be read ({one_line_error(exc)})") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA or "cells" not in manifest:
        raise SweepError(f"{path}: not a sweep manifest of schema {MANIFEST_SCHEMA}")
    return manifest


def rerun_command(notebook: Path, out: Path, cell: Cell) -> str:
    """The ``ptft run`` command that reruns this one cell into its folder."""
    folder = str(_shown_path(out / cell.run_id))
    words = ["ptft", "run", str(_shown_path(notebook))]
    for name, value in cell.parameters.items():
        if name in ("profile", "device"):
            words += [f"--{name}", str(value)]
        else:
            words += ["-p", name, _yaml_text(value)]
    return shlex.join([*words, "-p", "output_dir", folder, "--out", folder])


def _shown_path(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _yaml_text(value: Any) -> str:
    """A value as ``-p NAME VALUE`` reads it back (YAML, one line): ``1.0e-05``, ``[1, 2]``, ``'yes'``."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=1 << 20).removesuffix("...\n").strip()


# -- results ------------------------------------------------------------------------------------
def sweep_table(out: str | Path):  # -> pandas.DataFrame
    """One row per cell of the sweep in ``out``: id, status, each swept parameter, wall time, metrics, command.

    Read from the manifest and each cell's record, so a cell not run yet shows as ``missing``.
    """
    import pandas as pd

    manifest = read_manifest(out)
    rows = []
    for cell in manifest["cells"]:
        row: dict[str, Any] = {"run_id": cell["id"], "status": "missing"}
        row.update(cell["swept"])
        try:
            record = load_run(Path(out) / cell["id"] / METRICS_FILE)
        except BadRecord as exc:
            if (Path(out) / cell["id"] / METRICS_FILE).exists():
                row["status"], row["error"] = "unreadable", exc.reason
        else:
            row["status"] = record["status"] or "no status"
            row["wall_seconds"] = record.get("wall_seconds")
            if record.get("error"):
                row["error"] = record["error"]
            row.update({k: v for k, v in record["metrics"].items() if k not in row})
        row["command"] = cell["command"]
        rows.append(row)
    table = pd.DataFrame(rows)
    if "error" in table.columns:
        table["error"] = table["error"].fillna("")
    last = [c for c in ("error", "command") if c in table.columns]
    return table[[c for c in table.columns if c not in last] + last]


def sweep_ci(out: str | Path, metric: str, parameter: str, confidence: float = 0.95):  # -> pandas.DataFrame
    """``metric``'s mean and t interval over seeds for each value of ``parameter`` (complete runs only).

    Swept parameters other than ``parameter`` and ``seed`` keep their own rows (one column each).
    Columns: those parameters, ``parameter``, ``mean``, ``ci_low``, ``ci_high``, ``seeds``.
    """
    import pandas as pd

    manifest = read_manifest(out)
    swept = list(manifest.get("swept") or [])
    if parameter not in swept:
        raise SweepError(f"{parameter!r} is not swept in {out}; swept: {', '.join(swept)}")
    table = sweep_table(out)
    complete = table[table["status"] == COMPLETE]
    if metric not in table.columns or complete.empty or complete[metric].isna().all():
        raise SweepError(f"no complete run in {out} recorded the metric {metric!r}")
    others = [name for name in swept if name not in (parameter, "seed")]
    groups: dict[str, dict[str, Any]] = {}
    for _, row in complete.iterrows():
        value = row[metric]
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        key_values = {name: row[name] for name in (*others, parameter)}
        group = groups.setdefault(_canonical(key_values), {**key_values, "values": []})
        group["values"].append(float(value))
    rows = []
    for group in groups.values():
        mean, low, high = mean_ci(group["values"], confidence)
        rows.append({**{k: v for k, v in group.items() if k != "values"}, "mean": mean, "ci_low": low,
                     "ci_high": high, "seeds": len(group["values"])})  # fmt: skip
    return pd.DataFrame(rows, columns=[*others, parameter, "mean", "ci_low", "ci_high", "seeds"])


def plot_sweep(out: str | Path, metric: str, parameter: str, *, ax: Any = None, confidence: float = 0.95) -> Any:
    """Plot ``metric`` against ``parameter``: the mean over seeds with its 95% interval; returns the Axes.

    One line per combination of the other swept parameters. Numbers are placed on a numeric axis,
    anything else (strings, lists) at evenly spaced positions labelled with the values.
    """
    import matplotlib.pyplot as plt

    summary = sweep_ci(out, metric, parameter, confidence)
    manifest = read_manifest(out)
    others = [c for c in summary.columns if c not in (parameter, "mean", "ci_low", "ci_high", "seeds")]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    values = _distinct(list(summary[parameter]))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    position = {_canonical(v): (float(v) if numeric else i) for i, v in enumerate(values)}
    lines = summary.groupby(others, sort=False) if others else [((), summary)]
    for key, rows in lines:
        xs = [position[_canonical(v)] for v in rows[parameter]]
        order = sorted(range(len(xs)), key=xs.__getitem__)
        x = [xs[i] for i in order]
        mean = [rows["mean"].iloc[i] for i in order]
        err = [[mean[j] - rows["ci_low"].iloc[i] for j, i in enumerate(order)],
               [rows["ci_high"].iloc[i] - mean[j] for j, i in enumerate(order)]]  # fmt: skip
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{name}={value}" for name, value in zip(others, key, strict=True)) or None
        ax.errorbar(x, mean, yerr=err, marker="o", capsize=3, label=label)
    if not numeric:
        ax.set_xticks(range(len(values)), [str(v) for v in values])
    seeds = int(summary["seeds"].max()) if len(summary) else 0
    ax.set_xlabel(parameter)
    ax.set_ylabel(metric)
    ax.set_title(f"{manifest['notebook']}: {metric} vs {parameter} (mean, {confidence:.0%} CI, up to {seeds} seeds)")
    if others:
        ax.legend()
    return ax


# -- the command line (``ptft sweep``, see ptft_utils.kit.cli) ------------------------------------
def main(args: Any) -> int:
    """``ptft sweep``: plan, check, run and report; the exit status as ``ptft``'s other commands give it."""
    from ptft_utils.kit.cli import EXIT_FAILED, EXIT_USAGE

    def refuse(message: str) -> int:
        print(f"ptft sweep: {message}", file=sys.stderr)
        return EXIT_USAGE

    if args.notebook is None:
        if not args.summarize:
            return refuse("name a notebook to sweep, or give --summarize --out DIR to show a sweep's table")
        try:
            _print_table(sweep_table(args.out), args.format)
        except SweepError as exc:
            return refuse(str(exc))
        return 0
    try:
        notebook = runner.find_notebook(args.notebook)
        fixed = fixed_parameters(args.parameter, args.profile, args.device)
        seeds = parse_seeds(args.seeds) if args.seeds is not None else None
        cells = plan(fixed, parse_grid(args.grid), seeds)
        check_cells(notebook, cells, args.out)
        if args.executor != "ray" and args.address:
            raise SweepError("--address joins a Ray cluster: it goes with --executor ray")
        say = (lambda line: None) if args.quiet else (lambda line: print(line, flush=True))
        outcomes = run_sweep(notebook, args.out, cells, executor=args.executor, jobs=args.jobs,
                             address=args.address, command=_command(args), report=say)  # fmt: skip
    except (FileNotFoundError, ValueError, runner.RunRefused) as exc:  # ValueError: ParameterError, SweepError
        return refuse(str(exc))
    failed = [o for o in outcomes if o.status != COMPLETE]
    for outcome in failed:
        print(f"ptft sweep: FAILED {outcome.run_id}: {outcome.error}", file=sys.stderr)
    if args.summarize:
        _print_table(sweep_table(args.out), args.format)
    reused = sum(o.reused for o in outcomes)
    manifest = Path(os.path.abspath(args.out)) / MANIFEST
    print(f"ptft sweep: {len(failed)} of {len(outcomes)} runs failed "
          f"({len(outcomes) - len(failed)} complete, {reused} of them from an earlier sweep); {manifest}")  # fmt: skip
    return EXIT_FAILED if failed else 0


def _command(args: Any) -> list[str]:
    """The ``ptft sweep`` command line these arguments stand for (for the manifest)."""
    words = ["ptft", "sweep", args.notebook]
    for name, value in args.parameter or []:
        words += ["-p", name, value]
    for name, values in args.grid or []:
        words += ["-g", name, values]
    for flag in ("seeds", "profile", "device", "executor", "jobs", "address", "out"):
        if getattr(args, flag) is not None:
            words += [f"--{flag}", str(getattr(args, flag))]
    return words


def _print_table(table: Any, fmt: str = "markdown") -> None:
    if fmt == "csv":
        table.to_csv(sys.stdout, index=False)
        return
    try:
        print(table.to_markdown(index=False))
    except ImportError:  # tabulate is optional
        print(table.to_string(index=False))


__all__ = [
    "Cell",
    "Outcome",
    "SweepError",
    "check_cells",
    "cpus_per_run",
    "fixed_parameters",
    "main",
    "parse_grid",
    "parse_seeds",
    "plan",
    "plot_sweep",
    "read_manifest",
    "rerun_command",
    "resume_reason",
    "run_cell",
    "run_id",
    "run_sweep",
    "sweep_ci",
    "sweep_table",
]
