"""Fine-tuning methods: what trains (freezing, heads), how fast (discriminative rates), when (unfreezing).

Everything works on *layer groups*, bottom (input) to top (task head), as a model's
``layer_groups()`` returns them.
"""

from ptft_utils.finetune.freezing import (
    apply_unfreezing,
    count_trainable,
    freeze,
    gradual_unfreezing,
    gradual_unfreezing_schedule,
    trainable_parameters,
    unfreeze,
)
from ptft_utils.finetune.heads import linear_probe, reinit, replace_head
from ptft_utils.finetune.rates import discriminative_param_groups
from ptft_utils.finetune.strategies import STRATEGIES, setup_strategy

__all__ = [
    "STRATEGIES",
    "apply_unfreezing",
    "count_trainable",
    "discriminative_param_groups",
    "freeze",
    "gradual_unfreezing",
    "gradual_unfreezing_schedule",
    "linear_probe",
    "reinit",
    "replace_head",
    "setup_strategy",
    "trainable_parameters",
    "unfreeze",
]
