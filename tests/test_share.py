"""Chapter 09's sharing: HF layout round trip, the manifest's refusals, the model card, a LoRA adapter alone."""

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast  # noqa: E402

from ptft_utils.data.manifest import ManifestError, verify_manifest  # noqa: E402
from ptft_utils.hf import share  # noqa: E402
from ptft_utils.kit import model_card  # noqa: E402

WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    *["the", "a", "movie", "good", "bad", "film", "was", "great", "awful"],
]
TEXTS = ["the movie was good", "awful film"]


def tiny(tmp_path):
    (tmp_path / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(tmp_path / "vocab.txt"))
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, num_labels=2)  # fmt: skip
    torch.manual_seed(0)
    return BertForSequenceClassification(config).eval(), tokenizer


def logits(model, tokenizer):
    with torch.no_grad():
        return model(**tokenizer(TEXTS, padding=True, return_tensors="pt")).logits


def test_saved_model_loads_back_with_identical_outputs(tmp_path):
    model, tokenizer = tiny(tmp_path)
    shared = share.save_shared(model, tmp_path / "model", tokenizer=tokenizer)
    loaded, loaded_tokenizer = share.load_shared(tmp_path / "model")
    assert "model.safetensors" in shared.files
    assert (logits(loaded, loaded_tokenizer) - logits(model, tokenizer)).abs().max() <= 1e-6


def test_one_changed_byte_is_refused_naming_the_file_and_both_hashes(tmp_path):
    model, tokenizer = tiny(tmp_path)
    share.save_shared(model, tmp_path / "model", tokenizer=tokenizer)
    weights = tmp_path / "model" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    expected = json.loads((tmp_path / "model" / "MANIFEST.json").read_text())["files"]["model.safetensors"]["sha256"]
    with pytest.raises(ManifestError, match="model.safetensors") as caught:
        share.load_shared(tmp_path / "model")
    assert expected in str(caught.value) and "sha256 is " in str(caught.value)


def test_missing_and_extra_files_are_refused(tmp_path):
    model, tokenizer = tiny(tmp_path)
    share.save_shared(model, tmp_path / "model", tokenizer=tokenizer)
    (tmp_path / "model" / "config.json").unlink()
    (tmp_path / "model" / "extra.py").write_text("print('hi')\n")
    with pytest.raises(ManifestError) as caught:
        verify_manifest(tmp_path / "model")
    assert "config.json: missing" in str(caught.value) and "extra.py: not in the manifest" in str(caught.value)


def test_model_card_carries_the_run_metrics_with_intervals(tmp_path):
    record = {"schema": 2, "notebook": "09_efficiency", "status": "complete", "profile": "smoke",
              "parameters": {"seed": 0}, "data": {"trec": "mirror: trec.tsv, sha256 ok"},
              "metrics": {"acc_test": 0.8125, "acc_test_ci_low": 0.75, "acc_test_ci_high": 0.875, "ece": 0.0421},
              "metric_order": {}, "claims": []}  # fmt: skip
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text(json.dumps(record))
    text = model_card.model_card(tmp_path / "run", model_name="tiny-bert-trec", license="mit",
                                 limitations=["Trained on 500 questions; not for other domains."],
                                 metric_types={"acc_test": "accuracy"})  # fmt: skip
    front = model_card.read_front_matter(text)
    assert front["license"] == "mit" and front["datasets"] == ["trec"] and "accuracy" in front["metrics"]
    values = {m["name"]: m["value"] for m in front["model-index"][0]["results"][0]["metrics"]}
    assert values == {"acc_test": 0.8125, "ece": 0.0421}
    assert "| `acc_test` | 0.8125 | 95% CI [0.75, 0.875] |" in text and "not for other domains" in text


def test_model_card_needs_limitations():
    with pytest.raises(ValueError, match="limitations"):
        model_card.model_card({"metrics": {"a": 1.0}}, model_name="m", license="mit", limitations=[])


def test_lora_adapter_alone_reapplied_gives_identical_outputs(tmp_path):
    model, tokenizer = tiny(tmp_path)
    full = share.save_shared(model, tmp_path / "model", tokenizer=tokenizer)
    base = BertForSequenceClassification(model.config)
    base.load_state_dict(model.state_dict())
    adapted = get_peft_model(base, LoraConfig(r=2, target_modules=["query", "value"], modules_to_save=["classifier"]))
    with torch.no_grad():
        for name, parameter in adapted.named_parameters():
            if "lora_B" in name:
                parameter.normal_()
    adapted.eval()
    adapter = share.save_adapter(adapted, tmp_path / "adapter")
    fresh, _ = share.load_shared(tmp_path / "model", tokenizer=False)
    reloaded = share.load_adapter(fresh, tmp_path / "adapter")
    assert (logits(reloaded, tokenizer) - logits(adapted, tokenizer)).abs().max() <= 1e-6
    assert (logits(adapted, tokenizer) - logits(model, tokenizer)).abs().max() > 1e-4  # the adapter does something
    assert adapter.files["adapter_model.safetensors"] < full.files["model.safetensors"] / 2
