"""ptft_utils: the shared, tested code behind the Pretraining & Fine-tuning book.

The package is split by layer and by heavy dependency, so that where a framework is imported is
visible in the path (the contracts in ``pyproject.toml`` enforce it):

- ``kit``: the notebook contract (parameters, the Recorder, the runner and ``ptft`` command); no framework
- ``data``: the registry, verified downloads, shipped datasets, splits, tokens; no framework
- ``reference``: chapter 02's formulas in NumPy
- ``models``, ``train``, ``finetune``: PyTorch models, the one training loop, fine-tuning methods
- ``eval``: statistics, plots, embedding and language-model evaluation
- ``experiment``: the fair-comparison harness (arms x budgets x seeds, selection on validation)
- ``keras``: the only importer of TensorFlow/Keras

Importing this package imports no deep-learning framework: the command line and the tests start
fast, and a reader who only uses PyTorch never pays for TensorFlow. This module is the short
façade a chapter's setup cell uses.
"""

from ptft_utils.kit.params import ParameterError, Params, resolve
from ptft_utils.kit.repro import environment, seed_python
from ptft_utils.kit.results import Recorder, load_run, load_runs

__version__ = "0.1.0"

__all__ = [
    "ParameterError",
    "Params",
    "Recorder",
    "environment",
    "load_run",
    "load_runs",
    "resolve",
    "seed_everything",
    "__version__",
]


def seed_everything(seed: int, *, torch: bool = True, tensorflow: bool = False, deterministic: bool = True) -> None:
    """Seed Python and NumPy, then PyTorch (``torch=True``) and TensorFlow (``tensorflow=True``).

    Each framework is seeded by its own subpackage, imported only when asked for: TensorFlow is
    off by default because importing it costs seconds. With ``deterministic`` both are asked for
    deterministic kernels, so a CPU run with the same seed gives the same numbers twice.
    """
    seed_python(seed)
    if torch:
        from ptft_utils.train.device import seed_torch

        seed_torch(seed, deterministic)
    if tensorflow:
        from ptft_utils.keras.device import seed_tensorflow

        seed_tensorflow(seed, deterministic)
