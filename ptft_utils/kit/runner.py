"""Execute chapter notebooks with papermill, and build the book from the executed copies.

One run = one notebook executed in a real Jupyter kernel with injected parameters, written to
``<out>/<name>.ipynb`` with its record at ``<out>/<name>/metrics.json``. Parameter *names* are
checked against the notebook's ``parameters`` cell (read by papermill's inspection) before a
kernel starts, and the common parameters' values too; chapter knobs are validated inside the
notebook by :func:`ptft_utils.kit.params.resolve`, so a hand-run notebook gets the same errors.

The book build stages a copy of the book (``_config.yml``, ``book/``) with the *executed*
notebooks in ``notebooks/`` and runs ``jupyter-book build`` on it with warnings as errors; the
committed notebooks stay free of outputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ptft_utils.kit.params import COMMON, COMMON_KNOBS, ParameterError, check_names, validate

REPO_ROOT = Path(__file__).resolve().parents[2]


class NotebookFailed(RuntimeError):
    """A cell raised while papermill executed the notebook; the partial notebook is kept."""

    def __init__(self, notebook: Path, output: Path, cell: int | None, ename: str, evalue: str) -> None:
        self.notebook, self.output, self.cell, self.ename, self.evalue = notebook, output, cell, ename, evalue
        where = f"cell {cell}" if cell is not None else "a cell"
        super().__init__(
            f"{notebook.name}: {where} raised {ename}: {evalue}\n"
            f"The partly executed notebook is kept for inspection: {output}"
        )


@dataclass(frozen=True)
class RunResult:
    notebook: Path
    output: Path
    metrics: Path
    wall_seconds: float


def notebook_name(path: str | Path) -> str:
    return Path(path).stem


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """The notebook's ``parameters`` cell: ``{name: {"default": ..., "type": ..., "help": ...}}``."""
    import papermill

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such notebook")
    found = papermill.inspect_notebook(str(path))
    if not found:
        raise ValueError(f"{path}: no cell tagged 'parameters'")
    return {
        name: {"default": info["default"], "type": info["inferred_type_name"], "help": info["help"]}
        for name, info in found.items()
    }


def check_parameters(path: str | Path, parameters: Mapping[str, Any]) -> None:
    """Refuse unknown names and bad common values before any kernel starts."""
    known = notebook_parameters(path)
    check_names(parameters, known)
    for name in COMMON:
        if name in parameters:
            validate(name, parameters[name], COMMON_KNOBS[name])


def parse_value(text: str) -> Any:
    """A command-line value as YAML: ``3`` -> 3, ``0.1`` -> 0.1, ``[1, 5]`` -> [1, 5], ``cpu`` -> 'cpu'."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def run_notebook(
    notebook: str | Path,
    out_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
    log_output: bool = False,
    timeout: int | None = None,
) -> RunResult:
    """Execute one notebook; ``output_dir`` is set to ``<out_dir>/<name>`` unless given."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = Path(notebook).resolve()
    out_dir = Path(out_dir).resolve()
    name = notebook_name(notebook)
    params = dict(parameters or {})
    params.setdefault("output_dir", str(out_dir / name))
    check_parameters(notebook, params)
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{name}.ipynb"
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters=params,
            cwd=str(notebook.parent),
            progress_bar=progress,
            log_output=log_output,
            execution_timeout=timeout,
            kernel_name="python3",
        )
    except PapermillExecutionError as exc:
        raise NotebookFailed(notebook, output, exc.exec_count, exc.ename, exc.evalue) from None
    return RunResult(notebook, output, Path(params["output_dir"]) / "metrics.json", time.perf_counter() - started)


def toc_notebooks(toc: str | Path = REPO_ROOT / "book" / "_toc.yml") -> list[Path]:
    """Notebooks the book's table of contents lists, in order (paths under the repository)."""
    import yaml

    toc = Path(toc)
    with open(toc, encoding="utf-8") as handle:
        tree = yaml.safe_load(handle)
    files: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("file"), str):
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(tree)
    root = toc.parent.parent
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def chapter_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """Every ``notebooks/NN_*.ipynb`` chapter, in order."""
    return sorted(p for p in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def find_notebook(name_or_path: str, root: Path = REPO_ROOT) -> Path:
    """Accept a path, a file name, a stem (``01_concepts``) or a chapter number (``01``)."""
    candidate = Path(name_or_path)
    if candidate.exists():
        return candidate
    chapters = chapter_notebooks(root)
    for path in chapters:
        if name_or_path in (path.name, path.stem, path.stem.split("_", 1)[0]):
            return path
    names = ", ".join(p.stem for p in chapters)
    raise FileNotFoundError(f"no notebook {name_or_path!r}; chapters: {names}")


def build_book(
    executed_dir: str | Path,
    build_dir: str | Path = REPO_ROOT,
    root: Path = REPO_ROOT,
    *,
    warnings_as_errors: bool = True,
) -> Path:
    """Stage the book with executed notebooks and build HTML; return ``<build_dir>/_build/html``."""
    executed_dir, build_dir = Path(executed_dir), Path(build_dir)
    stage = build_dir / "_build" / "stage"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    shutil.copy2(root / "_config.yml", stage / "_config.yml")
    shutil.copytree(root / "book", stage / "book")
    (stage / "notebooks").mkdir()
    for notebook in toc_notebooks(root / "book" / "_toc.yml"):
        executed = executed_dir / notebook.name
        if not executed.exists():
            raise FileNotFoundError(f"{executed}: the executed copy of {notebook.name} is missing; run it first")
        shutil.copy2(executed, stage / "notebooks" / notebook.name)
    command = [
        str(Path(sys.executable).parent / "jupyter-book"), "build", str(stage),
        "--toc", str(stage / "book" / "_toc.yml"),
        "--config", str(stage / "_config.yml"),
        "--path-output", str(build_dir),
        "--keep-going",
    ]  # fmt: skip
    if warnings_as_errors:
        command.append("-W")
    html = build_dir / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)
    doctrees = build_dir / "_build" / ".doctrees"
    if doctrees.exists():
        shutil.rmtree(doctrees)
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    completed = subprocess.run(command, env=env, text=True, capture_output=True)
    if completed.returncode != 0:
        log = f"{completed.stdout[-6000:]}\n{completed.stderr[-6000:]}"
        raise RuntimeError(f"jupyter-book build failed (exit {completed.returncode}):\n{log}")
    return html


def run_all(
    notebooks: Iterable[Path],
    out_dir: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
) -> list[RunResult]:
    """Run several notebooks in order with the same parameters; stop at the first failure."""
    results = []
    for notebook in notebooks:
        print(f"== {notebook.name}", flush=True)
        result = run_notebook(notebook, out_dir, parameters, progress=progress)
        print(f"   done in {result.wall_seconds:.1f} s -> {result.metrics}", flush=True)
        results.append(result)
    return results


__all__ = [
    "NotebookFailed",
    "ParameterError",
    "RunResult",
    "build_book",
    "chapter_notebooks",
    "check_parameters",
    "find_notebook",
    "notebook_parameters",
    "parse_value",
    "run_all",
    "run_notebook",
    "toc_notebooks",
]
