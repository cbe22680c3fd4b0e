"""Fine-tuning methods: what trains (freezing, heads), how fast (discriminative rates), when (unfreezing).

Everything works on *layer groups*, bottom (input) to top (task head), as a model's
``layer_groups()`` returns them. Parameter-efficient methods (BitFit and bottleneck adapters in
``adapters``, LoRA in ``lora``) and L2-SP (``regularizers``) work on named modules instead.
"""

from ptft_utils.finetune.adapters import BottleneckAdapter, add_adapters, bitfit, mark_only_adapters_trainable
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
from ptft_utils.finetune.lora import (
    LoRAConv2d,
    LoRALinear,
    inject_lora,
    load_lora_state_dict,
    lora_state_dict,
    mark_only_lora_trainable,
    merge_lora,
    unmerge_lora,
)
from ptft_utils.finetune.rates import discriminative_param_groups
from ptft_utils.finetune.regularizers import l2_sp_penalty, pretrained_reference
from ptft_utils.finetune.strategies import STRATEGIES, setup_strategy

__all__ = [
    "STRATEGIES",
    "BottleneckAdapter",
    "LoRAConv2d",
    "LoRALinear",
    "add_adapters",
    "bitfit",
    "inject_lora",
    "l2_sp_penalty",
    "load_lora_state_dict",
    "lora_state_dict",
    "mark_only_adapters_trainable",
    "mark_only_lora_trainable",
    "merge_lora",
    "pretrained_reference",
    "unmerge_lora",
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
