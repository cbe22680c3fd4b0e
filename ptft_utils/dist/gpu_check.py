"""The GPU check: every chapter's smoke profile on CUDA, one chapter's ``full``, and their times beside the CPU's.

    make gpu-check                      # installs with the GPU constraints, then runs this module
    python -m ptft_utils.dist.gpu_check [--out runs/gpu-check] [--full 04_cnn_transfer] [--full-timeout 300]
                                        [--cpu-runs DIR] [--jobs N]

What it does, in order, on a machine with a CUDA GPU:

1. runs every chapter's ``smoke`` profile with ``device=cuda``, one chapter at a time (the chapters
   share the GPU), into ``<out>/cuda-smoke``;
2. runs the same chapters on the CPU (``device=cpu``), as many at a time as fill the cores, into
   ``<out>/cpu-smoke`` — or reads such runs from ``--cpu-runs`` when they exist already;
3. runs one chapter's ``full`` profile on CUDA (``--full``), any cell stopped after ``--full-timeout`` seconds;
4. checks every CUDA record, not only its exit status: the record is complete, the chapter resolved
   ``device`` to CUDA (``environment.device``) and a GPU name is recorded (``environment.gpu``);
5. prints, and writes to ``<out>/gpu_check.md``, one row per run: wall time on CUDA, on the CPU,
   the ratio, the GPU, and the precision the chapter trained in where it has such a parameter.

Exit status: 0 when every check holds; 1 when a run failed or a check did not hold (each named);
2 when there is no CUDA GPU, before anything runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptft_utils.kit import results, runner

EXIT_FAILED = 1
EXIT_NO_GPU = 2
#: Parameters a chapter may use to say which precision it trained in (the first one present is shown).
PRECISION_PARAMETERS = ("mixed_precision", "precision", "amp", "autocast_dtype")


class NoGpuError(RuntimeError):
    """There is no CUDA GPU to check (the message says what PyTorch sees)."""


def require_cuda() -> str:
    """The CUDA summary line (version and GPU names); raises :class:`NoGpuError` when PyTorch sees no GPU.

    Taught in: the book's GPU page (``make gpu-check``)
    """
    import torch

    from ptft_utils.train.device import gpu_summary

    if not torch.cuda.is_available():
        built = torch.version.cuda or "none: a CPU-only build"
        raise NoGpuError(
            f"the GPU check needs a CUDA GPU, and PyTorch sees none (torch {torch.__version__}, built for CUDA "
            f"{built}). "
            "On a CUDA machine run `make gpu-check`, which installs PyTorch's CUDA build with "
            ".ci/constraints-gpu.txt first (see book/gpu.md)."
        )
    return gpu_summary()


@dataclass(frozen=True)
class CheckedRun:
    """One CUDA run as the check read it: what it is, how long it took, and what did not hold."""

    notebook: str
    profile: str
    wall_seconds: float | None
    gpu: str | None
    precision: str
    problems: tuple[str, ...]


def check_cuda_record(record: Mapping[str, Any]) -> CheckedRun:
    """Read one run's record and say whether it really ran on CUDA.

    A run counts only when its record is ``complete``, the chapter asked for ``device=cuda``, its
    resolved device (``environment.device``) is a CUDA device and a GPU name is recorded. Every
    check that does not hold is named in ``problems``.

    Taught in: the book's GPU page (``make gpu-check``)
    """
    env = record.get("environment") or {}
    params = record.get("parameters") or {}
    name = str(record.get("notebook", "?"))
    problems = []
    if record.get("status") != "complete":
        problems.append(f"{name}: the record is {record.get('status') or 'without a status'}, not complete")
    if params.get("device") != "cuda":
        problems.append(f"{name}: the run asked for device={params.get('device')!r}, not 'cuda'")
    resolved = str(env.get("device") or "")
    if not resolved.startswith("cuda"):
        problems.append(f"{name}: the chapter trained on {resolved or 'an unrecorded device'}, not on CUDA")
    if not env.get("gpu"):
        problems.append(f"{name}: no GPU name is recorded (environment.gpu)")
    precision = next((str(params[p]) for p in PRECISION_PARAMETERS if p in params), "float32 (no precision option)")
    wall = record.get("wall_seconds")
    return CheckedRun(
        name, str(record.get("profile", "?")), float(wall) if wall is not None else None, env.get("gpu"),
        precision, tuple(problems),
    )  # fmt: skip


def wall_times(folder: str | Path) -> dict[tuple[str, str], float]:
    """``(notebook, profile) -> wall_seconds`` of every complete record under ``folder``."""
    records, _ = results.read_runs([folder])
    return {
        (r["notebook"], r["profile"]): float(r["wall_seconds"])
        for r in records
        if r.get("status") == "complete" and r.get("wall_seconds") is not None
    }


def report_table(checked: Sequence[CheckedRun], cpu_seconds: Mapping[tuple[str, str], float]) -> str:
    """A markdown table: one row per CUDA run, its wall time beside the CPU's smoke time and their ratio.

    Taught in: the book's GPU page (``make gpu-check``)
    """
    lines = [
        "| chapter | profile | CUDA s | CPU smoke s | CPU / CUDA | GPU | precision | checks |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for run in checked:
        cpu = cpu_seconds.get((run.notebook, "smoke"))
        cuda = f"{run.wall_seconds:.1f}" if run.wall_seconds is not None else "—"
        ratio = f"{cpu / run.wall_seconds:.2f}" if cpu and run.wall_seconds and run.profile == "smoke" else "—"
        verdict = "ok" if not run.problems else f"{len(run.problems)} failed"
        lines.append(
            f"| {run.notebook} | {run.profile} | {cuda} | {f'{cpu:.1f}' if cpu else '—'} | {ratio} | "
            f"{run.gpu or '—'} | {run.precision} | {verdict} |"
        )
    return "\n".join(lines)


def _records(folder: Path) -> list[dict[str, Any]]:
    found, bad = results.read_runs([folder]) if folder.exists() else ([], [])
    for problem in bad:
        print(f"gpu-check: {problem}", file=sys.stderr)
    return found


def _run_cuda(chapters: list[Path], out: Path, full: Path, full_timeout: int) -> list[str]:
    """Steps 1 and 3: the CUDA runs; returns the failures (a failed chapter stops none of the others)."""
    failures = []
    for notebook in chapters:
        try:
            runner.run_notebook(notebook, out / "cuda-smoke", {"profile": "smoke", "device": "cuda"}, progress=False)
            print(f"gpu-check: {notebook.stem} smoke on CUDA done", flush=True)
        except (runner.NotebookFailed, runner.RunRefused) as exc:
            failures.append(f"{notebook.stem} (smoke, cuda): {results.one_line_error(exc)}")
    try:
        runner.run_notebook(
            full, out / "cuda-full", {"profile": "full", "device": "cuda"}, progress=False, timeout=full_timeout
        )
        print(f"gpu-check: {full.stem} full on CUDA done", flush=True)
    except (runner.NotebookFailed, runner.RunRefused) as exc:
        failures.append(f"{full.stem} (full, cuda, limit {full_timeout} s a cell): {results.one_line_error(exc)}")
    return failures


def _cpu_times(chapters: list[Path], out: Path, cpu_runs: str | None, jobs: int | None) -> dict[tuple[str, str], float]:
    """Step 2: the CPU smoke times, read from ``cpu_runs`` or measured now (as many at a time as fill the cores)."""
    if cpu_runs:
        return wall_times(cpu_runs)
    params = {"profile": "smoke", "device": "cpu"}
    count = jobs or runner.default_jobs(chapters, params)
    budget = None if jobs else runner.cpu_cores()  # without --jobs, the chapters' threads fit in the cores
    runner.run_parallel(chapters, out / "cpu-smoke", params, jobs=max(1, min(count, len(chapters))), cores=budget)
    return wall_times(out / "cpu-smoke")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ptft_utils.dist.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/gpu-check", help="folder for the runs and gpu_check.md")
    parser.add_argument("--full", default="04_cnn_transfer", help="the chapter whose full profile runs on CUDA")
    parser.add_argument("--full-timeout", type=int, default=300, help="seconds a cell of the full run may take")
    parser.add_argument("--cpu-runs", help="a folder of CPU smoke runs to compare with, instead of running them")
    parser.add_argument("--jobs", type=int, help="CPU smoke runs at a time (default: as many as fill the cores)")
    args = parser.parse_args(argv)
    try:
        print(f"gpu-check: {require_cuda()}", flush=True)
        chapters = runner.toc_notebooks()
        full = runner.find_notebook(args.full)
    except NoGpuError as exc:
        print(f"gpu-check: {exc}", file=sys.stderr)
        return EXIT_NO_GPU
    except (FileNotFoundError, ValueError) as exc:
        print(f"gpu-check: --full: {exc}", file=sys.stderr)
        return EXIT_NO_GPU
    out = Path(args.out)
    failures = _run_cuda(chapters, out, full, args.full_timeout)
    cpu_seconds = _cpu_times(chapters, out, args.cpu_runs, args.jobs)
    checked = [check_cuda_record(r) for r in _records(out / "cuda-smoke") + _records(out / "cuda-full")]
    missing = {p.stem for p in chapters} - {c.notebook for c in checked if c.profile == "smoke"}
    failures += [f"{name}: no smoke record on CUDA" for name in sorted(missing)]
    failures += [problem for run in checked for problem in run.problems]
    table = report_table(sorted(checked, key=lambda c: (c.profile != "smoke", c.notebook)), cpu_seconds)
    (out / "gpu_check.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    for failure in failures:
        print(f"gpu-check: FAILED {failure}", file=sys.stderr)
    print(f"gpu-check: {len(checked)} CUDA runs, {len(failures)} problems; table in {out / 'gpu_check.md'}")
    return EXIT_FAILED if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
