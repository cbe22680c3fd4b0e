"""Shared fixtures: smoke runs of the chapters (executed once per session) and the built book.

Notebook runs go through :mod:`ptft_utils.kit.runner`, i.e. papermill and a real Jupyter kernel,
exactly as ``ptft run`` and ``make book`` do. The shared data mirror (``../shared/data`` beside
the repository) is used when present, so the registry's real code path runs on real files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ptft_utils.kit import runner

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    # No MPLBACKEND here: it would reach the notebook kernels and override their inline
    # backend, and figures would silently vanish from the executed notebooks and the book.
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real dataset copies; tests that need it skip, visibly, when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data mirror not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def smoke_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("smoke-runs")


@pytest.fixture(scope="session")
def smoke_env(tmp_path_factory: pytest.TempPathFactory):
    """Environment for notebook kernels: a fresh data cache, the shared mirror when present."""
    saved = {k: os.environ.get(k) for k in ("PTFT_DATA", "PTFT_DATA_MIRROR")}
    os.environ["PTFT_DATA"] = str(tmp_path_factory.mktemp("data-cache"))
    if SHARED_DATA.is_dir():
        os.environ["PTFT_DATA_MIRROR"] = str(SHARED_DATA)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def smoke_run(smoke_dir: Path, smoke_env):
    """``smoke_run("01_concepts")`` -> that chapter's metrics.json (as a dict), run once per session."""
    cache: dict[str, dict] = {}
    failures: dict[str, str] = {}

    def run(name: str) -> dict:
        if name in failures:
            pytest.fail(failures[name])
        if name not in cache:
            notebook = REPO_ROOT / "notebooks" / f"{name}.ipynb"
            try:
                result = runner.run_notebook(notebook, smoke_dir, {"profile": "smoke"}, progress=False)
            except runner.NotebookFailed as exc:
                failures[name] = str(exc)
                pytest.fail(str(exc))
            with open(result.metrics, encoding="utf-8") as handle:
                record = json.load(handle)
            record["_wall_seconds_run"] = result.wall_seconds
            record["_executed"] = str(result.output)
            cache[name] = record
        return cache[name]

    return run


@pytest.fixture(scope="session")
def built_book(smoke_run, smoke_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book built from smoke runs of every chapter in the toc; returns the ``html`` folder."""
    for notebook in runner.toc_notebooks(REPO_ROOT / "book" / "_toc.yml"):
        smoke_run(notebook.stem)
    build_dir = tmp_path_factory.mktemp("book")
    return runner.build_book(smoke_dir, build_dir)
