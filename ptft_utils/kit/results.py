"""The record of one notebook run: metrics, claims declared and checked, data, environment, status.

A chapter opens a :class:`Recorder` in its setup cell, records every number it measures, declares
each claim its text asserts *before* the experiment that tests it (:meth:`Recorder.expect`),
evaluates it after (:meth:`Recorder.check`), and saves ``<output_dir>/metrics.json`` at the end.
Tests, ``ptft verify`` and the book all read that file, so prose, checks and figures agree on one
set of numbers. This module does not compute statistics (that is ``ptft_utils.eval``) and does not
run notebooks (that is ``ptft_utils.kit.runner``).

**Status.** Every record is ``running``, ``complete`` or ``failed``. Creating a Recorder writes
``metrics.json`` at once with ``"status": "running"``, replacing (atomically) any record already in
that folder, and fails there and then, naming ``output_dir``, when the folder cannot be written;
:meth:`Recorder.save` writes ``"status": "complete"``; :meth:`Recorder.fail` (and ``ptft run``,
through :func:`mark_failed`, when a cell raises or the run is interrupted) writes
``"status": "failed"`` with a one-line ``"error"``. A run that is killed leaves a ``running``
record, never the previous run's complete one, and ``ptft verify`` refuses every record that is
not ``complete``. A record that cannot be read (truncated, not JSON, another schema, keys missing)
raises :class:`BadRecord`, which names the file.

**Order.** Every :meth:`~Recorder.metric`, :meth:`~Recorder.expect`, :meth:`~Recorder.check` (and
the older :meth:`~Recorder.claim`) takes the next number of one increasing sequence. A claim keeps
the sequence number of its declaration and of its evaluation, and of each metric it rests on, so
the record itself shows whether the claim was declared before the numbers that decide it existed.

Schema (``SCHEMA_VERSION`` 2)::

    {"schema": 2, "notebook": "04_cnn_transfer", "status": "complete",   # or "running", "failed"
     "profile": "default", "parameters": {...}, "data": {"digits": "shipped: ..."},
     "environment": {"python": "3.11.7", "torch": "2.13.0", "device": "cpu", ...},
     "started": "2026-11-29T10:00:00+00:00",
     "finished": "2026-11-29T10:02:21+00:00", "wall_seconds": 141.2,    # complete records only
     "error": "RuntimeError: CUDA out of memory",   # failed records only (with "finished")
     "metrics": {"acc_scratch_k5_mean": 0.61, "acc_finetune_k5_mean": 0.83, ...},
     "metric_order": {"acc_scratch_k5_mean": 2, "acc_finetune_k5_mean": 3, ...},
     "tables": {"accuracy_vs_k": [{"k": 1, "arm": "scratch", "accuracy": 0.4}, ...]},
     "claims": [{"id": "finetune_beats_scratch_k5",
                 "statement": "With 5 labels per class, fine-tuning beats training from scratch",
                 "expected": true,          # what the text says: true holds, false does not, null a finding
                 "holds": true,             # what this run measured (null: declared, never checked)
                 "test": "paired_t", "margin": null, "family": "labels_per_class",
                 "declared_at": 1, "evaluated_at": 4,       # sequence numbers; declared_at null: never declared
                 "rests_on": {"acc_scratch_k5_mean": 2, "acc_finetune_k5_mean": 3},
                 "evidence": {"mean_diff": 0.22, "diff_ci95": [0.15, 0.29], "seeds": 5}}]}

Schema 1 records (no ``status``, no sequence numbers) are still read; ``ptft verify`` fails on
them because they do not say whether the run finished.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.kit.repro import environment

SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)
METRICS_FILE = "metrics.json"
RUNNING, COMPLETE, FAILED = "running", "complete", "failed"
STATUSES = (RUNNING, COMPLETE, FAILED)

#: The tests a claim may name in :meth:`Recorder.expect`; the evidence says what the test found.
TESTS: dict[str, str] = {
    "paired_t": "paired t-test over seeds (both arms on the same seeds and data)",
    "wilcoxon": "Wilcoxon signed-rank test over paired seeds",
    "paired_bootstrap": "paired bootstrap interval and p-value of the difference over seeds",
    "t_interval": "a Student-t confidence interval of one quantity, compared with a threshold",
    "correlation_difference": "two correlations on the same word pairs (paired bootstrap or Steiger's Z)",
    "ratio_interval": "an interval for a ratio of means (bootstrap or Fieller), e.g. break-even tasks",
    "tost": "two one-sided tests: equivalent within +-margin (the only way to claim 'no difference')",
    "noninferiority": "one-sided test: not worse than the reference by more than margin",
    "tolerance": "a deterministic check: an error no larger than margin (formulas vs. frameworks)",
    "exceeds": "a deterministic check: a quantity larger than margin (e.g. the error a wrong formula makes)",
    "means_compared": "two means over seeds compared without a test of their difference: weak evidence, said so",
    "single_run": "two numbers from one run compared, without seeds or an interval: weak evidence, said so",
}
#: Tests that need a ``margin``; ``tost`` is the equivalence test.
MARGIN_TESTS = frozenset({"tost", "noninferiority", "tolerance", "exceeds"})


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


def _verdict(holds: Any, claim_id: str) -> bool:
    """``holds`` as a bool; a string or a number is refused (``bool("no")`` is True)."""
    if isinstance(holds, bool):
        return holds
    dtype = getattr(holds, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", None) == "b" and getattr(holds, "ndim", 1) == 0:
        return bool(holds)  # a NumPy bool, as comparisons of NumPy numbers give
    raise TypeError(
        f"claim {claim_id!r}: holds must be a bool computed from the evidence, got {type(holds).__name__} {holds!r}"
    )


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def one_line_error(error: BaseException | str) -> str:
    """``"RuntimeError: boom"``: an exception's type and message (or a text) on one line."""
    if isinstance(error, BaseException):
        message = str(error)
        error = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return " ".join(str(error).split()) or "an error with no message"


class OutputDirError(OSError):
    """``output_dir`` (or ``--out``) is a file, or a folder this process cannot create or write."""


def _folder_problem(folder: Path, exc: OSError) -> str:
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():
            return "it is a file, not a folder" if part == folder else f"{part} is a file, not a folder"
    return exc.strerror or str(exc)


def check_output_dir(folder: str | Path, setting: str = "output_dir") -> Path:
    """Create ``folder`` if needed and prove it writable; return it absolute.

    Raises :class:`OutputDirError` naming ``setting`` and the folder, so a run that could never
    save its record fails before any work instead of after it.
    """
    import tempfile

    folder = Path(os.path.abspath(Path(folder).expanduser()))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".ptft-write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputDirError(
            f"{setting} {folder}: cannot be used as a folder for the run's files ({_folder_problem(folder, exc)}); "
            f"set {setting} to a folder you can write"
        ) from None
    return folder


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


class Recorder:
    """Collects what one run measured and writes it to ``<output_dir>/metrics.json``.

    The record is written with ``"status": "running"`` as soon as the Recorder is created (an
    :class:`OutputDirError` naming ``output_dir`` if that folder cannot be written), with
    ``"status": "complete"`` by :meth:`save` and ``"status": "failed"`` by :meth:`fail`. Metrics
    are also *glued* (myst-nb) when running in a Jupyter kernel, so the book's prose can quote
    them with ``{glue:text}`name`:.3f``; the number in the text is the number measured.
    """

    def __init__(self, notebook: str, params: Mapping[str, Any], output_dir: str | Path | None = None) -> None:
        self.notebook = notebook
        self.params = dict(params)
        self.output_dir = Path(output_dir if output_dir is not None else self.params.get("output_dir", "."))
        self.profile = self.params.get("profile")
        self._t0 = time.perf_counter()
        self._started = _now()
        self.data_sources: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.metric_order: dict[str, int] = {}
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.claims: list[dict[str, Any]] = []
        self.device: str | None = None
        self.error: str | None = None
        self._seq = 0
        self._glue = _in_notebook()
        self._write(RUNNING)  # from here on, this folder never shows an earlier run's complete record

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _find(self, claim_id: str) -> dict[str, Any] | None:
        return next((c for c in self.claims if c["id"] == claim_id), None)

    # -- recording ---------------------------------------------------------------------------
    def data(self, name: str, description: str) -> None:
        """Where a dataset came from (``"mirror: /path/..., sha256 ok"``, ``"shipped: ..."``)."""
        self.data_sources[name] = str(description)

    def metric(self, name: str, value: Any) -> Any:
        """Record one measured number (or short string); returns it for inline use.

        Each metric is measured once: recording the same name again with the same value does
        nothing (it keeps its first sequence number), with a different value it raises (prose
        glued to the first value would otherwise disagree with ``metrics.json``).
        """
        clean = _jsonable(value, f"metric {name!r}")
        if name in self.values:
            if self.values[name] != clean:
                raise ValueError(f"metric {name!r} recorded twice: {self.values[name]!r}, then {clean!r}")
            return value
        self.values[name] = clean
        self.metric_order[name] = self._next()
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

    def expect(
        self,
        claim_id: str,
        statement: str,
        *,
        holds: bool = True,
        test: str = "paired_t",
        margin: float | None = None,
        family: str | None = None,
    ) -> None:
        """Declare, before the experiment, a claim the chapter's text asserts.

        ``holds`` is what the text says (True: it holds; False: it does not). ``test`` names the
        test that will decide it (one of :data:`TESTS`); a "no difference" claim is made only
        with ``test="tost"`` and the equivalence ``margin`` it is tested against (also required by
        ``"noninferiority"`` and ``"tolerance"``). Claims sharing a ``family`` are Holm-corrected
        together. Evaluate the claim after the experiment with :meth:`check`.
        """
        if not isinstance(claim_id, str) or not claim_id:
            raise ValueError(f"claim_id must be a non-empty string, got {claim_id!r}")
        if self._find(claim_id) is not None:
            raise ValueError(f"claim {claim_id!r} recorded twice")
        if not isinstance(statement, str) or not statement.strip():
            raise ValueError(f"claim {claim_id!r}: statement must say what the text asserts, got {statement!r}")
        if not isinstance(holds, bool):
            raise ValueError(f"claim {claim_id!r}: holds is what the text says, True or False; got {holds!r}")
        if test not in TESTS:
            raise ValueError(f"claim {claim_id!r}: test {test!r} is not one of {', '.join(TESTS)}")
        if test in MARGIN_TESTS:
            if margin is None:
                raise ValueError(f"claim {claim_id!r}: test {test!r} needs a margin (margin=...), declared up front")
            if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin < math.inf:
                raise ValueError(f"claim {claim_id!r}: margin must be a positive finite number, got {margin!r}")
        elif margin is not None:
            raise ValueError(
                f"claim {claim_id!r}: margin={margin!r} means nothing to test {test!r}; "
                f"a margin goes with {', '.join(sorted(MARGIN_TESTS))}"
            )
        if family is not None and (not isinstance(family, str) or not family):
            raise ValueError(f"claim {claim_id!r}: family must be a non-empty string or None, got {family!r}")
        self.claims.append(
            {
                "id": claim_id,
                "statement": statement,
                "expected": holds,
                "holds": None,
                "test": test,
                "margin": None if margin is None else float(margin),
                "family": family,
                "declared_at": self._next(),
                "evaluated_at": None,
                "rests_on": {},
                "evidence": {},
            }
        )

    def check(
        self,
        claim_id: str,
        holds: bool,
        evidence: Mapping[str, Any],
        *,
        rests_on: Sequence[str],
    ) -> bool:
        """Evaluate a claim declared with :meth:`expect`, after its experiment; returns ``holds``.

        ``holds`` must be computed from the evidence, never typed. ``rests_on`` names the metrics
        (already recorded with :meth:`metric`) the verdict is computed from; their sequence
        numbers go into the record, so ``ptft verify`` can tell whether the claim was declared
        before they were measured.
        """
        claim = self._find(claim_id)
        if claim is None or claim["declared_at"] is None:
            raise ValueError(
                f"claim {claim_id!r} was never declared: call rec.expect({claim_id!r}, ...) first, "
                "before the experiment that tests it"
            )
        if claim["evaluated_at"] is not None:
            raise ValueError(f"claim {claim_id!r} checked twice")
        names = [rests_on] if isinstance(rests_on, str) else list(rests_on)
        if not names:
            raise ValueError(f"claim {claim_id!r}: rests_on must name the recorded metrics the verdict comes from")
        missing = [name for name in names if name not in self.values]
        if missing:
            raise ValueError(
                f"claim {claim_id!r}: rests_on names {', '.join(map(repr, missing))}, not recorded; "
                "record each with rec.metric before rec.check"
            )
        verdict = _verdict(holds, claim_id)
        claim.update(
            holds=verdict,
            evaluated_at=self._next(),
            rests_on={name: self.metric_order[name] for name in names},
            evidence=_jsonable(dict(evidence), f"claim {claim_id!r} evidence"),
        )
        return verdict

    def claim(
        self,
        claim_id: str,
        statement: str,
        holds: bool,
        evidence: Mapping[str, Any],
        *,
        expected: bool | None = None,
    ) -> bool:
        """Record a *finding*: a claim the text reports whichever way it comes out.

        ``holds`` must be computed, not typed. ``expected`` (True/False: what the text asserts) is
        still accepted for records written before :meth:`expect`, but such a claim was never
        declared, and ``ptft verify`` reports it as a defect: assert a claim with :meth:`expect`
        before the experiment and :meth:`check` after.
        """
        if self._find(claim_id) is not None:
            raise ValueError(f"claim {claim_id!r} recorded twice")
        if isinstance(holds, str):  # bool("no") is True; anything else reads as it always has
            raise TypeError(f"claim {claim_id!r}: holds must be computed from the evidence, got the string {holds!r}")
        verdict = bool(holds)
        self.claims.append(
            {
                "id": claim_id,
                "statement": statement,
                "expected": None if expected is None else bool(expected),
                "holds": verdict,
                "test": None,
                "margin": None,
                "family": None,
                "declared_at": None,
                "evaluated_at": self._next(),
                "rests_on": {},
                "evidence": _jsonable(dict(evidence), f"claim {claim_id!r} evidence"),
            }
        )
        return verdict

    # -- output ------------------------------------------------------------------------------
    def to_dict(self, status: str = COMPLETE) -> dict[str, Any]:
        record: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "notebook": self.notebook,
            "status": status,
            "profile": self.profile,
            "parameters": _jsonable(self.params, "parameters"),
            "data": dict(self.data_sources),
            "environment": environment(self.device or self.params.get("device")),
            "started": self._started,
        }
        if status == COMPLETE:  # a running record has no run time yet: readers never take it for one
            record["finished"] = _now()
            record["wall_seconds"] = round(time.perf_counter() - self._t0, 3)
        elif status == FAILED:
            record["finished"] = _now()
            record["error"] = self.error or "an error it did not record"
        record.update(
            metrics=dict(self.values),
            metric_order=dict(self.metric_order),
            tables=dict(self.tables),
            claims=[dict(c) for c in self.claims],
        )
        return record

    def _write(self, status: str) -> Path:
        path = self.output_dir / METRICS_FILE
        text = json.dumps(self.to_dict(status), indent=2, sort_keys=False) + "\n"
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            folder = self.output_dir.absolute()
            raise OutputDirError(
                f"output_dir {folder}: cannot write {METRICS_FILE} there ({_folder_problem(folder, exc)}); "
                "set output_dir to a folder you can write"
            ) from None
        return path

    def save(self) -> Path:
        """Write the complete record to ``metrics.json`` atomically and return its path."""
        return self._write(COMPLETE)

    def fail(self, error: BaseException | str) -> Path:
        """Write the record as ``failed`` with ``error`` (an exception or a text) on one line."""
        self.error = one_line_error(error)
        return self._write(FAILED)

    def claims_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        rows = [
            {
                "claim": c["statement"],
                "holds": "not checked" if c["holds"] is None else ("yes" if c["holds"] else "no"),
                "evidence": _format_evidence(c["evidence"]),
            }
            for c in self.claims
        ]
        return pd.DataFrame(rows, columns=["claim", "holds", "evidence"])

    def summary(self) -> str:
        held = sum(c["holds"] is True for c in self.claims)
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


def mark_failed(
    output_dir: str | Path, error: BaseException | str, *, notebook: str, parameters: Mapping[str, Any] | None = None
) -> Path | None:
    """After a run that raised, make its record say so; return the path written, or None.

    A ``running`` record becomes ``failed`` with ``error``; where no record exists (the run failed
    before its Recorder was created) a ``failed`` record of ``notebook`` and ``parameters`` is
    written. A ``complete`` or ``failed`` record, or one that cannot be read, is left alone.
    """
    path = Path(output_dir) / METRICS_FILE
    params = dict(parameters or {})
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        record = {"schema": SCHEMA_VERSION, "notebook": notebook, "status": RUNNING, "profile": params.get("profile"),
                  "parameters": params, "data": {}, "environment": {}, "metrics": {}, "metric_order": {},
                  "tables": {}, "claims": []}  # fmt: skip
    except (OSError, ValueError):
        return None  # ptft results and ptft verify name it as a bad record
    if not isinstance(record, dict) or record.get("status") != RUNNING:
        return None
    record.update(status=FAILED, finished=_now(), error=one_line_error(error))
    try:
        atomic_write_text(path, json.dumps(record, indent=2, default=str) + "\n")
    except OSError:
        return None  # never hide the run's own error behind this one
    return path


# -- reading ----------------------------------------------------------------------------------
class BadRecord(ValueError):
    """A ``metrics.json`` that cannot be read as a record; the message names the file."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


_CLAIM_DEFAULTS: dict[str, Any] = {
    "statement": "",
    "holds": None,
    "expected": None,
    "test": None,
    "margin": None,
    "family": None,
    "declared_at": None,
    "evaluated_at": None,
    "rests_on": {},
    "evidence": {},
}


def load_run(path: str | Path) -> dict[str, Any]:
    """Read one ``metrics.json`` (or the folder holding it), schema 1 or 2.

    Every record comes back with the schema 2 keys: ``status`` is None for a schema 1 record
    (which never said whether its run finished), and its claims carry no sequence numbers.
    """
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadRecord(path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise BadRecord(path, "is not UTF-8 text; rerun its notebook") from None
    except json.JSONDecodeError as exc:
        raise BadRecord(
            path, f"is not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno}); truncated or edited? "
            "rerun its notebook"
        ) from None  # fmt: skip
    if not isinstance(record, dict) or record.get("schema") not in READABLE_SCHEMAS:
        schema = record.get("schema") if isinstance(record, dict) else None
        readable = " or ".join(map(str, READABLE_SCHEMAS))
        raise BadRecord(path, f"schema {schema!r}, this version reads {readable}")
    defaults: dict[str, Any] = {"status": None, "profile": None, "metric_order": {}, "claims": []}
    for key, value in defaults.items():
        record.setdefault(key, value)
    problem = _shape_problem(record)
    if problem is not None:
        raise BadRecord(path, f"{problem}; rerun its notebook")
    record["claims"] = [{**_CLAIM_DEFAULTS, **claim} for claim in record["claims"]]
    record["_path"] = str(path)
    return record


def _shape_problem(record: Mapping[str, Any]) -> str | None:
    """What keeps ``record`` from being read (a key missing or of the wrong type), or None."""
    for key, kind in (("notebook", str), ("parameters", dict), ("metrics", dict), ("metric_order", dict),
                      ("claims", list)):  # fmt: skip
        if not isinstance(record.get(key), kind):
            return f"{key!r} is {'missing' if key not in record else type(record[key]).__name__}, not a {kind.__name__}"
    if record["status"] not in (*STATUSES, None):
        return f"status {record['status']!r} is not one of {', '.join(STATUSES)}"
    if not all(isinstance(claim, dict) and isinstance(claim.get("id"), str) for claim in record["claims"]):
        return "a claim is not an object with a string 'id'"
    return None


def find_runs(paths: Iterable[str | Path]) -> list[Path]:
    """Every ``metrics.json`` at or below the given files or folders, sorted."""
    found: list[Path] = []
    missing: list[str] = []
    for item in map(Path, paths):
        if item.is_file():
            found.append(item)
        elif item.is_dir():
            found.extend(sorted(item.rglob(METRICS_FILE)))
        else:
            missing.append(str(item))
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)}: no such file or folder")
    return found


def read_runs(paths: Iterable[str | Path]) -> tuple[list[dict[str, Any]], list[BadRecord]]:
    """Every record at or below ``paths``, and those that could not be read (each names its file)."""
    records, bad = [], []
    for path in find_runs(paths):
        try:
            records.append(load_run(path))
        except BadRecord as exc:
            bad.append(exc)
    return records, bad


def load_runs(paths: Iterable[str | Path]):  # -> pandas.DataFrame
    """Many runs in one table (see :func:`runs_table`); raises :class:`BadRecord` on the first bad one."""
    records, bad = read_runs(paths)
    if bad:
        raise bad[0]
    return runs_table(records)


def runs_table(records: Iterable[Mapping[str, Any]]):  # -> pandas.DataFrame
    """One row per run (with its status); parameters and metrics as columns."""
    import pandas as pd

    rows = []
    for record in records:
        row: dict[str, Any] = {
            "notebook": record["notebook"],
            "profile": record["profile"],
            "status": record["status"] or "no status",
            "wall_seconds": record.get("wall_seconds"),
            "claims_held": sum(c["holds"] is True for c in record["claims"]),
            "claims": len(record["claims"]),
            "path": record["_path"],
        }
        row.update({f"param.{k}": v for k, v in record["parameters"].items() if not isinstance(v, (list, dict))})
        row.update(record["metrics"])
        rows.append(row)
    return pd.DataFrame(rows)


# -- verifying --------------------------------------------------------------------------------
FAILURE, DEFECT, AGREES, FINDING = "FAIL", "DEFECT", "ok", "finding"


def record_problem(record: Mapping[str, Any]) -> str | None:
    """Why a record cannot be verified (it is not ``complete``), or None when it can."""
    status = record.get("status")
    if status == COMPLETE:
        return None
    if status is None:
        return (
            f"no status (schema {record.get('schema')}, written before records said whether their run "
            "finished); rerun the notebook"
        )
    if status == RUNNING:
        return "status 'running': the run did not finish (it failed, was killed, or is still going); rerun it"
    if status == FAILED:
        return f"status 'failed': {record.get('error') or 'the run raised'}; fix it and rerun"
    return f"status {status!r} is not 'complete'"


def family_sizes(claims: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many claims of one record belong to each ``family`` (the size its Holm correction must have)."""
    sizes: dict[str, int] = {}
    for claim in claims:
        if claim.get("family"):
            sizes[claim["family"]] = sizes.get(claim["family"], 0) + 1
    return sizes


def _family_defect(claim: Mapping[str, Any], family_size: int | None) -> str | None:
    """Why an asserted claim of a family lacks a proper Holm correction, or None when it has one."""
    name, evidence = claim["family"], claim.get("evidence") or {}
    of = f" ({family_size} claims in this record)" if family_size is not None else ""
    if evidence.get("correction") != "holm" or evidence.get("family_size") is None:
        return (
            f"family {name}{of}, but its evidence carries no Holm correction: check each claim of the family "
            "with its entry of ptft_utils.eval.stats.family(...) (p_value_adjusted, family_size)"
        )
    if family_size is not None and evidence["family_size"] != family_size:
        return f"evidence corrected over a family of {evidence['family_size']}, but family {name}{of} differs"
    if "ci_adjusted" not in evidence:
        return (
            f"family {name}{of}: its evidence records no family-adjusted interval (ci_adjusted); "
            "correct it with ptft_utils.eval.stats.family(...), which adds one"
        )
    return None


def review_claim(
    claim: Mapping[str, Any], metric_order: Mapping[str, int], family_size: int | None = None
) -> tuple[str, str]:
    """``(verdict, reason)`` for one claim of a complete record.

    The verdict is :data:`FAILURE` (the run contradicts what the text asserts), :data:`DEFECT`
    (an assertion not declared before the metrics it rests on, or never checked, or of a
    ``family`` whose evidence is not Holm-corrected over ``family_size`` claims: see
    :func:`family_sizes`), :data:`AGREES` or :data:`FINDING` (a claim the text does not assert).
    """
    expected, holds = claim.get("expected"), claim.get("holds")
    declared_at = claim.get("declared_at")
    measured = "holds" if holds else "does not hold"
    if expected is None:
        return FINDING, measured
    says = "holds" if expected else "does not hold"
    if holds is None:
        return DEFECT, f"declared (#{declared_at}) but never checked: call rec.check after its experiment"
    defects = []
    if declared_at is None:
        defects.append("asserted but never declared: declare it with rec.expect before its experiment")
    else:
        rests_on = claim.get("rests_on") or {}
        if not rests_on:
            defects.append("rests on no recorded metric")
        early = {name: seq for name, seq in rests_on.items() if seq is not None and seq < declared_at}
        if early:
            names = ", ".join(f"{name} (#{seq})" for name, seq in sorted(early.items(), key=lambda item: item[1]))
            defects.append(f"declared (#{declared_at}) after the metrics it rests on: {names}")
        unknown = [name for name in rests_on if name not in metric_order]
        if unknown:
            defects.append(f"rests on metrics the record does not hold: {', '.join(unknown)}")
    evidence = claim.get("evidence") or {}
    if claim.get("family"):
        problem = _family_defect(claim, family_size)
        if problem:
            defects.append(problem)
    elif isinstance(evidence, Mapping) and evidence.get("p_value") is not None:
        defects.append(
            "a tested claim outside any family: give it a family (of one, if it stands alone) and correct it "
            "with ptft_utils.eval.stats.family(...), so that its family size and adjusted interval are recorded"
        )
    family = None
    if claim.get("family"):
        family = f"family {claim['family']}"
        if evidence.get("correction") == "holm" and evidence.get("family_size") is not None:
            adjusted = evidence.get("p_value_adjusted")
            p_text = f", Holm p {adjusted:.3g}" if isinstance(adjusted, (int, float)) else ""
            interval = evidence.get("ci_adjusted")
            if isinstance(interval, (list, tuple)) and len(interval) == 2 and None not in interval:
                level = evidence.get("ci_adjusted_confidence")
                level_text = f"{100 * level:.4g}% " if isinstance(level, (int, float)) else ""
                p_text += f", adjusted {level_text}interval [{interval[0]:.3g}, {interval[1]:.3g}]"
            family += f" of {evidence['family_size']}{p_text}"
    details = ", ".join(
        part
        for part in (
            claim.get("test"),
            None if claim.get("margin") is None else f"margin {claim['margin']:g}",
            family,
        )
        if part
    )
    details = f" ({details})" if details else ""
    if holds != expected:
        return FAILURE, "; ".join([f"the text says it {says}, this run says it {measured}{details}", *defects])
    if defects:
        return DEFECT, "; ".join(defects)
    return AGREES, f"{measured}, as the text says{details}"
