"""vgg6: the 6-layer VGG of the MediaEval 2019 paper, on 96-band mel-spectrograms.

Architecture (input ``(B, 1, 96, 1280)``):

| block | conv 3x3, pad 1 | pool  | output (C x H x W) |
|-------|-----------------|-------|--------------------|
| input | batch-norm      |       | 1 x 96 x 1280      |
| 1     | 32              | (2,2) | 32 x 48 x 640      |
| 2     | 64              | (2,4) | 64 x 24 x 160      |
| 3     | 128             | (2,2) | 128 x 12 x 80      |
| 4     | 256             | (2,4) | 256 x 6 x 20       |
| 5     | 512             | (3,5) | 512 x 2 x 4        |
| 6     | 256             | (2,4) | 256 x 1 x 1        |
| head  | dropout 0.5, linear 256 -> tags |  |             |

Each block is conv -> batch-norm -> ELU -> max-pool. With 56 tags: 2,764,794 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (32, 64, 128, 256, 512, 256)
POOLS = ((2, 2), (2, 4), (2, 2), (2, 4), (3, 5), (2, 4))


def _block(in_channels: int, out_channels: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ELU(),
        nn.MaxPool2d(pool),
    )


class VGG6(nn.Module):
    def __init__(self, num_tags: int, dropout: float = 0.5) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, channels = [], 1
        for out_channels, pool in zip(CHANNELS, POOLS):
            blocks.append(_block(channels, out_channels, pool))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(channels, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input_norm(x))
        # A 96 x 1280 crop reaches 1 x 1; longer or taller inputs are max-pooled to one vector.
        x = torch.amax(x, dim=(2, 3))
        return self.classifier(self.dropout(x))


def build(num_tags: int, dropout: float = 0.5) -> nn.Module:
    return VGG6(num_tags, dropout=dropout)
