"""``ptft run`` at its edges: bad folders and notebook names, a locked folder, Ctrl-C, failed records.

Every test runs the real command in a subprocess. The ones that start a kernel (marked slow) run a
tiny notebook written to a temporary folder: a ``parameters`` cell, a setup cell that opens a
Recorder and writes the kernel's pid beside the record, and a cell that sleeps, then saves.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tiny_notebooks import write_notebook

from ptft_utils.kit import runner
from ptft_utils.kit.results import load_run

PARAMETERS = """profile = "default"
device = "auto"
seed = 0
output_dir = "runs/97_sleepy"
sleep_seconds = 0.0  # how long the work cell sleeps
fail_before_recorder = False  # raise in the setup cell, before the Recorder exists
explode = False  # raise in the work cell
"""

SETUP = """import os, time
from ptft_utils import Recorder
if fail_before_recorder:
    raise RuntimeError("failed before the Recorder")
rec = Recorder("97_sleepy", {"profile": profile, "device": device, "seed": seed, "output_dir": output_dir})
with open(os.path.join(output_dir, "kernel.pid"), "w") as handle:
    handle.write(str(os.getpid()))
"""

WORK = """time.sleep(sleep_seconds)
if explode:
    raise RuntimeError("boom, on purpose")
rec.metric("slept", sleep_seconds)
rec.save()
"""


@pytest.fixture(scope="module")
def sleepy_notebook(tmp_path_factory) -> Path:
    return write_notebook(tmp_path_factory.mktemp("nb") / "97_sleepy.ipynb", PARAMETERS, SETUP, WORK)


def ptft(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "ptft_utils.kit.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def ptft_lines(done):
    """stderr without the kernel's own start-up warning (printed by every kernel, not by ptft)."""
    return [line for line in done.stderr.splitlines() if not line.startswith("[IPKernelApp] WARNING")]


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")  # a zombie is dead


# -- refused before any kernel starts ----------------------------------------------------------
def test_out_that_is_a_file_exits_2_naming_it(sleepy_notebook, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    done = ptft("run", sleepy_notebook, "--out", tmp_path / "taken", "-q")
    assert done.returncode == 2
    assert ptft_lines(done) == [
        f"ptft run: --out {tmp_path / 'taken'}: cannot be used as a folder for the run's files "
        "(it is a file, not a folder); set --out to a folder you can write"
    ]


def test_output_dir_that_is_a_file_exits_2_naming_output_dir_before_any_kernel(sleepy_notebook, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    done = ptft("run", sleepy_notebook, "--out", tmp_path / "out", "-p", "output_dir", "taken", "-q", cwd=tmp_path)
    assert done.returncode == 2
    assert ptft_lines(done) == [
        f"ptft run: output_dir {tmp_path / 'taken'}: cannot be used as a folder for the run's files "
        "(it is a file, not a folder); set output_dir to a folder you can write"
    ]
    assert not (tmp_path / "out" / "97_sleepy.ipynb").exists()


def test_output_dir_below_a_file_names_the_file(sleepy_notebook, tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    done = ptft("run", sleepy_notebook, "--out", tmp_path / "out", "-p", "output_dir", tmp_path / "taken" / "x")
    assert done.returncode == 2
    assert f"({tmp_path / 'taken'} is a file, not a folder)" in done.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_output_dir_that_cannot_be_written_exits_2(sleepy_notebook, tmp_path):
    locked = tmp_path / "read_only"
    locked.mkdir(mode=0o500)
    done = ptft("run", sleepy_notebook, "--out", tmp_path / "out", "-p", "output_dir", locked)
    assert done.returncode == 2 and f"output_dir {locked}: cannot be used" in done.stderr


def test_a_folder_given_as_the_notebook_exits_2(tmp_path):
    (tmp_path / "chapter").mkdir()
    done = ptft("run", "chapter", cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("ptft run: chapter is a folder, not a notebook; name a .ipynb file or a chapter:")


def test_a_file_that_is_not_a_notebook_exits_2(tmp_path):
    (tmp_path / "notes.ipynb").write_text("")
    done = ptft("run", "./notes.ipynb", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"ptft run: {tmp_path / 'notes.ipynb'}: not a Jupyter notebook (NotJSONError: ")


@pytest.mark.parametrize("name", ["04", "04_cnn_transfer"])
def test_a_chapter_name_means_the_chapter_even_beside_a_stray_file_of_that_name(tmp_path, name):
    (tmp_path / name).write_text("a stray file, not a notebook")
    done = ptft("run", name, "-p", "bogus", "1", "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    chapter = runner.REPO_ROOT / "notebooks" / "04_cnn_transfer.ipynb"
    assert line.startswith("ptft run: unknown parameter 'bogus'")
    assert line.endswith(", ".join(runner.notebook_parameters(chapter)))  # chapter 04's own parameters


# -- the lock ----------------------------------------------------------------------------------
def test_a_second_run_into_a_locked_out_fails_at_once_naming_the_folder_and_the_holder(sleepy_notebook, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with runner.lock_folder(out):
        started = time.monotonic()
        done = ptft("run", sleepy_notebook, "--out", out, "-q")
        elapsed = time.monotonic() - started
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"ptft run: {out} is in use by another ptft run (pid {os.getpid()}, lock file {out / '.ptft.lock'}); "
        "wait for it to finish or run into another --out"
    ]
    assert elapsed < 10 and not (out / "97_sleepy.ipynb").exists()
    assert not (out / ".ptft.lock").exists()  # released with the block


def test_a_lock_left_by_a_killed_run_is_taken_over(sleepy_notebook, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    script = f"""
        import os, signal
        from ptft_utils.kit.runner import lock_folder
        with lock_folder({str(out)!r}):
            os.kill(os.getpid(), signal.SIGKILL)
    """
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert killed.returncode == -9 and (out / ".ptft.lock").exists()
    done = ptft("run", sleepy_notebook, "--out", out, "-p", "bogus", "1")  # past the lock, refused at the names
    assert done.returncode == 2 and "unknown parameter 'bogus'" in done.stderr, done.stderr
    with runner.lock_folder(out):
        assert (out / ".ptft.lock").read_text().strip() == str(os.getpid())


def test_one_process_may_nest_the_lock_of_one_folder(tmp_path):
    with runner.lock_folder(tmp_path), runner.lock_folder(str(tmp_path)):
        assert (tmp_path / ".ptft.lock").exists()
    assert not (tmp_path / ".ptft.lock").exists()


# -- runs that start a kernel ------------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_prints_one_line_exits_130_and_marks_the_record_failed(sleepy_notebook, tmp_path):
    out = tmp_path / "out"
    record = out / "97_sleepy" / "metrics.json"
    command = [sys.executable, "-m", "ptft_utils.kit.cli", "run", str(sleepy_notebook), "--out", str(out), "-q",
               "-p", "sleep_seconds", "60"]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 20
    while not (record.parent / "kernel.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert load_run(record)["status"] == "running"
    kernel = int((record.parent / "kernel.pid").read_text())
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    stdout, stderr = run.communicate(timeout=20)
    lines = [line for line in stderr.splitlines() if not line.startswith("[IPKernelApp] WARNING")]
    assert run.returncode == 130, stderr
    assert lines == [
        f"ptft run: interrupted while running 97_sleepy.ipynb; "
        f"the partly executed notebook is kept: {out / '97_sleepy.ipynb'}"
    ]
    assert (out / "97_sleepy.ipynb").exists() and stdout == ""
    failed = load_run(record)
    assert (failed["status"], failed["error"]) == ("failed", "KeyboardInterrupt: the run was interrupted")
    deadline = time.monotonic() + 5
    while process_alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process_alive(kernel), "the kernel outlived the interrupted run"
    assert not (out / ".ptft.lock").exists()


@pytest.mark.slow
def test_a_failing_cell_marks_the_record_failed_with_the_error(sleepy_notebook, tmp_path):
    done = ptft("run", sleepy_notebook, "--out", tmp_path, "-p", "explode", "true", "-q")
    assert done.returncode == 1
    record = load_run(tmp_path / "97_sleepy")
    assert (record["status"], record["error"]) == ("failed", "RuntimeError: boom, on purpose")
    verify = ptft("verify", tmp_path)
    assert verify.returncode == 1
    assert "status 'failed': RuntimeError: boom, on purpose; fix it and rerun" in verify.stdout


@pytest.mark.slow
def test_a_rerun_moves_the_old_record_aside_and_records_its_own_failure(sleepy_notebook, tmp_path):
    assert ptft("run", sleepy_notebook, "--out", tmp_path, "-q").returncode == 0
    folder = tmp_path / "97_sleepy"
    assert load_run(folder)["status"] == "complete"
    done = ptft("run", sleepy_notebook, "--out", tmp_path, "-p", "fail_before_recorder", "true", "-q")
    assert done.returncode == 1
    record = load_run(folder)  # not the first run's complete record
    assert (record["status"], record["error"]) == ("failed", "RuntimeError: failed before the Recorder")
    assert record["notebook"] == "97_sleepy" and record["parameters"]["fail_before_recorder"] is True
    assert load_run(folder / "metrics.previous.json")["status"] == "complete"


@pytest.mark.slow
def test_a_relative_output_dir_is_taken_from_the_working_directory(sleepy_notebook, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    done = ptft("run", sleepy_notebook, "--out", "out", "-p", "output_dir", "records/demo", "-q", cwd=work)
    assert done.returncode == 0, done.stderr
    record = work / "records" / "demo" / "metrics.json"
    assert f"metrics:           {record}" in done.stdout.splitlines()
    assert f"executed notebook: {work / 'out' / '97_sleepy.ipynb'}" in done.stdout.splitlines()
    assert json.loads(record.read_text())["parameters"]["output_dir"] == str(record.parent)
    assert not (sleepy_notebook.parent / "records").exists()
