"""Chapter 06's text methods on a tiny random BERT: what trains, what gets gradients, where they start."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from transformers import BertConfig, BertModel  # noqa: E402

from ptft_utils.hf import classify, methods  # noqa: E402

VOCAB, HIDDEN, INTERMEDIATE, POSITIONS, TYPES, LAYERS, CLASSES = 50, 16, 32, 32, 2, 2, 2
RANK, BOTTLENECK = 2, 4


def tiny_encoder(dropout: float = 0.1, seed: int = 0) -> BertModel:
    config = BertConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=2,
        intermediate_size=INTERMEDIATE, max_position_embeddings=POSITIONS, type_vocab_size=TYPES,
        hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout,
    )  # fmt: skip
    torch.manual_seed(seed)
    return BertModel(config, add_pooling_layer=True)


def tiny_classifier(dropout: float = 0.1, seed: int = 0) -> classify.SentenceClassifier:
    encoder = tiny_encoder(dropout)
    torch.manual_seed(seed)
    return classify.SentenceClassifier(encoder, HIDDEN, CLASSES)


def prepared(method: str) -> tuple[classify.SentenceClassifier, int]:
    model = tiny_classifier()
    return model, methods.prepare_text_method(model, method, seed=0, rank=RANK, bottleneck=BOTTLENECK)


def toy_sentences(n: int, seed: int) -> tuple[list[list[int]], np.ndarray]:
    rng = np.random.default_rng(seed)
    tokens = [[1, *rng.integers(3, VOCAB, size=int(rng.integers(2, 12))).tolist(), 2] for _ in range(n)]
    labels = rng.integers(0, CLASSES, size=n)
    return tokens, labels


def linear(inputs: int, outputs: int) -> int:
    return inputs * outputs + outputs


# Counted by hand from BERT's shapes (the pooler excluded: mean pooling never calls it).
HEAD = linear(HIDDEN, CLASSES)
EMBEDDINGS = (VOCAB + POSITIONS + TYPES) * HIDDEN + 2 * HIDDEN  # three tables and a layer norm
BLOCK = (
    4 * linear(HIDDEN, HIDDEN)  # query, key, value, attention output
    + 2 * HIDDEN  # attention layer norm
    + linear(HIDDEN, INTERMEDIATE)
    + linear(INTERMEDIATE, HIDDEN)
    + 2 * HIDDEN  # output layer norm
)
BLOCK_BIASES = 4 * HIDDEN + HIDDEN + INTERMEDIATE + HIDDEN + HIDDEN  # q, k, v, out; 2 norms; 2 feed-forward
HAND_COUNTS = {
    "linear probe": HEAD,
    "top layers": BLOCK + HEAD,
    "full": EMBEDDINGS + LAYERS * BLOCK + HEAD,
    "BitFit": HIDDEN + LAYERS * BLOCK_BIASES + HEAD,  # the embeddings' layer-norm bias, every block's biases
    "adapters": LAYERS * (linear(HIDDEN, BOTTLENECK) + linear(BOTTLENECK, HIDDEN)) + HEAD,
    "LoRA": LAYERS * 2 * (RANK * HIDDEN + HIDDEN * RANK) + HEAD,  # A and B on query and value
}


def test_the_hand_counts_cover_every_method() -> None:
    assert set(HAND_COUNTS) == set(methods.TEXT_METHODS)


@pytest.mark.parametrize("method", methods.TEXT_METHODS)
def test_the_trainable_count_equals_the_hand_count(method: str) -> None:
    model, count = prepared(method)
    assert count == HAND_COUNTS[method]
    assert count == sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize("method", methods.TEXT_METHODS)
def test_after_a_backward_pass_exactly_the_trainable_parameters_have_gradients(method: str) -> None:
    model, _ = prepared(method)
    tokens, labels = toy_sentences(8, seed=1)
    ids, mask = classify.pad_batch(tokens)
    torch.nn.functional.cross_entropy(model(ids, mask), torch.as_tensor(labels)).backward()
    with_grad = {name for name, p in model.named_parameters() if p.grad is not None}
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert with_grad == trainable
    assert {"head.weight", "head.bias"} <= with_grad
    assert not any(name.startswith("encoder.pooler.") for name in with_grad)


def test_top_layers_trains_the_last_block_and_nothing_below_it() -> None:
    model, _ = prepared("top layers")
    blocks = {name.split(".")[3] for name, p in model.named_parameters() if p.requires_grad and ".layer." in name}
    assert blocks == {str(LAYERS - 1)}


def test_bitfit_trains_biases_only_besides_the_head() -> None:
    model, _ = prepared("BitFit")
    trained = [name for name, p in model.named_parameters() if p.requires_grad and not name.startswith("head.")]
    assert trained and all(name.endswith(".bias") for name in trained)


@pytest.mark.parametrize("method", ["adapters", "LoRA"])
def test_new_layers_start_as_the_identity(method: str) -> None:
    model = tiny_classifier().eval()
    tokens, _ = toy_sentences(8, seed=2)
    ids, mask = classify.pad_batch(tokens)
    with torch.no_grad():
        before = model(ids, mask)
    methods.prepare_text_method(model, method, seed=3, rank=RANK, bottleneck=BOTTLENECK)
    model.eval()
    with torch.no_grad():
        after = model(ids, mask)
    assert torch.allclose(before, after, atol=1e-6, rtol=0)
    new = [name for name in dict(model.named_parameters()) if "lora_" in name or ".adapter." in name]
    # LoRA: A and B on two projections per block; adapters: down and up (weight, bias) on one layer per block
    assert len(new) == LAYERS * 4


def test_the_new_layers_depend_only_on_the_seed() -> None:
    first, second = tiny_classifier(), tiny_classifier()
    torch.manual_seed(123)
    methods.prepare_text_method(first, "LoRA", seed=5, rank=RANK)
    torch.manual_seed(456)
    methods.prepare_text_method(second, "LoRA", seed=5, rank=RANK)
    a, b = dict(first.named_parameters()), dict(second.named_parameters())
    assert all(torch.equal(a[name], b[name]) for name in a if "lora_A" in name)


def test_an_unknown_method_is_refused_naming_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="method must be one of") as error:
        methods.prepare_text_method(tiny_classifier(), "prefix tuning", seed=0)
    assert all(name in str(error.value) for name in methods.TEXT_METHODS)
    assert "prefix tuning" in str(error.value)


def test_a_model_that_is_not_a_sentence_classifier_is_refused() -> None:
    with pytest.raises(ValueError, match="classifier: expected a SentenceClassifier"):
        methods.prepare_text_method(torch.nn.Linear(4, 2), "full", seed=0)


def probe_both_ways(encoder_dropout: float, steps: int = 12):
    tokens, labels = toy_sentences(60, seed=4)
    train_idx, val_idx = np.arange(0, 24), np.arange(24, 60)
    settings: dict[str, Any] = {"lr": 5e-2, "max_steps": steps, "batch_size": 8, "eval_every": 4, "seed": 7}
    encoder = tiny_encoder(encoder_dropout)
    torch.manual_seed(settings["seed"])
    model = classify.SentenceClassifier(copy.deepcopy(encoder), HIDDEN, CLASSES)
    methods.prepare_text_method(model, "linear probe", seed=0)
    slow = classify.fine_tune(model, tokens, labels, train_idx.tolist(), val_idx.tolist(), **settings)
    features = classify.embed(encoder, tokens)
    fast = methods.train_probe_head(features, labels, train_idx, val_idx, **settings)
    return model, slow, fast


def test_the_cached_probe_matches_fine_tuning_a_frozen_encoder_without_dropout() -> None:
    model, slow, fast = probe_both_ways(encoder_dropout=0.0)
    assert [step for step, _ in fast.curve] == [step for step, _ in slow.curve]
    assert [score for _, score in fast.curve] == pytest.approx([score for _, score in slow.curve])
    assert fast.val_score == pytest.approx(slow.val_score)
    assert torch.allclose(fast.head.weight, model.head.weight, atol=1e-5, rtol=0)
    assert torch.allclose(fast.head.bias, model.head.bias, atol=1e-5, rtol=0)


def test_with_encoder_dropout_fine_tuning_the_frozen_encoder_sees_other_vectors() -> None:
    # the documented difference: fine_tune runs the encoder in training mode, the cache does not
    model, _, fast = probe_both_ways(encoder_dropout=0.5)
    assert not torch.allclose(fast.head.weight, model.head.weight, atol=1e-5, rtol=0)


def test_the_cached_probe_scores_with_its_head() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=80)
    features = (rng.normal(size=(80, 6)) + 3.0 * labels[:, None]).astype(np.float32)  # separable
    result = methods.train_probe_head(features, labels, np.arange(40), np.arange(40, 80), lr=0.1, max_steps=60)
    assert result.val_score == methods.head_accuracy(result.head, features, labels, np.arange(40, 80))
    assert result.val_score >= 0.95
    assert result.steps == 60 and result.seconds > 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_steps": 0}, "max_steps and eval_every"),
        ({"lr": 0.0}, "lr must be > 0"),
        ({"train_idx": np.array([], dtype=int)}, "train_idx and val_idx must be non-empty"),
        ({"labels": np.zeros(3, dtype=int)}, "features must be"),
    ],
)
def test_bad_probe_arguments_are_refused_by_name(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"features": np.zeros((10, 4), dtype=np.float32), "labels": np.zeros(10, dtype=int),
                 "train_idx": np.arange(5), "val_idx": np.arange(5, 10), "lr": 0.1, "max_steps": 3}  # fmt: skip
    arguments.update(options)
    with pytest.raises(ValueError, match=message):
        methods.train_probe_head(**arguments)
