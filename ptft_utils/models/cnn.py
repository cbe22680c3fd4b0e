"""The seed article's CNN as a PyTorch twin of its Keras model.

Conv2D(32, 3x3, relu) - MaxPool 2x2 - Conv2D(64, 3x3, relu) - MaxPool 2x2 - Flatten -
Dense(128, relu) - Dense(10, softmax), 225,034 parameters, with its layer groups for fine-tuning.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

SEED_CNN_PARAMETERS = 225_034  # what Keras' model.summary() prints for the seed's CNN


class SeedCNN(nn.Module):
    """Conv(32,3x3)-ReLU-MaxPool(2) - Conv(64,3x3)-ReLU-MaxPool(2) - Flatten - Dense(128)-ReLU - Dense(10).

    Input: ``[B, 1, 28, 28]`` (or ``[B, 28, 28]``) floats in [0, 1]. Output: logits ``[B, num_classes]``
    (the Keras model applies the softmax inside its last layer; here it belongs to the loss).
    ``features(x)`` returns the 128-d representation under the head, which is what a pretrained
    encoder hands to a new task.

    Taught in: 04 §4.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3)  # 28 -> 26, pool -> 13
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3)  # 13 -> 11, pool -> 5
        self.fc1 = nn.Linear(64 * 5 * 5, 128)
        self.head = nn.Linear(128, num_classes)

    def conv_features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutional trunk's output, ``[B, 64, 5, 5]`` (NCHW)."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        return F.max_pool2d(F.relu(self.conv2(x)), 2)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The 128-d penultimate representation (after ReLU)."""
        return F.relu(self.fc1(torch.flatten(self.conv_features(x), 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def layer_groups(self) -> list[list[nn.Module]]:
        """Bottom to top: conv1, conv2, fc1, head."""
        return [[self.conv1], [self.conv2], [self.fc1], [self.head]]
