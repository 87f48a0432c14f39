"""mediaeval-baseline: the VGG-ish baseline of the MediaEval 2019 Emotion and Theme task.

Architecture (input ``(B, 1, 96, 1366)``, the baseline's 1366-frame crop of about 29 s):

| block | conv 3x3, pad 1 | pool  | output (C x H x W) |
|-------|-----------------|-------|--------------------|
| input | batch-norm      |       | 1 x 96 x 1366      |
| 1     | 64              | (2,4) | 64 x 48 x 341      |
| 2     | 128             | (2,4) | 128 x 24 x 85      |
| 3     | 128             | (2,4) | 128 x 12 x 21      |
| 4     | 128             | (3,5) | 128 x 4 x 4        |
| 5     | 64              | (4,4) | 64 x 1 x 1         |
| head  | global max, dropout 0.5, linear 64 -> tags |   |

Each block is conv -> batch-norm -> ELU -> max-pool, as in the task's reference code
(MTG/mtg-jamendo-dataset, ``scripts/baseline/model.py``). The original flattens the 64 x 1 x 1
trunk output and ends in a sigmoid; here the model returns logits (the protocol's loss is BCE on
logits) and takes a max over whatever spatial grid remains, so inputs of other frame counts also
give one 64-vector (at 96 x 1366 the grid is already 1 x 1 and the max is the identity).
With 56 tags: 448,122 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (64, 128, 128, 128, 64)
POOLS = ((2, 4), (2, 4), (2, 4), (3, 5), (4, 4))


def _block(in_channels: int, out_channels: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ELU(),
        nn.MaxPool2d(pool),
    )


class MediaEvalBaseline(nn.Module):
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
        # 96 x 1366 reaches 1 x 1; longer or taller inputs are max-pooled to one vector.
        x = torch.amax(x, dim=(2, 3))
        return self.classifier(self.dropout(x))


def build(num_tags: int, dropout: float = 0.5) -> nn.Module:
    return MediaEvalBaseline(num_tags, dropout=dropout)
