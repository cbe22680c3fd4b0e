"""The ``ptft`` command: list, run and collect the book's notebooks; build the book; check a machine.

    ptft list                                   chapters and their parameters
    ptft run NOTEBOOK [-p NAME VALUE]... [--profile P] [--device D] [--out DIR]
    ptft run-all [NOTEBOOK]... [--profile P] [--device D] [--out DIR] [--jobs N]
    ptft results DIR... [--format markdown|csv] [--claims]
    ptft verify DIR...                          do the runs agree with what the text asserts, declared first?
    ptft book [--profile P] [--device D] [--jobs N]   execute every chapter, build _build/html
    ptft sweep NOTEBOOK -g NAME VALUES... [--seeds 0-9] [--executor local|ray] [--jobs N]   a resumable grid
    ptft doctor                                 versions, CPU/GPU, data cache

Exit status: 0 success; 1 a notebook or check failed (``verify``: also any record that cannot be
read); 2 bad usage, before anything ran (unknown notebook or parameter name, bad value of a common
parameter, ``--out`` or ``output_dir`` not a writable folder, the folder locked by another run, a
folder to read that does not exist); 130 interrupted (Ctrl-C). ``results`` and ``verify`` name each
``metrics.json`` they cannot read on stderr and go on with the others.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ptft_utils.kit import results, runner
from ptft_utils.kit.params import DEVICES, PROFILE_NAMES, ParameterError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def _parameters(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {name: runner.parse_value(value) for name, value in (args.parameter or [])}
    if getattr(args, "profile", None):
        params["profile"] = args.profile
    if getattr(args, "device", None):
        params["device"] = args.device
    if getattr(args, "seed", None) is not None:
        params["seed"] = args.seed
    return params


def cmd_list(args: argparse.Namespace) -> int:
    for path in runner.chapter_notebooks():
        print(f"{path.stem}  ({path.relative_to(runner.REPO_ROOT)})")
        for name, info in runner.notebook_parameters(path).items():
            help_text = f"  # {info['help']}" if info["help"] else ""
            print(f"    {name} = {info['default']}{help_text}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    try:
        notebook = runner.find_notebook(args.notebook)
        result = runner.run_notebook(notebook, args.out, _parameters(args), progress=not args.quiet)
    except (FileNotFoundError, ValueError, runner.RunRefused) as exc:  # ValueError: ParameterError, not a notebook
        print(f"ptft run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except runner.NotebookFailed as exc:
        print(f"ptft run: FAILED\n{exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"executed notebook: {result.output}")
    print(f"metrics:           {result.metrics}")
    print(f"wall time:         {result.wall_seconds:.1f} s")
    return 0


def cmd_run_all(args: argparse.Namespace) -> int:
    params = _parameters(args)
    try:
        notebooks = _run_all_notebooks(args)
    except (FileNotFoundError, ValueError) as exc:  # ValueError: not a notebook, or both NOTEBOOKs and --book-only
        print(f"ptft run-all: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        for notebook in notebooks:
            runner.check_parameters(notebook, params)
        jobs = _jobs(args, notebooks, params)
        if jobs > 1:
            return _run_parallel("run-all", notebooks, args.out, params, jobs, _thread_budget(args))
        runner.run_all(notebooks, args.out, params, progress=not args.quiet)
    except (ParameterError, runner.RunRefused) as exc:
        print(f"ptft run-all: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except runner.NotebookFailed as exc:
        print(f"ptft run-all: FAILED\n{exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _run_all_notebooks(args: argparse.Namespace) -> list[Path]:
    """The NOTEBOOKs named (chapter numbers, names or paths), else every chapter, or the book's with --book-only."""
    if args.notebooks and args.book_only:
        raise ValueError("name NOTEBOOKs or give --book-only, not both")
    if args.notebooks:
        return [runner.find_notebook(name) for name in args.notebooks]
    return runner.toc_notebooks() if args.book_only else runner.chapter_notebooks()


def _jobs(args: argparse.Namespace, notebooks: list[Path], params: dict[str, Any]) -> int:
    """``--jobs``, else as many as fill the CPU cores (:func:`runner.default_jobs`); never more than the notebooks."""
    jobs = args.jobs if args.jobs is not None else runner.default_jobs(notebooks, params)
    return max(1, min(jobs, len(notebooks)))


def _thread_budget(args: argparse.Namespace) -> int | None:
    """Without ``--jobs``, the CPU cores the chapters' threads must fit in; with it, none (N at once, as asked)."""
    return runner.cpu_cores() if args.jobs is None else None


def _run_parallel(
    command: str, notebooks: list[Path], out: str, params: dict[str, Any], jobs: int, cores: int | None = None
) -> int:
    """``--jobs`` above 1: every notebook runs; exit 1 if any failed, 2 if the only trouble was refusals, 130 on Ctrl-C.

    Raises :class:`runner.RunRefused` (exit 2, from the caller) when nothing could start.
    """
    try:
        runs = runner.run_parallel(notebooks, out, params, jobs=jobs, cores=cores)
    except runner.RunsInterrupted as exc:  # every running notebook was stopped and its record marked failed
        print(f"ptft {command}: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    bad = [run for run in runs if run.status != "done"]
    if not bad:
        return 0
    print(f"ptft {command}: FAILED: {len(bad)} of {len(runs)} notebooks", file=sys.stderr)
    for run in bad:
        print(run.message, file=sys.stderr)
    return EXIT_USAGE if all(run.status == "refused" for run in bad) else EXIT_FAILED


def _jobs_count(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"expected how many notebooks to run at once, 1 or more; got {text!r}")
    return jobs


JOBS_HELP = (
    "notebooks to run at once, each in its own process and kernel (default: as many as the CPU cores hold, "
    "each chapter taking the cpu_threads of its profile, so a 2-thread chapter on 2 cores runs alone; 1 with "
    "--device cuda/mps or -p output_dir). --jobs 1 runs them in order and stops at the first failure"
)
PARALLEL_NOTE = (
    "With --jobs N above 1, N notebooks run at once, each into its own folder under --out; a line says when "
    "each starts, ends (with its wall time) or fails, with the counts so far, and a summary ends the run. A "
    "failed notebook stops none of the others; the exit status is 1 if any failed. Ctrl-C stops every "
    "running notebook and marks its record failed (exit 130). Results are the same as one at a time: every "
    "notebook runs in a fresh kernel with the same seeds."
)


def _read_records(command: str, dirs: Sequence[str]) -> tuple[list[dict[str, Any]], list[results.BadRecord]] | None:
    """The records under ``dirs`` and the unreadable ones (named on stderr); None, said why, if a path is missing."""
    try:
        records, bad = results.read_runs(dirs)
    except FileNotFoundError as exc:
        print(f"ptft {command}: {exc}", file=sys.stderr)
        return None
    for problem in bad:
        print(f"ptft {command}: warning: skipped {problem}", file=sys.stderr)
    if not records:
        found = "no readable metrics.json" if bad else "no metrics.json found"
        print(f"ptft {command}: {found} under " + " ".join(dirs), file=sys.stderr)
    return records, bad


def _claims_table(records: list[dict[str, Any]]):  # -> pandas.DataFrame
    import pandas as pd

    columns = ["notebook", "profile", "status", "claim", "expected", "holds", "test", "declared_at", "evaluated_at"]
    rows = [
        {"notebook": record["notebook"], "profile": record["profile"], "status": record["status"] or "no status",
         "claim": claim["id"], **{name: claim[name] for name in columns[4:]}}
        for record in records
        for claim in record["claims"]
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    table[["declared_at", "evaluated_at"]] = table[["declared_at", "evaluated_at"]].astype("Int64")
    table["test"] = table["test"].fillna("")
    return table


def cmd_results(args: argparse.Namespace) -> int:
    read = _read_records("results", args.dirs)
    if read is None:
        return EXIT_USAGE
    records, _ = read  # the unreadable ones are named on stderr; the table shows the rest
    if not records:
        return EXIT_FAILED
    table = _claims_table(records) if args.claims else results.runs_table(records)
    if table.empty:
        print("ptft results: no claims recorded under " + " ".join(args.dirs), file=sys.stderr)
        return EXIT_FAILED
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    return 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


VERDICTS = [results.FAILURE, results.DEFECT, results.AGREES, results.FINDING]  # worst first


def cmd_verify(args: argparse.Namespace) -> int:
    """Check every run against what the text asserts; exit 1 on a failure, a defect, an unfinished or unreadable record.

    One block per record, one line per claim, worst first: ``FAIL`` (the run contradicts an
    asserted claim, or the record is not complete), ``DEFECT`` (an asserted claim not declared
    with ``rec.expect`` before the metrics it rests on, or never checked), ``ok`` (asserted and
    agreed), ``finding`` (reported by the text whichever way it comes out). A record that cannot be
    read is named on stderr, skipped, and fails the verification.
    """
    read = _read_records("verify", args.dirs)
    if read is None:
        return EXIT_USAGE
    records, bad = read
    if not records and not bad:
        return EXIT_FAILED
    counts = dict.fromkeys(VERDICTS, 0)
    unfinished = [str(Path(record["_path"]).parent) for record in records if not _verify_record(record, counts)]
    failed, defects, agree = counts[results.FAILURE], counts[results.DEFECT], counts[results.AGREES]
    print(
        f"\n{len(records) + len(bad)} record(s), {len(unfinished)} not complete, {len(bad)} unreadable; "
        f"{agree} of {failed + defects + agree} claims the text asserts agree with the runs "
        f"({failed} contradicted, {defects} defective); {counts[results.FINDING]} further findings reported"
    )
    if not unfinished and not bad and not sum(counts.values()):
        print("ptft verify: no claims found under " + " ".join(args.dirs), file=sys.stderr)
        return EXIT_FAILED
    if unfinished or bad or failed or defects:
        folders = "".join(f"\n  not complete: {folder}" for folder in unfinished)
        folders += "".join(f"\n  unreadable: {problem.path}" for problem in bad)
        print(
            f"ptft verify: FAILED: {failed} claim(s) contradicted, {defects} defect(s), "
            f"{len(unfinished)} record(s) not complete, {len(bad)} unreadable{folders}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return 0


def _verify_record(record: dict[str, Any], counts: dict[str, int]) -> bool:
    """Print one record's block, add its claims' verdicts to ``counts``; False if it is not complete."""
    folder = Path(record["_path"]).parent
    print(f"== {record['notebook']} ({record['profile']}, {record['status'] or 'no status'})  {folder}")
    problem = results.record_problem(record)
    if problem is not None:
        print(f"  {results.FAILURE:<8} {folder}: {problem}")
        return False
    if not record["claims"]:
        print("  (no claims)")
    sizes = results.family_sizes(record["claims"])
    reviewed = [
        (*results.review_claim(c, record["metric_order"], sizes.get(c.get("family") or "")), c)
        for c in record["claims"]
    ]
    width = max((len(c["id"]) for c in record["claims"]), default=0)
    for verdict, reason, claim in sorted(reviewed, key=lambda item: VERDICTS.index(item[0])):
        counts[verdict] += 1
        print(f'  {verdict:<8} {claim["id"]:<{width}}  {reason}. "{claim["statement"]}"')
    return True


def cmd_book(args: argparse.Namespace) -> int:
    params = _parameters(args)
    executed = Path(args.executed) if args.executed else runner.REPO_ROOT / "_build" / "executed"
    try:
        if not args.skip_execution:
            notebooks = runner.toc_notebooks()
            for notebook in notebooks:
                runner.check_parameters(notebook, params)
            jobs = _jobs(args, notebooks, params)
            if jobs > 1:  # the book is built once every chapter has finished, and only if all succeeded
                status = _run_parallel("book", notebooks, str(executed), params, jobs, _thread_budget(args))
                if status:
                    return status
            else:
                runner.run_all(runner.toc_notebooks(), executed, params, progress=not args.quiet)
        html = runner.build_book(executed)
    except (ParameterError, runner.RunRefused) as exc:
        print(f"ptft book: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (runner.NotebookFailed, RuntimeError, FileNotFoundError) as exc:
        print(f"ptft book: FAILED\n{exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"book: {html / 'index.html'}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """A grid of parameters x seeds, one run per cell, resumable (see :mod:`ptft_utils.dist.sweep`)."""
    from ptft_utils.dist import sweep  # lazily: dist imports Ray (for --executor ray), no other command needs it

    return sweep.main(args)


def cmd_doctor(args: argparse.Namespace) -> int:
    import importlib.metadata
    import platform

    from ptft_utils.kit.repro import cpu_model

    print(f"python        {platform.python_version()} ({sys.executable})")
    print(f"cpu           {cpu_model()}, {os.cpu_count()} logical cores")
    for package in ("ptft", "numpy", "torch", "tensorflow", "keras", "gensim", "transformers", "peft",
                    "tokenizers", "safetensors", "ray", "scikit-learn", "pandas", "seaborn", "papermill",
                    "jupyter-book"):  # fmt: skip
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "not installed"
        print(f"{package:<14}{version}")
    from ptft_utils.train.device import gpu_summary  # the doctor looks up into the framework layer, lazily

    print(f"torch GPU     {gpu_summary()}")
    from ptft_utils.data import download

    print(f"data cache    {download.cache_dir()}   (PTFT_DATA)")
    print(f"data mirror   {os.environ.get('PTFT_DATA_MIRROR') or '(none)'}   (PTFT_DATA_MIRROR)")
    for row in download.cache_status():
        print(f"  {row['dataset']:<22} {row['file']:<34} {row['status']}")
    return 0


def _common_options(p: argparse.ArgumentParser, out: str = "runs") -> None:
    """The options every notebook-running command shares."""
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a notebook parameter (VALUE is read as YAML: 3, 0.1, [1, 5], cpu)")  # fmt: skip
    p.add_argument("--profile", choices=PROFILE_NAMES, help="smoke (CI), default (laptop CPU) or full (GPU)")
    p.add_argument("--device", choices=DEVICES, help="where to train")
    p.add_argument("--seed", type=int, help="base random seed")
    p.add_argument("--out", default=out, help=f"folder for executed notebooks and metrics (default: {out})")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_run_commands(sub: Any) -> None:
    """``run``, ``run-all`` and ``book``: execute chapters (and build the book)."""
    run = sub.add_parser("run", help="execute one notebook with papermill")
    run.add_argument("notebook", help="chapter number (04) or name (04_cnn_transfer), found in notebooks/; or a path")
    _common_options(run)
    run.set_defaults(func=cmd_run)
    run_all = sub.add_parser(
        "run-all", help="execute every chapter",
        description="Execute every chapter (or the NOTEBOOKs named) with papermill into --out. " + PARALLEL_NOTE,
    )  # fmt: skip
    run_all.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                         help="chapters by number (02) or name, or notebook paths (default: all chapters)")  # fmt: skip
    _common_options(run_all)
    run_all.add_argument("--book-only", action="store_true", help="only the chapters in book/_toc.yml")
    run_all.add_argument("-j", "--jobs", type=_jobs_count, metavar="N", help=JOBS_HELP)
    run_all.set_defaults(func=cmd_run_all)
    book = sub.add_parser(
        "book", help="execute the chapters and build the Jupyter Book into _build/html",
        description="Execute the chapters in book/_toc.yml into --out, then build the Jupyter Book from them "
                    "into _build/html, once every chapter has finished. " + PARALLEL_NOTE,
    )  # fmt: skip
    _common_options(book, out="_build/executed")
    book.add_argument("-j", "--jobs", type=_jobs_count, metavar="N", help=JOBS_HELP)
    book.add_argument("--executed", help="use notebooks already executed in this folder")
    book.add_argument("--skip-execution", action="store_true", help="build from --executed without running")
    book.set_defaults(func=cmd_book)


def _add_record_commands(sub: Any) -> None:
    """``results`` and ``verify``: read the records runs leave behind."""
    results = sub.add_parser("results", help="collect metrics.json files into one table")
    results.add_argument("dirs", nargs="+")
    results.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    results.add_argument("--claims", action="store_true", help="one row per claim instead of per run")
    results.set_defaults(func=cmd_results)
    verify = sub.add_parser("verify", help="check the runs against the claims the text asserts")
    verify.add_argument("dirs", nargs="+")
    verify.set_defaults(func=cmd_verify)


def _add_sweep_command(sub: Any) -> None:
    """``sweep``: one notebook over a grid of parameters and seeds (see :mod:`ptft_utils.dist.sweep`)."""
    sweep = sub.add_parser("sweep", help="run a notebook over a grid of parameters and seeds (resumable)")
    sweep.add_argument("notebook", nargs="?", help="as for run; leave out with --summarize to show a sweep's table")
    sweep.add_argument("-g", "--grid", nargs=2, action="append", metavar=("NAME", "VALUES"),
                       help='sweep a parameter over a YAML list of values: -g opt_steps "[10, 20]"')  # fmt: skip
    sweep.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="a fixed notebook parameter (VALUE is read as YAML), the same in every run")  # fmt: skip
    sweep.add_argument("--seeds", help="sweep seed over a range or list: 0-9, 0,3,5")
    sweep.add_argument("--profile", choices=PROFILE_NAMES, help="smoke (CI), default (laptop CPU) or full (GPU)")
    sweep.add_argument("--device", choices=DEVICES, help="where to train")
    sweep.add_argument("--out", default="runs/sweep", help="the sweep's folder: <out>/<run-id>/ per run")
    sweep.add_argument("--executor", choices=("local", "ray"), default="local", help="a process pool, or Ray tasks")
    sweep.add_argument("--jobs", type=int, help="runs at a time (default: local, cores / cores per run; ray, as fit)")
    sweep.add_argument("--address", help="with --executor ray: join a cluster (auto, ray://HOST:10001)")
    sweep.add_argument("--summarize", action="store_true", help="print one row per run, swept parameters as columns")
    sweep.add_argument("--format", choices=("markdown", "csv"), default="markdown", help="of --summarize")
    sweep.add_argument("-q", "--quiet", action="store_true", help="only the failures and the last line")
    sweep.set_defaults(func=cmd_sweep)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ptft", description="Run, collect and publish the ptft book's notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="chapters and their parameters").set_defaults(func=cmd_list)
    _add_run_commands(sub)
    _add_record_commands(sub)
    _add_sweep_command(sub)
    sub.add_parser("doctor", help="versions, CPU/GPU and the data cache").set_defaults(func=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "out", None) and args.command == "book" and not args.executed:
        args.executed = args.out
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:  # one line, not a traceback per thread and per kernel
        what = str(exc) if isinstance(exc, runner.Interrupted) else "interrupted"
        print(f"ptft {args.command}: {what}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
