"""Training in PyTorch: the one loop (:func:`fit`), batches, early stopping, checkpoints, devices.

``loop`` (``fit``, ``evaluate``, ``predict``), ``batches``, ``stopping`` (``EarlyStopping``),
``checkpoint`` (safe, fingerprinted checkpoints), ``device``, and the two task-specific drivers:
``classify`` (padded-sentence classifiers, built on ``fit``) and ``lm`` (language models with
truncated BPTT, a loop of its own because its hidden state is carried across batches).

What it is not: model definitions (:mod:`ptft_utils.models`) or fine-tuning recipes
(:mod:`ptft_utils.finetune`, whose hooks and parameter groups ``fit`` takes).
"""

from ptft_utils.train.device import set_cpu_threads, torch_device
from ptft_utils.train.loop import History, clone_model, evaluate, fit, predict
from ptft_utils.train.schedules import build_optimizer, build_schedule, lr_range_test
from ptft_utils.train.steps import SourceRehearsal, train_steps
from ptft_utils.train.stopping import EarlyStopping

__all__ = [
    "EarlyStopping",
    "History",
    "SourceRehearsal",
    "build_optimizer",
    "build_schedule",
    "clone_model",
    "evaluate",
    "fit",
    "lr_range_test",
    "predict",
    "set_cpu_threads",
    "torch_device",
    "train_steps",
]
