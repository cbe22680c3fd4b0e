"""Packaging contracts: a framework-free import, and conda and pip asking for the same things."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


CONDA_NAMES = {"pytorch": "torch"}  # conda-forge package name -> PyPI name


def _name(requirement: str) -> str:
    name = re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")
    return CONDA_NAMES.get(name, name)


def test_import_loads_no_framework():
    code = "import sys, ptft_utils; print([m for m in ('torch', 'tensorflow', 'keras', 'gensim') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_module_imports_no_framework():
    code = "import sys, ptft_utils.kit.cli; print([m for m in ('torch', 'tensorflow', 'gensim') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]} | {_name(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip |= {_name(r) for r in item["pip"] if not r.startswith("-e")}
        else:
            conda.add(_name(item))
    conda.discard("python")
    conda.discard("pip")
    declared = conda | pip
    assert declared == wanted, f"only in environment.yml: {declared - wanted}; only in pyproject: {wanted - declared}"


def test_cpu_constraints_pin_torch_to_the_cpu_build():
    text = (ROOT / ".ci" / "constraints-cpu.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", text, re.M)


def test_import_contracts_are_kept():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and "0 broken" in done.stdout


def test_import_contracts_fail_when_kit_imports_tensorflow(tmp_path):
    import shutil

    shutil.copytree(ROOT / "ptft_utils", tmp_path / "ptft_utils", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    atomic = tmp_path / "ptft_utils" / "kit" / "atomic.py"
    atomic.write_text(atomic.read_text() + "\n\ndef _gpu_names():\n    import tensorflow\n\n    return tensorflow\n")
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode != 0
    assert "ptft_utils.kit is not allowed to import tensorflow" in done.stdout
    assert "ptft_utils.kit.atomic -> tensorflow" in done.stdout


def test_repository_root_is_found_from_the_moved_modules():
    from ptft_utils.data import download
    from ptft_utils.kit import runner

    assert runner.REPO_ROOT == ROOT
    assert download._REPO_ROOT == ROOT
    assert (runner.REPO_ROOT / "notebooks").is_dir()
