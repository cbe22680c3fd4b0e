"""The Recorder and the metrics.json schema; the many-runs reader."""

import json

import numpy as np
import pandas as pd
import pytest

from ptft_utils.kit.results import SCHEMA_VERSION, Recorder, load_run, load_runs


def make_recorder(tmp_path, name="01_concepts", profile="smoke", seed=0):
    params = {"profile": profile, "device": "cpu", "seed": seed, "output_dir": str(tmp_path / name / str(seed))}
    return Recorder(name, params)


def test_save_writes_the_documented_schema(tmp_path):
    rec = make_recorder(tmp_path)
    rec.data("digits", "shipped: sklearn load_digits, upsampled 28x28")
    rec.metric("acc_k5_mean", np.float32(0.75))
    rec.table("accuracy", pd.DataFrame({"k": [1, 5], "accuracy": [0.5, 0.75]}))
    rec.claim("ft_beats_scratch", "Fine-tuning beats scratch", True, {"ft_mean": 0.8, "seeds": 3})
    path = rec.save()
    record = json.loads(path.read_text())
    assert path.name == "metrics.json"
    assert record["schema"] == SCHEMA_VERSION
    assert record["notebook"] == "01_concepts" and record["profile"] == "smoke"
    assert record["parameters"]["seed"] == 0
    assert record["data"] == {"digits": "shipped: sklearn load_digits, upsampled 28x28"}
    assert record["metrics"]["acc_k5_mean"] == pytest.approx(0.75)
    assert record["tables"]["accuracy"] == [{"k": 1, "accuracy": 0.5}, {"k": 5, "accuracy": 0.75}]
    assert record["claims"][0]["holds"] is True and record["claims"][0]["evidence"]["seeds"] == 3
    assert record["environment"]["python"] and record["environment"]["device"] == "cpu"
    assert record["wall_seconds"] >= 0


def test_non_finite_metric_is_refused(tmp_path):
    rec = make_recorder(tmp_path)
    with pytest.raises(ValueError, match="finite"):
        rec.metric("loss", float("nan"))


def test_a_claim_id_is_recorded_once(tmp_path):
    rec = make_recorder(tmp_path)
    rec.claim("x", "x holds", True, {})
    with pytest.raises(ValueError, match="twice"):
        rec.claim("x", "x holds", True, {})


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("a", 1)
    first = rec.save()
    rec.metric("b", 2)
    second = rec.save()
    assert first == second
    assert json.loads(second.read_text())["metrics"] == {"a": 1, "b": 2}
    assert sorted(p.name for p in second.parent.iterdir()) == ["metrics.json"]


def test_load_runs_puts_many_runs_in_one_table(tmp_path):
    for seed in (0, 1, 2):
        rec = make_recorder(tmp_path, seed=seed)
        rec.metric("acc", 0.5 + seed / 10)
        rec.claim("c", "c", seed > 0, {})
        rec.save()
    table = load_runs([tmp_path])
    assert len(table) == 3
    assert sorted(table["param.seed"]) == [0, 1, 2]
    assert table["acc"].tolist() == pytest.approx([0.5, 0.6, 0.7])
    assert table["claims_held"].sum() == 2


def test_load_run_rejects_another_schema(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"schema": 99}))
    with pytest.raises(ValueError, match="schema 99"):
        load_run(path)


def test_claims_frame_formats_evidence(tmp_path):
    rec = make_recorder(tmp_path)
    rec.claim("c", "A beats B", False, {"a_mean": 0.123456, "ci": [0.1, 0.2]})
    frame = rec.claims_frame()
    assert frame.loc[0, "holds"] == "no"
    assert frame.loc[0, "evidence"] == "a_mean=0.1235; ci=[0.1, 0.2]"


def test_a_metric_recorded_again_with_the_same_value_is_kept_once(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    rec.metric("acc", 0.5)
    assert rec.values == {"acc": 0.5}


def test_a_metric_recorded_again_with_another_value_is_refused(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    with pytest.raises(ValueError, match="recorded twice"):
        rec.metric("acc", 0.6)
