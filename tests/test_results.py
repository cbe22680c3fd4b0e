"""The Recorder and the metrics.json schema: status, claims declared before measured; reading; ``ptft verify``.

The ``ptft verify`` and ``ptft results`` tests run the real command in a subprocess on records
written by a real Recorder (or, for old records, by hand in the old schema).
"""

import io
import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from ptft_utils.eval import stats
from ptft_utils.kit.results import (
    AGREES,
    DEFECT,
    FAILURE,
    SCHEMA_VERSION,
    BadRecord,
    OutputDirError,
    Recorder,
    family_sizes,
    load_run,
    load_runs,
    mark_failed,
    review_claim,
)


def make_recorder(tmp_path, name="01_concepts", profile="smoke", seed=0):
    params = {"profile": profile, "device": "cpu", "seed": seed, "output_dir": str(tmp_path / name / str(seed))}
    return Recorder(name, params)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "ptft_utils.kit.cli", *args], capture_output=True, text=True)


def verify_lines(done, mark):
    """The claim lines ``ptft verify`` printed with the given mark (``FAIL``, ``DEFECT``, ``ok``, ``finding``)."""
    return [line.split(None, 2)[1:] for line in done.stdout.splitlines() if line.split()[:1] == [mark]]


# -- the record --------------------------------------------------------------------------------
def test_save_writes_the_documented_schema(tmp_path):
    rec = make_recorder(tmp_path)
    rec.data("digits", "shipped: sklearn load_digits, upsampled 28x28")
    rec.expect("ft_beats_scratch", "Fine-tuning beats scratch", family="labels")
    rec.metric("acc_k5_mean", np.float32(0.75))
    rec.table("accuracy", pd.DataFrame({"k": [1, 5], "accuracy": [0.5, 0.75]}))
    rec.check("ft_beats_scratch", np.float32(0.8) > 0.6, {"ft_mean": 0.8, "seeds": 3}, rests_on=["acc_k5_mean"])
    path = rec.save()
    record = json.loads(path.read_text())
    assert path.name == "metrics.json"
    assert record["schema"] == SCHEMA_VERSION == 2
    assert record["status"] == "complete"
    assert record["notebook"] == "01_concepts" and record["profile"] == "smoke"
    assert record["parameters"]["seed"] == 0
    assert record["data"] == {"digits": "shipped: sklearn load_digits, upsampled 28x28"}
    assert record["metrics"]["acc_k5_mean"] == pytest.approx(0.75)
    assert record["metric_order"] == {"acc_k5_mean": 2}
    assert record["tables"]["accuracy"] == [{"k": 1, "accuracy": 0.5}, {"k": 5, "accuracy": 0.75}]
    assert record["claims"] == [
        {
            "id": "ft_beats_scratch",
            "statement": "Fine-tuning beats scratch",
            "expected": True,
            "holds": True,
            "test": "paired_t",
            "margin": None,
            "family": "labels",
            "declared_at": 1,
            "evaluated_at": 3,
            "rests_on": {"acc_k5_mean": 2},
            "evidence": {"ft_mean": 0.8, "seeds": 3},
        }
    ]
    assert record["environment"]["python"] and record["environment"]["device"] == "cpu"
    assert record["wall_seconds"] >= 0 and record["finished"] >= record["started"]


def test_a_new_recorder_writes_a_running_record_at_once(tmp_path):
    rec = make_recorder(tmp_path)
    record = load_run(rec.output_dir)
    assert record["status"] == "running"
    assert record["notebook"] == "01_concepts" and record["metrics"] == {} and record["claims"] == []
    assert "wall_seconds" not in record  # a running record has no run time to be mistaken for one


def test_a_rerun_that_never_saves_leaves_a_running_record_not_the_old_complete_one(tmp_path):
    first = make_recorder(tmp_path)
    first.metric("acc", 0.9)
    first.claim("c", "c holds", True, {})
    first.save()
    assert load_run(first.output_dir)["status"] == "complete"
    second = make_recorder(tmp_path)  # the rerun fails or is killed before rec.save()
    second.metric("acc", 0.1)
    record = load_run(second.output_dir)
    assert second.output_dir == first.output_dir
    assert record["status"] == "running"
    assert record["metrics"] == {} and record["claims"] == []
    assert sorted(p.name for p in second.output_dir.iterdir()) == ["metrics.json"]


def test_fail_writes_a_failed_record_with_the_error_on_one_line(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    path = rec.fail(RuntimeError("CUDA out of memory\n  tried to allocate 2 GiB"))
    record = load_run(path)
    assert (record["status"], record["error"]) == ("failed", "RuntimeError: CUDA out of memory tried to allocate 2 GiB")
    assert record["metrics"] == {"acc": 0.5} and record["finished"] >= record["started"]
    assert "wall_seconds" not in record


def test_a_recorder_whose_output_dir_is_a_file_names_output_dir(tmp_path):
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(OutputDirError) as info:
        Recorder("01_concepts", {"output_dir": str(tmp_path / "taken")})
    assert str(info.value) == (
        f"output_dir {tmp_path / 'taken'}: cannot write metrics.json there (it is a file, not a folder); "
        "set output_dir to a folder you can write"
    )


def test_mark_failed_turns_a_running_record_into_a_failed_one(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    rec.save()
    make_recorder(tmp_path)  # the rerun, still running when its cell raises
    assert mark_failed(rec.output_dir, "ValueError: bad lr", notebook="01_concepts") == rec.output_dir / "metrics.json"
    record = load_run(rec.output_dir)
    assert (record["status"], record["error"], record["notebook"]) == ("failed", "ValueError: bad lr", "01_concepts")


def test_mark_failed_leaves_a_complete_record_alone(tmp_path):
    rec = make_recorder(tmp_path)
    rec.save()
    before = (rec.output_dir / "metrics.json").read_text()
    assert mark_failed(rec.output_dir, "RuntimeError: late", notebook="01_concepts") is None
    assert (rec.output_dir / "metrics.json").read_text() == before


def test_mark_failed_writes_a_failed_record_where_the_run_left_none(tmp_path):
    mark_failed(tmp_path, "ParameterError: 'epochs' = -1", notebook="04_cnn_transfer",
                parameters={"profile": "smoke", "epochs": -1})  # fmt: skip
    record = load_run(tmp_path)
    assert (record["status"], record["error"]) == ("failed", "ParameterError: 'epochs' = -1")
    assert (record["notebook"], record["profile"], record["parameters"]) == (
        "04_cnn_transfer",
        "smoke",
        {"profile": "smoke", "epochs": -1},
    )


def test_non_finite_metric_is_refused(tmp_path):
    rec = make_recorder(tmp_path)
    with pytest.raises(ValueError, match="finite"):
        rec.metric("loss", float("nan"))


def test_a_claim_id_is_recorded_once(tmp_path):
    rec = make_recorder(tmp_path)
    rec.claim("x", "x holds", True, {})
    with pytest.raises(ValueError, match="twice"):
        rec.claim("x", "x holds", True, {})
    with pytest.raises(ValueError, match="twice"):
        rec.expect("x", "x holds")


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("a", 1)
    first = rec.save()
    rec.metric("b", 2)
    second = rec.save()
    assert first == second
    assert json.loads(second.read_text())["metrics"] == {"a": 1, "b": 2}
    assert sorted(p.name for p in second.parent.iterdir()) == ["metrics.json"]


def test_a_metric_recorded_again_with_the_same_value_is_kept_once(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    rec.metric("loss", 0.1)
    rec.metric("acc", 0.5)
    assert rec.values == {"acc": 0.5, "loss": 0.1}
    assert rec.metric_order == {"acc": 1, "loss": 2}


def test_a_metric_recorded_again_with_another_value_is_refused(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    with pytest.raises(ValueError, match="recorded twice"):
        rec.metric("acc", 0.6)


# -- expect and check --------------------------------------------------------------------------
def test_every_metric_expect_and_check_takes_the_next_sequence_number(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B")  # 1
    rec.metrics(acc_a=0.8, acc_b=0.6)  # 2, 3
    rec.expect("b_equals_c", "B does as well as C", test="tost", margin=0.02, family="equivalences")  # 4
    rec.metric("acc_c", 0.61)  # 5
    assert rec.check("a_beats_b", True, {"mean_diff": 0.2}, rests_on=["acc_a", "acc_b"]) is True  # 6
    assert rec.check("b_equals_c", False, {"mean_diff": -0.01}, rests_on=["acc_b", "acc_c"]) is False  # 7
    first, second = rec.to_dict()["claims"]
    assert (first["declared_at"], first["rests_on"], first["evaluated_at"]) == (1, {"acc_a": 2, "acc_b": 3}, 6)
    assert (second["declared_at"], second["rests_on"], second["evaluated_at"]) == (4, {"acc_b": 3, "acc_c": 5}, 7)
    assert (second["test"], second["margin"], second["family"], second["expected"]) == (
        "tost",
        0.02,
        "equivalences",
        True,
    )


def test_check_of_an_undeclared_claim_says_to_call_expect_first(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    with pytest.raises(ValueError, match=r"call rec\.expect\('never_declared', \.\.\.\) first, before the experiment"):
        rec.check("never_declared", True, {}, rests_on=["acc"])


def test_an_equivalence_test_needs_a_margin(tmp_path):
    rec = make_recorder(tmp_path)
    with pytest.raises(ValueError, match="needs a margin") as info:
        rec.expect("same", "A does as well as B", test="tost")
    assert "margin" in str(info.value)
    with pytest.raises(ValueError, match="positive finite"):
        rec.expect("same", "A does as well as B", test="tost", margin=0.0)


def test_a_margin_on_a_test_that_takes_none_is_refused(tmp_path):
    rec = make_recorder(tmp_path)
    with pytest.raises(ValueError, match=r"margin=0\.02 means nothing to test 'paired_t'"):
        rec.expect("a_beats_b", "A beats B", margin=0.02)


def test_an_unknown_test_is_refused_with_the_known_ones(tmp_path):
    rec = make_recorder(tmp_path)
    with pytest.raises(ValueError, match="test 't_test' is not one of paired_t, wilcoxon, paired_bootstrap"):
        rec.expect("a_beats_b", "A beats B", test="t_test")


def test_check_refuses_metrics_not_yet_recorded(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B")
    rec.metric("acc_a", 0.8)
    with pytest.raises(ValueError, match="rests_on names 'acc_b', not recorded"):
        rec.check("a_beats_b", True, {}, rests_on=["acc_a", "acc_b"])
    with pytest.raises(ValueError, match="rests_on must name"):
        rec.check("a_beats_b", True, {}, rests_on=[])


def test_check_refuses_a_typed_verdict_that_is_not_a_bool(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B")
    rec.metric("acc_a", 0.8)
    with pytest.raises(TypeError, match="holds must be a bool"):
        rec.check("a_beats_b", "no", {}, rests_on=["acc_a"])


def test_a_claim_is_checked_once(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B")
    rec.metric("acc_a", 0.8)
    rec.check("a_beats_b", True, {}, rests_on=["acc_a"])
    with pytest.raises(ValueError, match="checked twice"):
        rec.check("a_beats_b", True, {}, rests_on=["acc_a"])


def test_claim_with_an_expectation_still_records_but_without_a_declaration(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.5)
    assert rec.claim("old_style", "A beats B", np.bool_(True), {"seeds": 3}, expected=True) is True
    (claim,) = rec.to_dict()["claims"]
    assert (claim["expected"], claim["holds"], claim["declared_at"], claim["evaluated_at"]) == (True, True, None, 2)
    assert review_claim(claim, rec.metric_order) == (
        DEFECT,
        "asserted but never declared: declare it with rec.expect before its experiment",
    )


def test_review_names_the_metric_measured_before_the_declaration(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc_a", 0.8)
    rec.expect("a_beats_b", "A beats B")
    rec.metric("acc_b", 0.6)
    rec.check("a_beats_b", False, {}, rests_on=["acc_a", "acc_b"])
    (claim,) = rec.to_dict()["claims"]
    verdict, reason = review_claim(claim, rec.metric_order)
    assert verdict == FAILURE
    assert reason == (
        "the text says it holds, this run says it does not hold (paired_t); "
        "declared (#2) after the metrics it rests on: acc_a (#1)"
    )


def test_claims_frame_formats_evidence(tmp_path):
    rec = make_recorder(tmp_path)
    rec.claim("c", "A beats B", False, {"a_mean": 0.123456, "ci": [0.1, 0.2]})
    rec.expect("d", "C beats D")
    frame = rec.claims_frame()
    assert frame["holds"].tolist() == ["no", "not checked"]
    assert frame.loc[0, "evidence"] == "a_mean=0.1235; ci=[0.1, 0.2]"


# -- reading -----------------------------------------------------------------------------------
SCHEMA_1_RECORD = {
    "schema": 1, "notebook": "99_demo", "profile": "default", "parameters": {}, "data": {}, "environment": {},
    "wall_seconds": 1.0, "metrics": {"acc": 0.5}, "tables": {},
    "claims": [{"id": "c", "statement": "A beats B", "holds": True, "expected": True, "evidence": {"a": 0.5}}],
}  # fmt: skip


def test_load_runs_puts_many_runs_in_one_table_with_their_status(tmp_path):
    for seed in (0, 1, 2):
        rec = make_recorder(tmp_path, seed=seed)
        rec.metric("acc", 0.5 + seed / 10)
        rec.claim("c", "c", seed > 0, {})
        if seed < 2:
            rec.save()
    table = load_runs([tmp_path]).sort_values("param.seed")
    assert table["param.seed"].tolist() == [0, 1, 2]
    assert table["status"].tolist() == ["complete", "complete", "running"]
    assert table["acc"].tolist()[:2] == pytest.approx([0.5, 0.6])
    assert table["claims_held"].tolist() == [0, 1, 0]


def test_load_run_reads_a_schema_1_record_as_having_no_status(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(SCHEMA_1_RECORD))
    record = load_run(tmp_path)
    assert record["status"] is None and record["metric_order"] == {}
    assert record["claims"][0]["declared_at"] is None and record["claims"][0]["rests_on"] == {}


def test_load_run_rejects_another_schema(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"schema": 99}))
    with pytest.raises(ValueError, match="schema 99, this version reads 1 or 2"):
        load_run(path)


def test_load_run_names_a_truncated_file(tmp_path):
    rec = make_recorder(tmp_path)
    path = rec.save()
    path.write_text(path.read_text()[:60])
    with pytest.raises(BadRecord) as info:
        load_run(path)
    assert str(info.value).startswith(f"{path}: is not valid JSON (")
    assert info.value.path == path


def test_load_run_names_a_key_the_record_lacks(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({"schema": 2, "notebook": "01_concepts", "status": "complete", "parameters": {}}))
    with pytest.raises(BadRecord, match=r"metrics\.json: 'metrics' is missing, not a dict; rerun its notebook"):
        load_run(path)


# -- ptft verify and ptft results, as real commands ----------------------------------------------
def declared_run(tmp_path, *, declare_first=True, measured_diff=0.2):
    """A complete record of one asserted claim, declared before (or after) its metrics, plus a finding."""
    rec = make_recorder(tmp_path, name="04_cnn_transfer", profile="default")
    if declare_first:
        rec.expect("ft_beats_scratch", "Fine-tuning beats scratch", family="labels")
    rec.metrics(acc_finetune=0.6 + measured_diff, acc_scratch=0.6)
    if not declare_first:
        rec.expect("ft_beats_scratch", "Fine-tuning beats scratch", family="labels")
    (evidence,) = stats.family({"ft_beats_scratch": {"mean_diff": measured_diff, "p_value": 0.01}}).values()
    rec.check("ft_beats_scratch", measured_diff > 0, evidence, rests_on=["acc_finetune", "acc_scratch"])
    rec.claim("probe_close", "A linear probe comes close to fine-tuning", False, {"gap": 0.1})
    rec.save()
    return rec.output_dir


def test_verify_passes_a_claim_declared_before_its_metrics(tmp_path):
    declared_run(tmp_path)
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert verify_lines(done, "ok") == [
        [
            "ft_beats_scratch",
            'holds, as the text says (paired_t, family labels of 1, Holm p 0.01). "Fine-tuning beats scratch"',
        ]
    ]
    assert verify_lines(done, "finding") == [
        ["probe_close", 'does not hold. "A linear probe comes close to fine-tuning"']
    ]
    assert "1 of 1 claims the text asserts agree with the runs (0 contradicted, 0 defective)" in done.stdout


def test_verify_reports_a_claim_declared_after_its_metrics_and_exits_1(tmp_path):
    declared_run(tmp_path, declare_first=False)
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert verify_lines(done, "DEFECT") == [
        [
            "ft_beats_scratch",
            "declared (#3) after the metrics it rests on: acc_finetune (#1), acc_scratch (#2). "
            '"Fine-tuning beats scratch"',
        ]
    ]
    assert verify_lines(done, "ok") == []
    assert "0 claim(s) contradicted, 1 defect(s), 0 record(s) not complete" in done.stderr


def test_verify_fails_a_contradicted_assertion(tmp_path):
    declared_run(tmp_path, measured_diff=-0.05)
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert verify_lines(done, "FAIL") == [
        [
            "ft_beats_scratch",
            "the text says it holds, this run says it does not hold (paired_t, family labels of 1, Holm p 0.01). "
            '"Fine-tuning beats scratch"',
        ]
    ]
    assert "1 claim(s) contradicted, 0 defect(s)" in done.stderr


def test_review_flags_a_family_claim_without_a_holm_correction(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B", family="budgets")
    rec.expect("a_beats_c", "A beats C", family="budgets")
    rec.metric("gap", 0.2)
    rec.check("a_beats_b", True, {"mean_diff": 0.2, "p_value": 0.01}, rests_on=["gap"])
    rec.check("a_beats_c", True, {"mean_diff": 0.2, "p_value": 0.02}, rests_on=["gap"])
    claims = rec.to_dict()["claims"]
    sizes = family_sizes(claims)
    assert sizes == {"budgets": 2}
    verdict, reason = review_claim(claims[0], rec.metric_order, sizes["budgets"])
    assert verdict == DEFECT
    assert reason == (
        "family budgets (2 claims in this record), but its evidence carries no Holm correction: check each "
        "claim of the family with its entry of ptft_utils.eval.stats.family(...) (p_value_adjusted, family_size)"
    )


def test_review_flags_a_holm_correction_over_the_wrong_family_size(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B", family="budgets")
    rec.expect("a_beats_c", "A beats C", family="budgets")
    rec.metric("gap", 0.2)
    alone = stats.family({"a_beats_b": {"p_value": 0.03}})["a_beats_b"]  # corrected as if it were alone
    both = stats.family({"a_beats_b": {"p_value": 0.03}, "a_beats_c": {"p_value": 0.04}})
    rec.check("a_beats_b", True, alone, rests_on=["gap"])
    rec.check("a_beats_c", False, both["a_beats_c"], rests_on=["gap"])
    first, second = rec.to_dict()["claims"]
    assert review_claim(first, rec.metric_order, 2) == (
        DEFECT,
        "evidence corrected over a family of 1, but family budgets (2 claims in this record) differs",
    )
    verdict, reason = review_claim(second, rec.metric_order, 2)
    assert verdict == FAILURE  # Holm: max(2 * 0.03, 0.04) > 0.05, the family does not reject; the text is contradicted
    assert reason == (
        "the text says it holds, this run says it does not hold (paired_t, family budgets of 2, Holm p 0.06)"
    )


def test_review_shows_the_adjusted_interval_and_flags_tested_claims_without_one(tmp_path):
    rec = make_recorder(tmp_path)
    rec.expect("a_beats_b", "A beats B", family="budgets")
    rec.expect("a_beats_c", "A beats C", family="budgets")
    rec.expect("lone_test", "A beats D")
    rec.metric("gap", 0.2)
    both = stats.family(
        {"a_beats_b": stats.paired_difference([0.9, 0.8, 0.85], [0.5, 0.45, 0.6]), "a_beats_c": {"p_value": 0.04}}
    )
    rec.check("a_beats_b", True, both["a_beats_b"], rests_on=["gap"])
    rec.check("a_beats_c", True, {k: v for k, v in both["a_beats_c"].items() if k != "ci_adjusted"}, rests_on=["gap"])
    rec.check("lone_test", True, stats.paired_difference([0.9, 0.8, 0.85], [0.5, 0.45, 0.6]), rests_on=["gap"])
    first, second, lone = rec.to_dict()["claims"]
    verdict, reason = review_claim(first, rec.metric_order, 2)
    low, high = both["a_beats_b"]["ci_adjusted"]
    assert verdict == AGREES and f"adjusted 97.5% interval [{low:.3g}, {high:.3g}]" in reason
    assert low < both["a_beats_b"]["ci_low"] and high > both["a_beats_b"]["ci_high"]
    assert review_claim(second, rec.metric_order, 2) == (
        DEFECT,
        "family budgets (2 claims in this record): its evidence records no family-adjusted interval "
        "(ci_adjusted); correct it with ptft_utils.eval.stats.family(...), which adds one",
    )
    verdict, reason = review_claim(lone, rec.metric_order)
    assert verdict == DEFECT and reason.startswith("a tested claim outside any family")


def test_verify_reports_an_assertion_never_declared_as_a_defect(tmp_path):
    rec = make_recorder(tmp_path)
    rec.metric("acc", 0.9)
    rec.claim("old_style", "A beats B", True, {"seeds": 3}, expected=True)
    rec.save()
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert [line[0] for line in verify_lines(done, "DEFECT")] == ["old_style"]
    assert "asserted but never declared" in done.stdout


def test_verify_fails_a_running_record_and_names_its_folder(tmp_path):
    declared_run(tmp_path)
    rerun = make_recorder(tmp_path, name="04_cnn_transfer", profile="default")  # never saved
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert verify_lines(done, "FAIL") == [
        [
            f"{rerun.output_dir}:",
            "status 'running': the run did not finish (it failed, was killed, or is still going); rerun it",
        ]
    ]
    assert f"not complete: {rerun.output_dir}" in done.stderr


def test_verify_fails_an_old_record_that_has_no_status(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps(SCHEMA_1_RECORD))
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert f"FAIL     {tmp_path}: no status (schema 1," in done.stdout


def test_a_killed_rerun_leaves_a_running_record_that_verify_fails(tmp_path):
    output_dir = declared_run(tmp_path)
    script = f"""
        import os, signal
        from ptft_utils.kit.results import Recorder
        rec = Recorder("04_cnn_transfer", {{"profile": "default", "output_dir": {str(output_dir)!r}}})
        rec.metric("acc_finetune", 0.1)
        os.kill(os.getpid(), signal.SIGKILL)
    """
    killed = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True)
    assert killed.returncode == -9
    assert load_run(output_dir)["status"] == "running"
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1 and "status 'running'" in done.stdout
    assert verify_lines(done, "ok") == []


def test_results_shows_the_status_of_each_run(tmp_path):
    declared_run(tmp_path)
    make_recorder(tmp_path, name="05_rnn_transfer", profile="default")
    done = run_cli("results", str(tmp_path), "--format", "csv")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(io.StringIO(done.stdout))
    assert dict(zip(table["notebook"], table["status"], strict=True)) == {
        "04_cnn_transfer": "complete",
        "05_rnn_transfer": "running",
    }
    claims = run_cli("results", str(tmp_path), "--claims", "--format", "csv")
    rows = pd.read_csv(io.StringIO(claims.stdout), dtype={"declared_at": "Int64", "evaluated_at": "Int64"})
    assert rows["claim"].tolist() == ["ft_beats_scratch", "probe_close"]
    assert rows["status"].tolist() == ["complete", "complete"]
    assert rows["declared_at"].tolist() == [1, pd.NA]
    assert rows["evaluated_at"].tolist() == [4, 5]


def truncated_beside_a_good_record(tmp_path):
    """A complete record of 04 and, beside it, a truncated one (a copy cut short, as a full disk leaves it)."""
    good = declared_run(tmp_path)
    bad = tmp_path / "05_rnn_transfer" / "metrics.json"
    bad.parent.mkdir()
    bad.write_text((good / "metrics.json").read_text()[:100])
    return bad


def test_results_names_and_skips_a_truncated_record_and_shows_the_rest(tmp_path):
    bad = truncated_beside_a_good_record(tmp_path)
    done = run_cli("results", str(tmp_path), "--format", "csv")
    assert done.returncode == 0, done.stderr
    (warning,) = done.stderr.splitlines()
    assert warning.startswith(f"ptft results: warning: skipped {bad}: is not valid JSON (")
    assert pd.read_csv(io.StringIO(done.stdout))["notebook"].tolist() == ["04_cnn_transfer"]


def test_verify_names_and_skips_a_truncated_record_and_exits_1(tmp_path):
    bad = truncated_beside_a_good_record(tmp_path)
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith(f"ptft verify: warning: skipped {bad}: is not valid JSON (")
    assert f"unreadable: {bad}" in done.stderr and "0 record(s) not complete, 1 unreadable" in done.stderr
    assert verify_lines(done, "ok")[0][0] == "ft_beats_scratch"  # the readable record is still verified


@pytest.mark.parametrize("command", ["results", "verify"])
def test_a_missing_folder_is_one_line_and_exit_2(tmp_path, command):
    done = run_cli(command, str(tmp_path / "no_such_runs"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"ptft {command}: {tmp_path / 'no_such_runs'}: no such file or folder"]


def test_verify_fails_a_failed_record_with_its_error(tmp_path):
    rec = make_recorder(tmp_path)
    rec.fail(ValueError("learning rate must be positive"))
    done = run_cli("verify", str(tmp_path))
    assert done.returncode == 1
    assert verify_lines(done, "FAIL") == [
        [f"{rec.output_dir}:", "status 'failed': ValueError: learning rate must be positive; fix it and rerun"]
    ]


def test_claim_refuses_a_verdict_typed_as_a_string(tmp_path):
    rec = make_recorder(tmp_path)
    with pytest.raises(TypeError, match="got the string 'no'"):
        rec.claim("c", "A beats B", "no", {})
