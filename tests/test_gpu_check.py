"""The GPU check (``make gpu-check``): what it refuses without a GPU, and how it reads a record.

On a machine without CUDA (this one) the check must stop before running anything and say why; a
record from a real run on the CPU must fail every CUDA check by name; the table must put a run's
time beside the CPU's with their ratio.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from tiny_notebooks import write_notebook

from ptft_utils.dist import gpu_check
from ptft_utils.kit import runner
from ptft_utils.kit.results import load_run

REPO = Path(__file__).resolve().parents[1]
TRAIN = """import torch
from ptft_utils import Recorder
from ptft_utils.train.device import torch_device
rec = Recorder(name, {"profile": profile, "device": device, "seed": seed, "output_dir": output_dir})
dev = torch_device(device)
rec.device = str(dev)
weights = torch.ones(3, device=dev) * 2
rec.metric("total", float(weights.sum()))
rec.save()
"""


def run_tiny_chapter(tmp_path: Path, device: str) -> dict:
    parameters = f'profile = "smoke"\ndevice = "{device}"\nseed = 0\noutput_dir = "runs/93_tiny"\nname = "93_tiny"\n'
    notebook = write_notebook(tmp_path / "93_tiny.ipynb", parameters, TRAIN)
    result = runner.run_notebook(notebook, tmp_path / "out", {"profile": "smoke", "device": device}, progress=False)
    return load_run(result.metrics)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_without_a_gpu_the_check_stops_before_running_anything(tmp_path):
    out = tmp_path / "gpu-check"
    done = subprocess.run(
        [sys.executable, "-m", "ptft_utils.dist.gpu_check", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == gpu_check.EXIT_NO_GPU
    assert "the GPU check needs a CUDA GPU, and PyTorch sees none" in done.stderr
    assert "make gpu-check" in done.stderr and ".ci/constraints-gpu.txt" in done.stderr
    assert not out.exists()


def test_a_cpu_run_fails_every_cuda_check_by_name(tmp_path):
    record = run_tiny_chapter(tmp_path, "cpu")
    checked = gpu_check.check_cuda_record(record)
    assert checked.notebook == "93_tiny" and checked.profile == "smoke"
    problems = "\n".join(checked.problems)
    assert "93_tiny: the run asked for device='cpu', not 'cuda'" in problems
    assert "93_tiny: the chapter trained on cpu, not on CUDA" in problems
    if not torch.cuda.is_available():
        assert "93_tiny: no GPU name is recorded (environment.gpu)" in problems
    assert "not complete" not in problems  # the run itself finished


def test_an_unfinished_record_is_not_counted(tmp_path):
    record = run_tiny_chapter(tmp_path, "cpu")
    record["status"] = "running"
    problems = gpu_check.check_cuda_record(record).problems
    assert "93_tiny: the record is running, not complete" in problems


def test_the_table_puts_each_run_beside_the_cpu_smoke_time(tmp_path):
    record = run_tiny_chapter(tmp_path, "cpu")
    checked = gpu_check.check_cuda_record(record)
    cpu_seconds = gpu_check.wall_times(tmp_path / "out")
    assert set(cpu_seconds) == {("93_tiny", "smoke")}
    table = gpu_check.report_table([checked], {("93_tiny", "smoke"): 4 * checked.wall_seconds})
    header, rule, row = table.splitlines()
    assert header.startswith("| chapter | profile | CUDA s | CPU smoke s | CPU / CUDA |")
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0:2] == ["93_tiny", "smoke"]
    assert cells[4] == "4.00"
    assert cells[6] == "float32 (no precision option)"
    assert cells[7] == f"{len(checked.problems)} failed"
