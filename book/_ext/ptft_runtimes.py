"""Sphinx directive ``ptft-run-times``: a table of measured notebook run times.

``ptft book`` executes every chapter with papermill and leaves ``<runs>/<notebook>/metrics.json``
(``_build/runs/`` beside the staged book, set by ``ptft_runs_dir`` in ``_config.yml``, relative to
the book's source folder, or by the ``PTFT_BOOK_RUNS`` environment variable). The directive
turns those records into a table (notebook, profile, device, CPU, wall time), so the run times
the book quotes are the ones measured by the build that published it, never typed by hand.
With no records it says so instead of showing numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def _runs_dir(app: Sphinx) -> Path:
    configured = os.environ.get("PTFT_BOOK_RUNS") or app.config.ptft_runs_dir
    path = Path(configured)
    return path if path.is_absolute() else (Path(app.srcdir) / path).resolve()


def _load_records(runs_dir: Path) -> list[dict]:
    records = []
    for path in sorted(runs_dir.glob("*/metrics.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and "notebook" in record and "wall_seconds" in record:
            records.append(record)
    return records


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
        runs_dir = _runs_dir(self.env.app)
        for path in runs_dir.glob("*/metrics.json"):
            self.env.note_dependency(str(path))
        records = _load_records(runs_dir)
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


def setup(app: Sphinx) -> dict:
    app.add_config_value("ptft_runs_dir", "../runs", "env")
    app.add_directive("ptft-run-times", RunTimes)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
