"""``ptft sweep``: grids of parameters x seeds on a process pool and on Ray, resumed, with failures kept.

A tiny notebook that follows the chapter contract (a ``parameters`` cell, ``resolve``, a
``Recorder``) is written to a temporary folder; its metric is ``10 * knob + seed``, so every
number a test reads says which run made it, and ``knob = 13`` raises. Each run takes a few
seconds, the kernel's start. The sweeps run as ``python -m ptft_utils.kit.cli sweep`` in a child
process, as a user runs them, so Ray and the pool's workers never live in the test process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from tiny_notebooks import write_notebook

from ptft_utils import Recorder
from ptft_utils.dist import sweep
from ptft_utils.eval.stats import mean_ci
from ptft_utils.kit import cli

PARAMETERS = """profile = "default"
device = "auto"
seed = 0
output_dir = "runs/98_tiny"
knob = None  # the metric is 10 * knob + seed; 13 raises (to test failures)
"""

BODY = """import os, time
from ptft_utils import Recorder, resolve
PROFILES = {"smoke": {"knob": 1}, "default": {"knob": 2}, "full": {"knob": 3}}
cfg = resolve(globals(), PROFILES)
rec = Recorder("98_tiny", cfg)
time.sleep(float(os.environ.get("TINY_SLEEP", "0")))  # the killed-driver test makes runs last
if cfg.knob == 13:
    raise RuntimeError("knob 13 fails, on purpose")
rec.metric("score", 10 * cfg.knob + cfg.seed)
rec.save()
"""

CELLS = ["knob=1__seed=0", "knob=1__seed=1", "knob=2__seed=0", "knob=2__seed=1"]


@pytest.fixture(scope="module")
def tiny_notebook(tmp_path_factory) -> Path:
    return write_notebook(tmp_path_factory.mktemp("nb") / "98_tiny.ipynb", PARAMETERS, BODY, title="# 98 · Tiny")


def ptft_sweep(notebook: Path, out: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    command = [sys.executable, "-m", "ptft_utils.kit.cli", "sweep", str(notebook), "--out", str(out), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=out.parent)


def record(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def last_line(done: subprocess.CompletedProcess) -> str:
    return done.stdout.strip().splitlines()[-1]


# -- the grid, its ids and the resume rule (no kernel) ------------------------------------------
def test_seeds_are_ranges_or_lists():
    assert sweep.parse_seeds("0-3") == [0, 1, 2, 3]
    assert sweep.parse_seeds("0,3,5") == [0, 3, 5]
    assert sweep.parse_seeds("0-2,7") == [0, 1, 2, 7]
    for bad in ("3-1", "a", "1,1", "0-2,2", ""):
        with pytest.raises(sweep.SweepError):
            sweep.parse_seeds(bad)


def test_plan_is_the_product_of_the_grid_with_seeds_innermost():
    cells = sweep.plan({"profile": "smoke"}, sweep.parse_grid([("knob", "[1, 2]")]), [0, 1])
    assert [cell.run_id for cell in cells] == CELLS
    assert cells[1].parameters == {"profile": "smoke", "knob": 1, "seed": 1}
    assert cells[1].swept == {"knob": 1, "seed": 1}


def test_run_id_is_the_plain_values_or_a_readable_prefix_and_a_hash():
    assert sweep.run_id({"lr": 0.001, "schedule": "cosine", "seed": 3}) == "lr=0.001__schedule=cosine__seed=3"
    listed = sweep.run_id({"lr_grid": [0.001, 0.01], "seed": 3})
    assert listed.startswith("lr_grid=0.001,0.01__seed=3-") and len(listed) == len("lr_grid=0.001,0.01__seed=3-") + 8
    assert listed == sweep.run_id({"lr_grid": [0.001, 0.01], "seed": 3})  # stable
    # values whose plain text would be ambiguous or not a file name get the hash, and stay apart
    ids = {sweep.run_id({"k": value}) for value in (1, "1", 1.0, True, "true", "a b", "a-b", "a/b", [1], "x" * 200)}
    assert len(ids) == 10
    assert sweep.run_id({"k": "1"}) != "k=1" and sweep.run_id({"k": "a/b"}).startswith("k=a-b-")
    assert all("/" not in i and len(i) <= sweep.MAX_ID_LENGTH for i in ids)


def test_grid_and_fixed_values_are_refused_where_a_sweep_cannot_use_them():
    for pairs in ([("knob", "3")], [("knob", "[]")], [("knob", "[1, 1]")], [("knob", "[1]"), ("knob", "[2]")]):
        with pytest.raises(sweep.SweepError):
            sweep.parse_grid(pairs)
    with pytest.raises(sweep.SweepError, match="output_dir"):
        sweep.plan({"output_dir": "x"}, {"knob": [1]}, None)
    with pytest.raises(sweep.SweepError, match="both fixed"):
        sweep.plan({"knob": 3}, {"knob": [1]}, None)
    with pytest.raises(sweep.SweepError, match="both fixed"):
        sweep.plan({"seed": 3}, {"knob": [1]}, [0, 1])
    with pytest.raises(sweep.SweepError, match="nothing to sweep"):
        sweep.plan({"knob": 3}, {}, None)


def test_resume_skips_only_a_complete_record_of_the_same_notebook_and_parameters(tmp_path):
    resolved = {"profile": "default", "device": "auto", "seed": 1, "output_dir": "ignored", "knob": 2.0}
    done, running, failed = (tmp_path / name for name in ("done", "running", "failed"))
    Recorder("98_tiny", resolved, done).save()
    Recorder("98_tiny", resolved, running)  # a killed run leaves its record running
    Recorder("98_tiny", resolved, failed).fail(RuntimeError("boom"))
    asked = {"knob": 2, "seed": 1}  # a float knob resolves 2 to 2.0: still the same run
    assert sweep.resume_reason(done, "98_tiny", asked) is None
    assert sweep.resume_reason(done, "98_tiny", {"knob": 3, "seed": 1}) == "its record has knob=2.0, this sweep 3"
    assert "no parameter cpu_threads" in sweep.resume_reason(done, "98_tiny", {**asked, "cpu_threads": 1})
    assert "of notebook '98_tiny'" in sweep.resume_reason(done, "04_cnn_transfer", asked)
    assert "running" in sweep.resume_reason(running, "98_tiny", asked)
    assert "failed: RuntimeError: boom" in sweep.resume_reason(failed, "98_tiny", asked)
    assert sweep.resume_reason(tmp_path / "never", "98_tiny", asked) == "no record yet"


def test_executor_ray_without_ray_says_how_to_install_it(tiny_notebook, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    argv = ["sweep", str(tiny_notebook), "-g", "knob", "[1, 2]", "--executor", "ray", "--out", str(tmp_path / "s")]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert 'pip install "ptft[dist]"' in capsys.readouterr().err
    assert not (tmp_path / "s" / "sweep.json").exists()


def test_unknown_parameter_is_refused_before_any_kernel_starts(tiny_notebook, tmp_path, capsys):
    argv = ["sweep", str(tiny_notebook), "-g", "knobb", "[1, 2]", "--out", str(tmp_path / "s")]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "'knobb'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


# -- real sweeps (kernels, worker processes, Ray) ------------------------------------------------
@pytest.fixture(scope="module")
def local_sweep(tiny_notebook, tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "sweep"
    done = ptft_sweep(tiny_notebook, out, "-g", "knob", "[1, 2]", "--seeds", "0-1", "--jobs", "2")
    return out, done


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_local_sweep_runs_each_cell_into_its_folder(local_sweep):
    out, done = local_sweep
    assert done.returncode == 0, done.stdout + done.stderr
    assert last_line(done).startswith("ptft sweep: 0 of 4 runs failed")
    for run_id in CELLS:
        knob, seed = (int(part.split("=")[1]) for part in run_id.split("__"))
        rec = record(out / run_id)
        assert rec["status"] == "complete" and rec["metrics"]["score"] == 10 * knob + seed
        assert (out / run_id / "98_tiny.ipynb").exists()
    manifest = json.loads((out / "sweep.json").read_text())
    assert [cell["id"] for cell in manifest["cells"]] == CELLS
    assert manifest["counts"] == {"complete": 4, "failed": 0, "pending": 0}
    assert manifest["cells"][3]["command"].startswith("ptft run ")
    assert "-p knob 2 -p seed 1" in manifest["cells"][3]["command"]


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_each_cell_of_the_manifest_carries_the_command_that_reruns_it(local_sweep, tmp_path):
    import shlex
    import shutil

    out, _ = local_sweep
    shutil.copytree(out, tmp_path / out.name)  # the commands name folders relative to where the sweep ran
    cell = json.loads((out / "sweep.json").read_text())["cells"][3]
    words = shlex.split(cell["command"])
    assert words[:2] == ["ptft", "run"]
    done = subprocess.run([sys.executable, "-m", "ptft_utils.kit.cli", *words[1:], "-q"], capture_output=True,
                          text=True, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    rerun, original = record(tmp_path / out.name / cell["id"]), record(out / cell["id"])
    assert rerun["metrics"] == original["metrics"] == {"score": 21}
    assert rerun["parameters"] == {**original["parameters"], "output_dir": str(tmp_path / out.name / cell["id"])}


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_rerun_of_a_finished_sweep_runs_nothing(local_sweep, tiny_notebook):
    out, _ = local_sweep
    before = {run_id: (out / run_id / "metrics.json").read_text() for run_id in CELLS}
    again = ptft_sweep(tiny_notebook, out, "-g", "knob", "[1, 2]", "--seeds", "0-1", "--jobs", "2")
    assert again.returncode == 0, again.stderr
    assert "4 already complete, 0 to run" in again.stdout
    assert "4 complete, 4 of them from an earlier sweep" in last_line(again)
    assert before == {run_id: (out / run_id / "metrics.json").read_text() for run_id in CELLS}


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_swept_parameters_are_columns_of_the_summary_and_of_ptft_results(local_sweep):
    out, _ = local_sweep
    table = sweep.sweep_table(out)
    assert list(table.columns[:4]) == ["run_id", "status", "knob", "seed"]
    assert table.set_index("run_id").loc["knob=2__seed=1", "score"] == 21
    summary = subprocess.run([sys.executable, "-m", "ptft_utils.kit.cli", "sweep", "--summarize", "--out", str(out),
                              "--format", "csv"], capture_output=True, text=True)  # fmt: skip
    assert summary.returncode == 0 and summary.stdout.splitlines()[0].startswith("run_id,status,knob,seed,")
    results = subprocess.run([sys.executable, "-m", "ptft_utils.kit.cli", "results", str(out), "--format", "csv"],
                             capture_output=True, text=True)  # fmt: skip
    header = results.stdout.splitlines()[0].split(",")
    assert {"param.knob", "param.seed", "score"} <= set(header) and len(results.stdout.splitlines()) == 5


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_metric_against_a_parameter_has_mean_and_ci_over_seeds(local_sweep):
    import matplotlib

    matplotlib.use("Agg")
    out, _ = local_sweep
    summary = sweep.sweep_ci(out, "score", "knob").set_index("knob")
    assert summary.loc[1, "seeds"] == 2
    assert tuple(summary.loc[1, ["mean", "ci_low", "ci_high"]]) == pytest.approx(mean_ci([10, 11]))
    assert tuple(summary.loc[2, ["mean", "ci_low", "ci_high"]]) == pytest.approx(mean_ci([20, 21]))
    ax = sweep.plot_sweep(out, "score", "knob")
    line = ax.lines[0]
    assert list(line.get_xdata()) == [1.0, 2.0] and list(line.get_ydata()) == pytest.approx([10.5, 20.5])
    assert ax.get_xlabel() == "knob" and ax.get_ylabel() == "score" and "95% CI" in ax.get_title()


def _ray_processes() -> set[int]:
    import psutil

    found = set()
    for process in psutil.process_iter(["name", "cmdline"]):
        words = " ".join([process.info["name"] or "", *(process.info["cmdline"] or [])])
        if "raylet" in words or "gcs_server" in words:
            found.add(process.pid)
    return found


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ray_sweep_starts_ray_on_loopback_runs_each_cell_and_stops_it(tiny_notebook, tmp_path):
    pytest.importorskip("ray")
    before = _ray_processes()
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # Ray's switch to bind 127.0.0.1 only
    out = tmp_path / "sweep"
    args = ("-g", "knob", "[1, 2]", "--seeds", "0-1", "--executor", "ray", "--jobs", "2")
    done = ptft_sweep(tiny_notebook, out, *args, env=env, timeout=170)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ray: started a single-node cluster at 127.0.0.1:" in done.stdout
    assert [record(out / run_id)["metrics"]["score"] for run_id in CELLS] == [10, 11, 20, 21]
    deadline = time.monotonic() + 15
    while _ray_processes() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _ray_processes() - before, "a raylet or GCS server outlived the sweep"


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_killed_driver_resumes_with_no_run_twice_and_none_lost(tiny_notebook, tmp_path):
    out = tmp_path / "sweep"
    args = [sys.executable, "-m", "ptft_utils.kit.cli", "sweep", str(tiny_notebook), "--out", str(out),
            "-g", "knob", "[1, 2]", "--seeds", "0-1", "--jobs", "2"]  # fmt: skip
    driver = subprocess.Popen(args, env={**os.environ, "TINY_SLEEP": "2"}, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

    def complete() -> list[str]:
        found = []
        for run_id in CELLS:
            try:
                if record(out / run_id)["status"] == "complete":
                    found.append(run_id)
            except (OSError, ValueError):
                pass
        return found

    deadline = time.monotonic() + 90
    while not complete() and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    time.sleep(1.5)  # the pool's workers (and their kernels) die with the driver within a second
    finished = {run_id: (out / run_id / "metrics.json").read_text() for run_id in complete()}
    assert 1 <= len(finished) < len(CELLS), "the driver was not killed half-way"

    again = ptft_sweep(tiny_notebook, out, "-g", "knob", "[1, 2]", "--seeds", "0-1", "--jobs", "2")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(finished)} of them from an earlier sweep" in last_line(again)
    for run_id in CELLS:
        assert record(out / run_id)["status"] == "complete"
        previous = out / run_id / "metrics.previous.json"  # what a rerun of the cell set aside
        if run_id in finished:  # not rerun: the same record, the same start time
            assert (out / run_id / "metrics.json").read_text() == finished[run_id] and not previous.exists()
        elif previous.exists():  # rerun: what it replaced was the killed run's, never a complete one
            assert json.loads(previous.read_text())["status"] != "complete"


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_a_failing_run_is_recorded_and_the_others_complete(tiny_notebook, tmp_path):
    out = tmp_path / "sweep"
    done = ptft_sweep(tiny_notebook, out, "-g", "knob", "[1, 13]", "--seeds", "0", "--jobs", "2")
    assert done.returncode == cli.EXIT_FAILED
    assert last_line(done).startswith("ptft sweep: 1 of 2 runs failed")
    assert "knob 13 fails, on purpose" in done.stderr
    assert record(out / "knob=1__seed=0")["status"] == "complete"
    failed = record(out / "knob=13__seed=0")
    assert (failed["status"], failed["error"]) == ("failed", "RuntimeError: knob 13 fails, on purpose")
    partial = nbformat.read(out / "knob=13__seed=0" / "98_tiny.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in partial.cells for o in c.get("outputs", []))
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["counts"] == {"complete": 1, "failed": 1, "pending": 0}
