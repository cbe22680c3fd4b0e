"""papermill runs in a real kernel: injected parameters, refusals before execution, failures kept.

A small notebook that follows the chapter contract is written to a temporary folder, so these
tests exercise the runner and the CLI without paying for a whole chapter.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from tiny_notebooks import write_notebook

from ptft_utils.kit import runner
from ptft_utils.kit.params import ParameterError

pytestmark = pytest.mark.slow

PARAMETERS = """profile = "default"
device = "auto"
seed = 0
output_dir = "runs/99_demo"
epochs = None  # training epochs
explode = None  # raise in a later cell (to test failure reports)
"""

SETUP = """from ptft_utils import Recorder, resolve
PROFILES = {
    "smoke": {"epochs": 1, "explode": False},
    "default": {"epochs": 3, "explode": False},
    "full": {"epochs": 9, "explode": False},
}
cfg = resolve(globals(), PROFILES)
rec = Recorder("99_demo", cfg)
"""

BODY = """rec.metric("epochs_used", cfg.epochs)
rec.metric("seed_used", cfg.seed)
if cfg.explode:
    raise RuntimeError("boom, on purpose")
rec.claim("epochs_positive", "epochs is positive", cfg.epochs > 0, {"epochs": cfg.epochs}, expected=True)
rec.claim("epochs_above_two", "more than two epochs", cfg.epochs > 2, {"epochs": cfg.epochs})
rec.save()
"""


@pytest.fixture(scope="module")
def demo_notebook(tmp_path_factory) -> Path:
    return write_notebook(tmp_path_factory.mktemp("nb") / "99_demo.ipynb", PARAMETERS, SETUP, BODY, title="# 99 · Demo")


def test_notebook_parameters_are_read_by_inspection(demo_notebook):
    found = runner.notebook_parameters(demo_notebook)
    assert list(found) == ["profile", "device", "seed", "output_dir", "epochs", "explode"]
    assert found["epochs"]["help"] == "training epochs"


def test_injected_parameters_take_effect(demo_notebook, tmp_path):
    result = runner.run_notebook(demo_notebook, tmp_path, {"profile": "smoke", "seed": 5}, progress=False)
    record = json.loads(result.metrics.read_text())
    assert record["profile"] == "smoke"
    assert record["metrics"] == {"epochs_used": 1, "seed_used": 5}
    assert result.output == tmp_path / "99_demo.ipynb" and result.output.exists()


def test_override_of_a_chapter_knob_takes_effect(demo_notebook, tmp_path):
    result = runner.run_notebook(demo_notebook, tmp_path, {"profile": "smoke", "epochs": 4}, progress=False)
    assert json.loads(result.metrics.read_text())["metrics"]["epochs_used"] == 4


def test_unknown_name_is_refused_before_any_kernel_starts(demo_notebook, tmp_path):
    with pytest.raises(ParameterError) as info:
        runner.run_notebook(demo_notebook, tmp_path, {"bogus": 1}, progress=False)
    assert info.value.name == "bogus"
    assert "profile, device, seed, output_dir, epochs, explode" in str(info.value)
    assert not (tmp_path / "99_demo.ipynb").exists()


def test_bad_knob_value_fails_inside_the_notebook_with_a_parameter_error(demo_notebook, tmp_path):
    with pytest.raises(runner.NotebookFailed) as info:
        runner.run_notebook(demo_notebook, tmp_path, {"epochs": -1}, progress=False)
    assert info.value.ename == "ParameterError"
    assert "'epochs' = -1" in info.value.evalue


def test_failing_cell_is_reported_and_the_partial_notebook_kept(demo_notebook, tmp_path):
    with pytest.raises(runner.NotebookFailed) as info:
        runner.run_notebook(demo_notebook, tmp_path, {"explode": True}, progress=False)
    assert info.value.ename == "RuntimeError" and "boom, on purpose" in info.value.evalue
    partial = nbformat.read(info.value.output, as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in partial.cells for o in c.get("outputs", []))
    record = json.loads((tmp_path / "99_demo" / "metrics.json").read_text())
    assert (record["status"], record["error"]) == ("failed", "RuntimeError: boom, on purpose")


def test_a_rerun_sets_the_previous_record_aside_before_the_kernel_starts(demo_notebook, tmp_path):
    first = runner.run_notebook(demo_notebook, tmp_path, {"profile": "smoke"}, progress=False)
    with pytest.raises(runner.NotebookFailed):  # refused by resolve() in the setup cell, before its Recorder
        runner.run_notebook(demo_notebook, tmp_path, {"profile": "smoke", "epochs": -1}, progress=False)
    record = json.loads(first.metrics.read_text())
    assert record["status"] == "failed" and record["error"].startswith("ParameterError: ")
    previous = json.loads((first.metrics.parent / "metrics.previous.json").read_text())
    assert previous["status"] == "complete" and previous["metrics"]["epochs_used"] == 1


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ptft_utils.kit.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_unknown_parameter_exits_2_and_lists_the_valid_ones(demo_notebook, tmp_path):
    done = run_cli("run", str(demo_notebook), "-p", "profile", "smoke", "-p", "bogus", "1", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "'bogus'" in done.stderr and "profile, device, seed, output_dir, epochs, explode" in done.stderr


def test_cli_bad_device_exits_2_before_running(demo_notebook, tmp_path):
    done = run_cli("run", str(demo_notebook), "-p", "device", "tpu", "--out", str(tmp_path))
    assert done.returncode == 2 and "'device' = 'tpu'" in done.stderr


def test_cli_run_parses_values_and_collects_results(demo_notebook, tmp_path):
    done = run_cli("run", str(demo_notebook), "--profile", "smoke", "-p", "epochs", "2", "--out", str(tmp_path), "-q")
    assert done.returncode == 0, done.stderr
    table = run_cli("results", str(tmp_path), "--format", "csv")
    assert table.returncode == 0
    header, row = table.stdout.strip().splitlines()[:2]
    assert "epochs_used" in header.split(",")
    assert row.split(",")[header.split(",").index("epochs_used")] == "2"
    assert row.split(",")[header.split(",").index("status")] == "complete"
    # The demo asserts a claim the old way, rec.claim(..., expected=True), as the chapters still do:
    # it runs and is recorded, but was never declared with rec.expect, so verify reports a defect.
    # (Declared, contradicted and unfinished records: tests/test_results.py.)
    verify = run_cli("verify", str(tmp_path))
    assert verify.returncode == 1, verify.stdout
    claim_lines = [line.split()[:2] for line in verify.stdout.splitlines() if line.startswith("  ")]
    assert claim_lines == [["DEFECT", "epochs_positive"], ["finding", "epochs_above_two"]]
    assert "0 of 1 claims the text asserts agree with the runs (0 contradicted, 1 defective)" in verify.stdout


def test_cli_failing_cell_exits_1_and_names_the_partial_notebook(demo_notebook, tmp_path):
    done = run_cli("run", str(demo_notebook), "-p", "explode", "true", "--out", str(tmp_path), "-q")
    assert done.returncode == 1
    assert "boom, on purpose" in done.stderr and str(tmp_path / "99_demo.ipynb") in done.stderr
    assert json.loads((tmp_path / "99_demo" / "metrics.json").read_text())["status"] == "failed"


def test_parse_value_reads_yaml_scalars_and_lists():
    assert runner.parse_value("3") == 3
    assert runner.parse_value("0.5") == 0.5
    assert runner.parse_value("[1, 5]") == [1, 5]
    assert runner.parse_value("cpu") == "cpu"
    assert runner.parse_value("true") is True


def test_doctor_lists_each_registry_file_with_its_status(tmp_path, shared_data):
    env = {**os.environ, "PTFT_DATA": str(tmp_path), "PTFT_DATA_MIRROR": str(shared_data)}
    done = subprocess.run(
        [sys.executable, "-m", "ptft_utils.kit.cli", "doctor"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("python") and "cores" in lines[1]
    mnist_test = [line for line in lines if "mnist" in line.split()[:1] and "t10k-images" in line]
    assert mnist_test and mnist_test[0].endswith("in mirror")
    assert any(line.split()[0] == "mnist" and line.endswith("missing") for line in lines if line.strip())
