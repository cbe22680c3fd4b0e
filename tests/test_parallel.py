"""``ptft run-all --jobs N``: several notebooks at once, the same results, failures and Ctrl-C kept apart.

Every run is the real command in a subprocess. The two chapters compared are the fastest smoke
runs (02 and 05, about 20 s each on one core); failures, locks and Ctrl-C use tiny notebooks
written to a temporary folder: a ``parameters`` cell (its defaults differ per notebook, since
``run-all`` gives every notebook the same parameters), a setup cell that opens a Recorder and writes
the kernel's pid beside the record, and a cell that sleeps, then raises or saves.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from tiny_notebooks import write_notebook as write_tiny_notebook

from ptft_utils.kit import runner
from ptft_utils.kit.results import load_run

SETUP = """import os, time
from ptft_utils import Recorder
rec = Recorder(name, {"profile": profile, "device": device, "seed": seed, "output_dir": output_dir})
with open(os.path.join(output_dir, "kernel.pid"), "w") as handle:
    handle.write(str(os.getpid()))
"""

WORK = """time.sleep(sleep_seconds)
if explode:
    raise RuntimeError("boom, on purpose")
rec.metric("slept", sleep_seconds)
rec.save()
"""


def write_notebook(folder: Path, name: str, *, sleep_seconds: float = 0.0, explode: bool = False) -> Path:
    parameters = (
        f'profile = "default"\ndevice = "auto"\nseed = 0\noutput_dir = "runs/{name}"\nname = "{name}"\n'
        f"sleep_seconds = {sleep_seconds}  # how long the work cell sleeps\n"
        f"explode = {explode}  # raise in the work cell\n"
    )
    return write_tiny_notebook(folder / f"{name}.ipynb", parameters, SETUP, WORK)


def write_profiles_notebook(folder: Path, name: str, profiles: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline\nfrom ptft_utils import resolve\n" + profiles)]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def ptft(*args, **options):
    return subprocess.run(
        [sys.executable, "-m", "ptft_utils.kit.cli", *map(str, args)], capture_output=True, text=True, **options
    )


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")  # a zombie is dead


# -- the default number of jobs ----------------------------------------------------------------
def test_default_jobs_is_how_many_of_the_narrowest_chapters_the_cores_hold(tmp_path):
    one = write_profiles_notebook(tmp_path, "one", 'PROFILES = {"default": {"cpu_threads": 1}, "full": {"x": 2}}')
    two = write_profiles_notebook(tmp_path, "two", "PROFILES = dict(default=dict(cpu_threads=2), full=dict())")
    every = write_profiles_notebook(tmp_path, "every", "PROFILES = {'default': dict(cpu_threads=0)}")
    unknown = write_profiles_notebook(tmp_path, "unknown", "PROFILES = make_profiles()")
    assert runner.default_jobs([one, unknown], cores=2) == 2
    assert runner.default_jobs([one, two, unknown], cores=8) == 3  # 8 // 1, but only three notebooks
    assert runner.default_jobs([two, two, two, two, two], cores=8) == 4  # 8 // 2
    assert runner.default_jobs([two, two], cores=3) == 1  # 3 // 2
    assert runner.default_jobs([one, two], cores=3) == 2  # the thread budget keeps them from sharing 3 cores badly
    assert runner.default_jobs([every, every], cores=16) == 1  # 0: the framework's default takes every core
    assert runner.default_jobs([one, two], {"profile": "full"}, cores=8) == 2  # no cpu_threads there: one each
    assert runner.default_jobs([one, two], {"cpu_threads": 4}, cores=8) == 2  # a given value wins
    assert runner.default_jobs([one], cores=1) == 1


def test_notebook_threads_counts_every_core_for_the_frameworks_default(tmp_path):
    one = write_profiles_notebook(tmp_path, "one", 'PROFILES = {"default": {"cpu_threads": 1}}')
    every = write_profiles_notebook(tmp_path, "every", "PROFILES = {'default': dict(cpu_threads=0)}")
    wide = write_profiles_notebook(tmp_path, "wide", "PROFILES = {'default': dict(cpu_threads=32)}")
    assert runner.notebook_threads([one, every, wide], cores=4) == {
        one.resolve(): 1,
        every.resolve(): 4,
        wide.resolve(): 4,
    }


def test_default_jobs_is_one_when_the_runs_would_share_an_accelerator_or_a_record_folder(tmp_path):
    one = write_profiles_notebook(tmp_path, "one", 'PROFILES = {"default": {"cpu_threads": 1}}')
    other = write_profiles_notebook(tmp_path, "other", 'PROFILES = {"default": {"cpu_threads": 1}}')
    assert runner.default_jobs([one, other], {"device": "cpu"}, cores=8) == 2
    assert runner.default_jobs([one, other], {"device": "cuda"}, cores=8) == 1
    assert runner.default_jobs([one, other], {"device": "mps"}, cores=8) == 1
    assert runner.default_jobs([one, other], {"output_dir": "records"}, cores=8) == 1


def test_default_jobs_reads_the_chapters_own_profile_tables():
    chapters = {path.stem[:2]: path for path in runner.chapter_notebooks()}
    assert runner.profile_setting(chapters["01"], "full", "cpu_threads") == 4
    assert runner.profile_setting(chapters["05"], "full", "cpu_threads") == 0
    assert runner.chapter_threads(chapters["04"], {"profile": "smoke"}) == 1
    assert runner.chapter_threads(chapters["02"], {"profile": "smoke"}) == 1  # no cpu_threads knob: one
    assert runner.default_jobs(chapters.values(), {"profile": "smoke"}, cores=2) == 2
    # full: 02 and 03 take one thread each, so up to one per chapter; the thread budget keeps 05 (every core) alone
    assert runner.default_jobs(chapters.values(), {"profile": "full"}, cores=16) == len(chapters)


# -- refused before anything runs --------------------------------------------------------------
@pytest.mark.parametrize("jobs", ["0", "-1", "two"])
def test_jobs_below_one_or_not_a_number_exits_2(jobs, tmp_path):
    done = ptft("run-all", "--jobs", jobs, "--out", tmp_path)
    assert done.returncode == 2
    assert "argument -j/--jobs: expected how many notebooks to run at once, 1 or more" in done.stderr


def test_a_parallel_run_into_a_locked_out_exits_2_before_any_kernel(tmp_path):
    first, second = write_notebook(tmp_path, "91_first"), write_notebook(tmp_path, "92_second")
    out = tmp_path / "out"
    out.mkdir()
    with runner.lock_folder(out):
        done = ptft("run-all", first, second, "--jobs", "2", "--out", out)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"ptft run-all: {out} is in use by another ptft run (pid {os.getpid()}, lock file {out / '.ptft.lock'}); "
        "wait for it to finish or run into another --out"
    ]
    assert not list(out.iterdir())


def test_one_output_dir_for_several_parallel_notebooks_exits_2(tmp_path):
    first, second = write_notebook(tmp_path, "91_first"), write_notebook(tmp_path, "92_second")
    done = ptft("run-all", first, second, "--jobs", "2", "--out", tmp_path / "out", "-p", "output_dir", tmp_path / "r")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "ptft run-all: output_dir names one record folder for every notebook; leave it unset or use --jobs 1"
    ]


# -- the same numbers, one at a time or two at once ---------------------------------------------
def is_timing(metric: str) -> bool:
    return "second" in metric  # *_seconds, tokens_per_second: wall times, not results


@pytest.fixture(scope="module")
def two_chapters(tmp_path_factory, smoke_env):
    """02 and 05 (smoke) run with --jobs 1 and with --jobs 2, into two folders: ``{jobs: (process, folder)}``.

    ``smoke_env`` (conftest) gives both the same fresh data cache and the shared mirror, when present.
    """
    runs = {}
    for jobs in (1, 2):
        out = tmp_path_factory.mktemp(f"jobs{jobs}")
        done = ptft("run-all", "02", "05", "--profile", "smoke", "--jobs", jobs, "--out", out, "-q")
        assert done.returncode == 0, done.stderr[-3000:]
        runs[jobs] = done, out
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("chapter", ["02_formulas", "05_rnn_transfer"])
def test_two_at_once_records_every_metric_exactly_as_one_at_a_time(two_chapters, chapter):
    sequential, parallel = (load_run(two_chapters[jobs][1] / chapter) for jobs in (1, 2))
    assert sequential["status"] == parallel["status"] == "complete"
    assert sequential["parameters"] == parallel["parameters"] | {"output_dir": sequential["parameters"]["output_dir"]}
    results = {name: value for name, value in sequential["metrics"].items() if not is_timing(name)}
    assert len(results) > 40  # the chapter's numbers, not just its timings
    assert results == {name: value for name, value in parallel["metrics"].items() if not is_timing(name)}
    assert set(sequential["metrics"]) == set(parallel["metrics"])
    assert [(c["id"], c["holds"]) for c in sequential["claims"]] == [(c["id"], c["holds"]) for c in parallel["claims"]]


@pytest.mark.slow
def test_a_parallel_run_reports_each_start_and_end_then_a_summary(two_chapters):
    done, out = two_chapters[2]
    lines = done.stdout.splitlines()
    assert lines[0] == f"== 2 notebooks, 2 at a time, into {out}"
    assert lines[1:3] == [
        "== 02_formulas.ipynb started (1 running, 0 done, 0 failed, 1 waiting)",
        "== 05_rnn_transfer.ipynb started (2 running, 0 done, 0 failed, 0 waiting)",
    ]
    ends = [line for line in lines if " done in " in line]
    assert len(ends) == 2 and ends[-1].endswith("(0 running, 2 done, 0 failed, 0 waiting)")
    assert all(f"-> {out}/" in line for line in ends)
    assert lines[-3].startswith("== 2 of 2 notebooks done, 0 failed; ")
    summary = [line.split()[:2] for line in lines[-2:]]
    assert summary == [["02_formulas.ipynb", "done"], ["05_rnn_transfer.ipynb", "done"]]
    assert not list(out.rglob(".ptft.lock"))
    assert (out / "02_formulas.ipynb").is_file() and (out / "05_rnn_transfer.ipynb").is_file()


# -- the thread budget ---------------------------------------------------------------------------
@pytest.mark.slow
def test_within_a_thread_budget_a_wide_chapter_runs_alone_and_narrow_ones_go_ahead(tmp_path):
    def notebook(name, threads):
        path = write_notebook(tmp_path, name, sleep_seconds=1.0)
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(1, nbformat.v4.new_code_cell(f'PROFILES = {{"default": {{"cpu_threads": {threads}}}}}'))
        nbformat.write(nb, path)
        return path

    first, wide, second = notebook("91_first", 1), notebook("92_wide", 2), notebook("93_second", 1)
    lines: list[str] = []
    runs = runner.run_parallel([first, wide, second], tmp_path / "out", jobs=3, cores=2, report=lines.append)
    assert [run.status for run in runs] == ["done", "done", "done"]
    assert lines[0] == f"== 3 notebooks, up to 3 at a time within 2 cores, into {tmp_path / 'out'}"
    starts = [line for line in lines if " started " in line]
    assert starts == [
        "== 91_first.ipynb started (1 running, 0 done, 0 failed, 2 waiting)",
        "== 93_second.ipynb started (2 running, 0 done, 0 failed, 1 waiting)",  # the wide one does not fit: skip it
        "== 92_wide.ipynb started (1 running, 2 done, 0 failed, 0 waiting)",  # alone, once both have ended
    ]


# -- a failure stops no other notebook -----------------------------------------------------------
@pytest.mark.slow
def test_a_failing_notebook_is_reported_while_the_others_complete_and_the_run_exits_1(tmp_path):
    slow = write_notebook(tmp_path, "91_slow", sleep_seconds=5.0)
    boom = write_notebook(tmp_path, "92_boom", explode=True)
    later = write_notebook(tmp_path, "93_later")  # starts when the failed one's slot frees up
    out = tmp_path / "out"
    done = ptft("run-all", slow, boom, later, "--jobs", "2", "--out", out)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    (failed,) = [n for n, line in enumerate(lines) if line.startswith("== 92_boom.ipynb FAILED after ")]
    assert lines[failed].endswith(" raised RuntimeError: boom, on purpose (1 running, 0 done, 1 failed, 1 waiting)")
    assert lines[failed + 1] == "== 93_later.ipynb started (2 running, 0 done, 1 failed, 0 waiting)"
    assert any(line.startswith("== 91_slow.ipynb done in ") for line in lines[failed:])
    assert lines[-4].startswith("== 2 of 3 notebooks done, 1 failed; ")
    assert [line.split()[:2] for line in lines[-3:]] == [
        ["91_slow.ipynb", "done"], ["92_boom.ipynb", "failed"], ["93_later.ipynb", "done"],
    ]  # fmt: skip
    header, error, kept = done.stderr.splitlines()
    assert header == "ptft run-all: FAILED: 1 of 3 notebooks"
    assert error.startswith("92_boom.ipynb: cell ") and error.endswith(" raised RuntimeError: boom, on purpose")
    assert kept == f"The partly executed notebook is kept for inspection: {out / '92_boom.ipynb'}"
    assert load_run(out / "91_slow")["status"] == load_run(out / "93_later")["status"] == "complete"
    record = load_run(out / "92_boom")
    assert (record["status"], record["error"]) == ("failed", "RuntimeError: boom, on purpose")


@pytest.mark.slow
def test_a_record_folder_in_use_refuses_only_that_notebook_and_the_run_exits_2(tmp_path):
    free, busy = write_notebook(tmp_path, "91_free"), write_notebook(tmp_path, "92_busy")
    out = tmp_path / "out"
    (out / "92_busy").mkdir(parents=True)
    with runner.lock_folder(out / "92_busy"):  # another run writes that record, not --out
        done = ptft("run-all", free, busy, "--jobs", "2", "--out", out)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "ptft run-all: FAILED: 1 of 2 notebooks",
        f"{out / '92_busy'} is in use by another ptft run (pid {os.getpid()}, lock file "
        f"{out / '92_busy' / '.ptft.lock'}); wait for it to finish or run into another --out",
    ]
    assert load_run(out / "91_free")["status"] == "complete"
    assert not (out / "92_busy.ipynb").exists() and not (out / "92_busy" / "metrics.json").exists()


# -- Ctrl-C ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_stops_every_running_notebook_prints_one_line_and_exits_130(tmp_path):
    names = ["91_first", "92_second", "93_third"]
    notebooks = [write_notebook(tmp_path, name, sleep_seconds=60.0) for name in names]
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ptft_utils.kit.cli", "run-all", *map(str, notebooks), "--jobs", "2",
               "--out", str(out)]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    pids = [out / name / "kernel.pid" for name in names[:2]]
    deadline = time.monotonic() + 30
    while not all(pid.exists() and pid.read_text() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    kernels = [int(pid.read_text()) for pid in pids]
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    stdout, stderr = run.communicate(timeout=30)
    assert run.returncode == 130, stderr
    assert stderr.splitlines() == [
        "ptft run-all: interrupted while running 91_first.ipynb, 92_second.ipynb, 1 not started; "
        f"their records are marked failed and the partly executed notebooks kept in {out}"
    ]
    assert "== 93_third.ipynb started" not in stdout
    for name in names[:2]:
        record = load_run(out / name)
        assert (record["status"], record["error"]) == ("failed", "KeyboardInterrupt: the run was interrupted")
        assert (out / f"{name}.ipynb").exists()
    assert not (out / "93_third").exists()
    deadline = time.monotonic() + 5
    while any(process_alive(kernel) for kernel in kernels) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(process_alive(kernel) for kernel in kernels), "a kernel outlived the interrupted run"
    assert not list(out.rglob(".ptft.lock"))
