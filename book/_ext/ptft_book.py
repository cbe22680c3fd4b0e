"""The book's own Sphinx extension: the run-time table, and one fix to the page scripts.

**``ptft-run-times``** renders a table of measured notebook run times.

The book is built from notebooks executed by papermill, and every chapter writes its record to
``<output_dir>/metrics.json``. Papermill keeps the parameters it injected (``output_dir``
among them) in each executed notebook's metadata, so the directive finds every chapter's record
from the notebooks being built, wherever ``ptft book`` or the tests put the runs. Extra folders
can be named with ``ptft_runs_dir`` in ``_config.yml`` (relative to the book's source folder) or
the ``PTFT_BOOK_RUNS`` environment variable.

The table (notebook, profile, device, CPU, wall time) thus shows the run times measured by the
build that produced the pages, never numbers typed by hand. With no records it says so.

**Duplicate inline scripts.** sphinx-thebe registers its inline configuration script
(``const THEBE_JS_URL = ...``) on every ``env-before-read-docs`` event, and a Jupyter Book build
emits that event more than once, so each page declared the same ``const`` twice and the browser
reported ``SyntaxError: Identifier 'THEBE_JS_URL' has already been declared``. The
``html-page-context`` handler below drops exact duplicates from a page's scripts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _papermill_output_dirs(srcdir: Path) -> list[Path]:
    """``output_dir`` of every executed notebook in the book, read from papermill's metadata."""
    found = []
    for notebook in sorted(srcdir.glob("**/*.ipynb")):
        if "_build" in notebook.relative_to(srcdir).parts:
            continue
        try:
            metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
        except (OSError, ValueError):
            continue
        papermill = metadata.get("papermill") or {}
        output_dir = (papermill.get("parameters") or {}).get("output_dir")
        if not isinstance(output_dir, str):
            continue
        path = Path(output_dir)
        if not path.is_absolute():  # relative to the folder papermill ran the notebook in
            path = Path(papermill.get("input_path") or notebook).parent / path
        found.append(path)
    return found


def _record_paths(app: Sphinx) -> list[Path]:
    srcdir = Path(app.srcdir)
    paths = [folder / "metrics.json" for folder in _papermill_output_dirs(srcdir)]
    extra = [os.environ.get("PTFT_BOOK_RUNS"), app.config.ptft_runs_dir]
    for configured in filter(None, extra):
        folder = Path(configured)
        folder = folder if folder.is_absolute() else (srcdir / folder).resolve()
        paths.extend(sorted(folder.glob("*/metrics.json")))
    unique = {path.resolve(): None for path in paths if path.is_file()}
    return list(unique)


def _load_records(paths: list[Path]) -> list[dict]:
    """One complete record per notebook (the first found), in notebook order.

    A record whose run did not finish (``status`` other than ``complete``, or an old record with no
    status) is skipped: its times are not the times of a finished chapter.
    """
    records: dict[str, dict] = {}
    for path in paths:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict) or record.get("status") != "complete":
            continue
        if "notebook" in record and "wall_seconds" in record:
            records.setdefault(str(record["notebook"]), record)
    return [records[name] for name in sorted(records)]


def _row(cells: list[str]) -> nodes.row:
    row = nodes.row()
    for text in cells:
        entry = nodes.entry()
        entry += nodes.paragraph(text=text)
        row += entry
    return row


def _table(header: list[str], rows: list[list[str]]) -> nodes.table:
    table = nodes.table(classes=["ptft-run-times"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    head += _row(header)
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += _row(cells)
    group += body
    return table


class RunTimes(SphinxDirective):
    """Render the run-time table, or a note that no run has been recorded."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        paths = _record_paths(self.env.app)
        for path in paths:
            self.env.note_dependency(str(path))
        records = _load_records(paths)
        if not records:
            note = nodes.note()
            note += nodes.paragraph(
                text=(
                    "No run records were found when this page was built, so no run times are shown here. "
                    "Build the book with `make book` (or `ptft book`): it executes every chapter and this "
                    "table then lists the wall time each one took."
                )
            )
            return [note]
        header = ["notebook", "profile", "device", "CPU (logical cores)", "wall time (s)"]
        rows = []
        for record in records:
            env = record.get("environment") or {}
            cpu = f"{env.get('cpu', '?')} ({env.get('cpu_count', '?')})"
            device = env.get("gpu") or env.get("device") or "?"
            rows.append(
                [
                    str(record["notebook"]),
                    str(record.get("profile", "?")),
                    str(device),
                    cpu,
                    f"{float(record['wall_seconds']):.0f}",
                ]
            )
        return [_table(header, rows)]


def _script_key(script: object) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (
        str(getattr(script, "filename", script) or ""),  # inline scripts: None or ""
        getattr(script, "priority", None),
        tuple(sorted((str(k), str(v)) for k, v in attributes.items())),
    )


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    """Keep the first of identical ``<script>`` entries (same source, body and attributes)."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.add_config_value("ptft_runs_dir", "", "env")
    app.add_directive("ptft-run-times", RunTimes)
    app.connect("html-page-context", drop_duplicate_scripts)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
