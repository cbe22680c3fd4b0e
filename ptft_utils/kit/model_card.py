"""A model card for a shared model, written from the run that trained it (its ``metrics.json``).

Hugging Face reads a model repository's ``README.md`` as its card: YAML front matter (``license``,
``datasets``, ``metrics``, ``base_model``, ``model-index`` with the evaluation results) and then
Markdown. :func:`model_card` fills both from a run record (:func:`ptft_utils.kit.results.load_run`),
so the numbers on the card are the numbers the run measured, never typed: each metric with its
confidence interval where the run recorded one (the book's names, ``<metric>_ci_low`` and
``<metric>_ci_high``, or ``<metric>_ci90_low``/``_high`` for another level), the data the run
read (its ``data`` provenance lines), the parameters and environment, the limitations the author
states (required: a card without them is an advertisement) and the licence.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ptft_utils.kit.atomic import atomic_write_text
from ptft_utils.kit.results import load_run

CARD_FILE = "README.md"
_CI_NAME = re.compile(r"^(?P<base>.+)_ci(?P<level>\d*)_(?P<end>low|high)$")


def metric_intervals(metrics: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The run's numeric metrics, each with its interval if recorded: ``{name: {value, low, high, level}}``.

    ``acc_k5`` with ``acc_k5_ci_low`` and ``acc_k5_ci_high`` becomes one entry (level 95 unless
    the name says another, as in ``_ci90_low``); an interval whose point estimate is not recorded
    is looked up under ``<name>_mean`` and otherwise kept with ``value`` None.

    Taught in: 09 §1.
    """
    intervals: dict[str, dict[str, Any]] = {}
    bounds: dict[str, dict[str, Any]] = {}
    for name, value in metrics.items():
        match = _CI_NAME.match(name)
        if match and _number(value):
            entry = bounds.setdefault(match["base"], {"level": int(match["level"] or 95)})
            entry[match["end"]] = float(value)
    for base, entry in bounds.items():
        if "low" not in entry or "high" not in entry:
            continue
        point = base if base in metrics else f"{base}_mean" if f"{base}_mean" in metrics else None
        value = float(metrics[point]) if point is not None and _number(metrics[point]) else None
        intervals[point or base] = {"value": value, "low": entry["low"], "high": entry["high"], "level": entry["level"]}
    for name, value in metrics.items():
        if name not in intervals and not _CI_NAME.match(name) and _number(value):
            intervals[name] = {"value": float(value), "low": None, "high": None, "level": None}
    return dict(sorted(intervals.items()))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def model_card(
    record: Mapping[str, Any] | str | os.PathLike[str],
    *,
    model_name: str,
    license: str,
    limitations: Sequence[str],
    description: str = "",
    base_model: str | None = None,
    metrics: Sequence[str] | None = None,
    metric_types: Mapping[str, str] | None = None,
    datasets: Mapping[str, str] | None = None,
    task: str = "text-classification",
    tags: Sequence[str] = (),
) -> str:
    """The text of a Hugging Face model card (``README.md``) for the model a run trained.

    ``record`` is a run record or the path of its ``metrics.json`` (or folder). ``metrics`` picks
    the metrics to report (default: every numeric one); ``metric_types`` gives each its Hugging
    Face metric type (``{"acc_test": "accuracy"}``; default: the metric's own name). ``datasets``
    maps dataset ids (for the front matter) to descriptions; by default the run's ``data``
    provenance. ``limitations`` must say, in at least one sentence, what the model is not good for.

    Taught in: 09 §1.
    """
    run = dict(load_run(Path(record))) if isinstance(record, (str, os.PathLike)) else dict(record)
    if not isinstance(model_name, str) or not model_name.strip():
        raise ValueError(f"model_name must be a non-empty string, got {model_name!r}")
    if not isinstance(license, str) or not license.strip():
        raise ValueError(f"license must be a licence identifier such as 'mit' or 'apache-2.0', got {license!r}")
    if (
        isinstance(limitations, str)
        or not limitations
        or not all(isinstance(x, str) and x.strip() for x in limitations)
    ):
        raise ValueError(f"limitations must be a non-empty list of sentences, got {limitations!r}")
    found = metric_intervals(run.get("metrics", {}))
    chosen = list(found) if metrics is None else list(metrics)
    missing = [name for name in chosen if name not in found]
    if missing:
        raise ValueError(f"metrics names {missing!r}, not numeric metrics of this run (it has {sorted(found)!r})")
    if not chosen:
        raise ValueError("metrics: the run recorded no numeric metric to put on the card")
    types = dict(metric_types or {})
    data = dict(datasets) if datasets is not None else dict(run.get("data", {}))

    results = []
    for name in chosen:
        entry = found[name]
        if entry["value"] is not None:
            results.append({"type": types.get(name, name), "name": name, "value": entry["value"]})
    front: dict[str, Any] = {"license": license, "library_name": "transformers"}
    if base_model:
        front["base_model"] = base_model
    front["datasets"] = list(data)
    front["metrics"] = sorted({types.get(name, name) for name in chosen})
    front["tags"] = ["ptft", run.get("notebook", "unknown"), *tags]
    dataset_name = ", ".join(data) or "unspecified"
    front["model-index"] = [
        {
            "name": model_name,
            "results": [
                {"task": {"type": task}, "dataset": {"name": dataset_name, "type": dataset_name}, "metrics": results}
            ],
        }
    ]

    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(), "---", ""]
    lines += [f"# {model_name}", ""]
    if description:
        lines += [description, ""]
    notebook, profile = run.get("notebook", "unknown"), run.get("profile")
    lines += [
        f"Trained and evaluated by the notebook `{notebook}` (profile `{profile}`), run status "
        f"`{run.get('status')}`, started {run.get('started', 'n/a')}, finished {run.get('finished', 'n/a')}.",
        "",
    ]
    lines += ["## Evaluation results", "", "| metric | value | interval |", "|---|---|---|"]
    for name in chosen:
        entry = found[name]
        ci = "" if entry["low"] is None else f"{entry['level']}% CI [{_fmt(entry['low'])}, {_fmt(entry['high'])}]"
        lines.append(f"| `{name}` | {_fmt(entry['value'])} | {ci} |")
    lines += ["", "## Training and evaluation data", ""]
    lines += [f"- **{name}**: {text}" for name, text in data.items()] or ["- not recorded"]
    lines += ["", "## Limitations", ""] + [f"- {text}" for text in limitations]
    lines += ["", "## Training procedure", ""]
    params = run.get("parameters", {})
    lines += [f"- `{key}`: `{value!r}`" for key, value in sorted(params.items())] or ["- not recorded"]
    env = run.get("environment", {})
    if env:
        lines += ["", "Environment: " + ", ".join(f"{key} {value}" for key, value in sorted(env.items()))]
    claims = [c for c in run.get("claims", []) if c.get("holds") is not None]
    if claims:
        lines += ["", "## Claims checked by the run", ""]
        lines += [f"- {c.get('statement', c['id'])}: {'holds' if c['holds'] else 'does not hold'}" for c in claims]
    lines += ["", "## Licence", "", f"Released under the `{license}` licence; the data keep their own licences.", ""]
    return "\n".join(lines)


def write_model_card(folder: str | os.PathLike[str], record: Mapping[str, Any] | str | os.PathLike[str],
                     **card: Any) -> Path:  # fmt: skip
    """Write :func:`model_card`'s text to ``folder/README.md`` (atomically); returns its path.

    Taught in: 09 §1.
    """
    return atomic_write_text(Path(folder) / CARD_FILE, model_card(record, **card))


def read_front_matter(text: str) -> dict[str, Any]:
    """The YAML front matter of a model card's text (between the first two ``---`` lines).

    Taught in: 09 §1.
    """
    if not text.startswith("---\n"):
        raise ValueError("text must start with a '---' line opening the card's YAML front matter")
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValueError("text has no '---' line closing the card's YAML front matter")
    front = yaml.safe_load(text[4:end])
    if not isinstance(front, dict):
        raise ValueError("the card's front matter is not a YAML mapping")
    return front
