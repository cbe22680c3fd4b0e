"""ptft_utils: the shared, tested code behind the Pretraining & Fine-tuning book.

Importing this package imports no deep-learning framework: torch, tensorflow and gensim are
loaded by the functions that need them, so the ``ptft`` command and the tests start fast and a
reader who only uses PyTorch never pays for TensorFlow.
"""

from .params import ParameterError, Params, resolve
from .repro import environment, seed_everything
from .results import Recorder, load_run, load_runs

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
