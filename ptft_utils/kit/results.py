"""The record of one notebook run: metrics, claims with evidence, data, environment.

A chapter opens a :class:`Recorder` in its setup cell, records every number it measures and
every claim it makes, and saves ``<output_dir>/metrics.json`` at the end. Tests, ``make verify``
and the book all read that file, so prose, checks and figures agree on one set of numbers.

Schema (``SCHEMA_VERSION`` 1)::

    {"schema": 1, "notebook": "04_cnn_transfer", "profile": "default",
     "parameters": {...}, "data": {"digits": "shipped: ..."},
     "environment": {"python": "3.11.7", "torch": "2.13.0", "device": "cpu", ...},
     "started": "2026-11-29T10:00:00+00:00", "wall_seconds": 141.2,
     "metrics": {"acc_scratch_k5_mean": 0.61, ...},
     "tables": {"accuracy_vs_k": [{"k": 1, "arm": "scratch", "accuracy": 0.4}, ...]},
     "claims": [{"id": ..., "statement": ..., "holds": true, "expected": true, "evidence": {...}}]}
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.kit.repro import environment

SCHEMA_VERSION = 1
METRICS_FILE = "metrics.json"


def _jsonable(value: Any, where: str) -> Any:
    """Convert NumPy scalars/arrays and tuples to JSON types; refuse NaN and infinities."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where} is {value}; a recorded number must be finite")
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise TypeError(f"{where} has a value of type {type(value).__name__} that metrics.json cannot hold")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


class Recorder:
    """Collects what one run measured and writes it to ``<output_dir>/metrics.json``.

    Metrics are also *glued* (myst-nb) when running in a Jupyter kernel, so the book's prose can
    quote them with ``{glue:text}`name`:.3f``; the number in the text is the number measured.
    """

    def __init__(self, notebook: str, params: Mapping[str, Any], output_dir: str | Path | None = None) -> None:
        self.notebook = notebook
        self.params = dict(params)
        self.output_dir = Path(output_dir if output_dir is not None else self.params.get("output_dir", "."))
        self.profile = self.params.get("profile")
        self._t0 = time.perf_counter()
        self._started = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        self.data_sources: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.claims: list[dict[str, Any]] = []
        self.device: str | None = None
        self._glue = _in_notebook()

    # -- recording ---------------------------------------------------------------------------
    def data(self, name: str, description: str) -> None:
        """Where a dataset came from (``"mirror: /path/..., sha256 ok"``, ``"shipped: ..."``)."""
        self.data_sources[name] = str(description)

    def metric(self, name: str, value: Any) -> Any:
        """Record one measured number (or short string); returns it for inline use.

        Each metric is measured once: recording the same name again with the same value does
        nothing, with a different value it raises (prose glued to the first value would
        otherwise disagree with ``metrics.json``).
        """
        clean = _jsonable(value, f"metric {name!r}")
        if name in self.values:
            if self.values[name] != clean:
                raise ValueError(f"metric {name!r} recorded twice: {self.values[name]!r}, then {clean!r}")
            return value
        self.values[name] = clean
        if self._glue and isinstance(clean, (int, float, str)):
            from myst_nb import glue

            glue(name, clean, display=False)
        return value

    def metrics(self, values: Mapping[str, Any] | None = None, **more: Any) -> None:
        for name, value in {**(values or {}), **more}.items():
            self.metric(name, value)

    def table(self, name: str, rows: Any) -> None:
        """Record a table (a pandas DataFrame or a list of dicts) under ``tables[name]``."""
        if hasattr(rows, "to_dict"):
            rows = rows.reset_index(drop=rows.index.name is None).to_dict(orient="records")
        self.tables[name] = _jsonable(list(rows), f"table {name!r}")

    def claim(
        self,
        claim_id: str,
        statement: str,
        holds: bool,
        evidence: Mapping[str, Any],
        *,
        expected: bool | None = None,
    ) -> bool:
        """Record a claim and the numbers it rests on. ``holds`` must be computed, not typed.

        ``expected`` is what the chapter's written text says about the claim (True: the prose
        asserts it; False: the prose says it does not hold). ``ptft verify`` fails when a run
        contradicts an expectation, i.e. when the prose would be wrong for that run. Claims
        without an expectation are findings the text reports whichever way they come out.
        """
        if any(c["id"] == claim_id for c in self.claims):
            raise ValueError(f"claim {claim_id!r} recorded twice")
        self.claims.append(
            {
                "id": claim_id,
                "statement": statement,
                "holds": bool(holds),
                "expected": None if expected is None else bool(expected),
                "evidence": _jsonable(dict(evidence), f"claim {claim_id!r} evidence"),
            }
        )
        return bool(holds)

    # -- output ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "notebook": self.notebook,
            "profile": self.profile,
            "parameters": _jsonable(self.params, "parameters"),
            "data": dict(self.data_sources),
            "environment": environment(self.device or self.params.get("device")),
            "started": self._started,
            "wall_seconds": round(time.perf_counter() - self._t0, 3),
            "metrics": dict(self.values),
            "tables": dict(self.tables),
            "claims": list(self.claims),
        }

    def save(self) -> Path:
        """Write ``metrics.json`` atomically and return its path."""
        path = self.output_dir / METRICS_FILE
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n")
        return path

    def claims_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        rows = [
            {
                "claim": c["statement"],
                "holds": "yes" if c["holds"] else "no",
                "evidence": _format_evidence(c["evidence"]),
            }
            for c in self.claims
        ]
        return pd.DataFrame(rows, columns=["claim", "holds", "evidence"])

    def summary(self) -> str:
        held = sum(c["holds"] for c in self.claims)
        return (
            f"{self.notebook} ({self.profile} profile): {len(self.values)} metrics, "
            f"{held}/{len(self.claims)} claims hold, {time.perf_counter() - self._t0:.1f} s"
        )


def _format_evidence(evidence: Mapping[str, Any]) -> str:
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, list):
            return "[" + ", ".join(fmt(v) for v in value) + "]"
        return str(value)

    return "; ".join(f"{k}={fmt(v)}" for k, v in evidence.items())


def load_run(path: str | Path) -> dict[str, Any]:
    """Read one ``metrics.json`` (or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    with open(path, encoding="utf-8") as handle:
        record = json.load(handle)
    if record.get("schema") != SCHEMA_VERSION:
        raise ValueError(f"{path}: schema {record.get('schema')!r}, this version reads {SCHEMA_VERSION}")
    record["_path"] = str(path)
    return record


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``metrics.json`` at or below the given files or folders, sorted."""
    found: list[Path] = []
    for item in map(Path, paths):
        if item.is_file():
            found.append(item)
        elif item.is_dir():
            found.extend(sorted(item.rglob(METRICS_FILE)))
        else:
            raise FileNotFoundError(f"{item}: no such file or folder")
    return found


def load_runs(paths: Iterable[str | Path]):  # -> pandas.DataFrame
    """Many runs in one table: one row per run; parameters and metrics as columns."""
    import pandas as pd

    rows = []
    for path in find_runs(paths):
        record = load_run(path)
        row: dict[str, Any] = {
            "notebook": record["notebook"],
            "profile": record["profile"],
            "wall_seconds": record["wall_seconds"],
            "claims_held": sum(c["holds"] for c in record["claims"]),
            "claims": len(record["claims"]),
            "path": record["_path"],
        }
        row.update({f"param.{k}": v for k, v in record["parameters"].items() if not isinstance(v, (list, dict))})
        row.update(record["metrics"])
        rows.append(row)
    return pd.DataFrame(rows)
