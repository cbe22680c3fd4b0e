"""Every chapter notebook: the contract of its cells (fast), and a smoke run in a real kernel (slow).

Chapter-specific checks of the recorded numbers live in ``test_nb_<chapter>.py``; this file holds
what every chapter owes the reader and the tooling.
"""

import json
import re
from pathlib import Path

import pytest

from ptft_utils.kit import runner

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = runner.chapter_notebooks(ROOT)
REPOSITORY = "ptft-book/ptft"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tagged(nb: dict, tag: str) -> list[dict]:
    return [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]


def test_there_are_chapters():
    assert [p.stem[:2] for p in NOTEBOOKS][:1] == ["01"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, source(cell)[:80]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_title_and_its_own_colab_badge(path):
    first = load(path)["cells"][0]
    assert first["cell_type"] == "markdown" and source(first).startswith("# ")
    badge = f"https://colab.research.google.com/github/{REPOSITORY}/blob/main/notebooks/{path.name}"
    assert badge in source(first)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_colab_install_cell_only_acts_on_colab(path):
    cells = tagged(load(path), "colab-install")
    assert len(cells) == 1
    assert 'if "google.colab" in sys.modules:' in source(cells[0])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_has_the_common_parameters_with_their_defaults(path):
    found = runner.notebook_parameters(path)
    assert list(found)[:4] == ["profile", "device", "seed", "output_dir"]
    assert found["profile"]["default"] == '"default"'
    assert found["device"]["default"] == '"auto"'
    assert found["seed"]["default"] == "0"
    assert found["output_dir"]["default"] == f'"runs/{path.stem}"'
    knobs = {name: info["default"] for name, info in found.items() if name not in runner.COMMON}
    assert all(default == "None" for default in knobs.values()), knobs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_explains_before_it_computes(path):
    nb = load(path)
    words = sum(len(re.findall(r"\w+", source(c))) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert words >= 800, f"only {words} words of prose"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_resolves_its_profiles_and_saves_its_record(path):
    code = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert "resolve(globals(), PROFILES" in code
    assert f'Recorder("{path.stem}"' in code
    assert "rec.save()" in code


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run_records_metrics_and_claims_with_evidence(path, smoke_run):
    record = smoke_run(path.stem)
    assert record["notebook"] == path.stem and record["profile"] == "smoke"
    assert record["parameters"]["profile"] == "smoke"
    assert record["metrics"], "no metrics recorded"
    assert record["claims"], "no claims recorded"
    for claim in record["claims"]:
        assert claim["statement"] and isinstance(claim["holds"], bool)
        assert claim["evidence"], f"claim {claim['id']} has no evidence"
    assert record["environment"]["python"].startswith("3.")
    assert record["wall_seconds"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_smoke_run_shows_its_figures_inline(path, smoke_run):
    executed = load(Path(smoke_run(path.stem)["_executed"]))
    code = "\n".join(source(c) for c in executed["cells"] if c["cell_type"] == "code")
    if "plots." not in code and "plt." not in code:
        pytest.skip("this chapter draws no figure")
    images = [o for c in executed["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "figures were drawn but none reached the notebook's outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_sees_every_assignment_in_the_parameters_cell(path):
    # papermill's parser gives up on some lines (e.g. quotes inside a comment) and then silently
    # drops that parameter: `ptft run -p NAME ...` would refuse a parameter the notebook has.
    cell = tagged(load(path), "parameters")[0]
    assigned = re.findall(r"^([A-Za-z_]\w*)\s*=", source(cell), re.M)
    assert list(runner.notebook_parameters(path)) == assigned
