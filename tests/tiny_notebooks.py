"""Tiny notebooks for tests of the runner, the CLI and sweeps: a tagged parameters cell, then code."""

from __future__ import annotations

from pathlib import Path

import nbformat


def write_notebook(path: Path, parameters: str, *cells: str, title: str | None = None) -> Path:
    """Write a Python 3 notebook to ``path``: an optional markdown title, the papermill
    ``parameters`` cell (tagged), then one code cell per entry of ``cells``; returns ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(nbformat.v4.new_code_cell(cell) for cell in cells)]
    if title is not None:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(title))
    nbformat.write(nb, path)
    return path
