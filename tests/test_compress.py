"""Chapter 09's cheaper inference: int8, pruning, ONNX parity, sizes, latency, the distillation loss."""

import math

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from ptft_utils.models import compress  # noqa: E402


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4)).eval()


def batch() -> torch.Tensor:
    return torch.randn(64, 32, generator=torch.Generator().manual_seed(1))


def test_onnx_runtime_matches_torch_within_1e_4(tmp_path):
    model, x = small_model(), batch()
    runner = compress.OnnxRunner(compress.export_onnx(model, x[:1], tmp_path / "m.onnx"), threads=1)
    with torch.no_grad():
        expected = model(x).numpy()
    assert abs(runner(x) - expected).max() <= 1e-4


def test_int8_predictions_agree_with_fp32_and_weights_shrink():
    model, x = small_model(), batch()
    quantised = compress.quantize_int8(model)
    with torch.no_grad():
        fp32, int8 = model(x), quantised(x)
    assert (fp32.argmax(1) == int8.argmax(1)).float().mean() >= 0.95
    assert (fp32 - int8).abs().max() < 0.05
    assert compress.size_on_disk(quantised) < 0.5 * compress.size_on_disk(model)


def test_bfloat16_halves_the_size():
    model = small_model()
    assert compress.size_on_disk(compress.to_bfloat16(model)) < 0.6 * compress.size_on_disk(model)


def test_pruning_reaches_the_requested_sparsity_and_keeps_the_original():
    model = small_model()
    pruned = compress.magnitude_prune(model, 0.7)
    assert compress.sparsity(pruned) == pytest.approx(0.7, abs=1e-3)
    assert compress.sparsity(model) == 0.0
    assert not any("weight_orig" in name for name, _ in pruned.named_parameters())


def test_sparsity_outside_range_is_refused_by_name():
    with pytest.raises(ValueError, match="sparsity"):
        compress.magnitude_prune(small_model(), 1.0)


def test_latency_reports_each_batch_size():
    model, x = small_model(), batch()
    result = compress.latency_per_example(lambda b: model(b), x, repeats=3, warmup=1)
    assert set(result) == {1, 32} and all(v > 0 for v in result.values())


def test_distillation_loss_equals_hand_computation():
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    teacher = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 1])
    t, alpha = 2.0, 0.3

    def softmax(row):
        exps = [math.exp(v / t) for v in row]
        return [e / sum(exps) for e in exps]

    kl = (
        sum(
            sum(p * math.log(p / q) for p, q in zip(softmax(tr), softmax(sr), strict=True))
            for tr, sr in zip(teacher.tolist(), student.tolist(), strict=True)
        )
        / 2
    )
    ce = -(math.log(math.exp(1) / (math.exp(1) + 1)) + math.log(math.exp(2) / (math.exp(2) + 1))) / 2
    expected = alpha * t * t * kl + (1 - alpha) * ce
    got = compress.distillation_loss(student, teacher, labels, temperature=t, alpha=alpha)
    assert got.item() == pytest.approx(expected, rel=1e-6)


def test_distillation_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature"):
        compress.distillation_loss(torch.zeros(1, 2), torch.zeros(1, 2), torch.tensor([0]), temperature=0)
