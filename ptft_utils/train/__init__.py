"""Training in PyTorch: the one loop (:func:`fit`), batches, checkpoints, devices.

``loop`` (``fit``, ``evaluate``, ``predict``), ``batches``, ``checkpoint``, ``device``, and the two
task-specific drivers built on ``fit``: ``lm`` (language models, truncated BPTT) and ``classify``
(padded-sentence classifiers).
"""

from ptft_utils.train.device import set_cpu_threads, torch_device
from ptft_utils.train.loop import History, clone_model, evaluate, fit, predict

__all__ = ["History", "clone_model", "evaluate", "fit", "predict", "set_cpu_threads", "torch_device"]
