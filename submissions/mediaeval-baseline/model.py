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
With 56 tags: 448,122 parameters. ``[model] channels`` (one width per block) and ``pools``
([height, width] per block) may change the table; ``submission.toml`` sets them to the values
above (:data:`CHANNELS`, :data:`POOLS`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

CHANNELS = (64, 128, 128, 128, 64)
POOLS = ((2, 4), (2, 4), (2, 4), (3, 5), (4, 4))


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _architecture(channels: Sequence[int], pools: Sequence[Sequence[int]]) -> list[tuple[int, tuple[int, int]]]:
    """``[model] channels`` and ``pools`` checked, as (width, (pool height, pool width)) per block."""
    if not isinstance(channels, (list, tuple)) or not channels or not all(_positive(c) for c in channels):
        raise ValueError(f"[model] channels must be a non-empty list of positive integers, got {channels!r}")
    if not isinstance(pools, (list, tuple)) or len(pools) != len(channels):
        raise ValueError(f"[model] pools needs one [height, width] per block: {len(channels)} channels, got {pools!r}")
    blocks = []
    for width, pool in zip(channels, pools):
        if not isinstance(pool, (list, tuple)) or len(pool) != 2 or not all(_positive(k) for k in pool):
            raise ValueError(f"[model] pools must be [height, width] pairs of positive integers, got {pool!r}")
        blocks.append((width, (pool[0], pool[1])))
    return blocks


def _block(in_channels: int, out_channels: int, pool: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ELU(),
        nn.MaxPool2d(pool),
    )


class MediaEvalBaseline(nn.Module):
    def __init__(
        self,
        num_tags: int,
        dropout: float = 0.5,
        channels: Sequence[int] = CHANNELS,
        pools: Sequence[Sequence[int]] = POOLS,
    ) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, width = [], 1
        for out_channels, pool in _architecture(channels, pools):
            blocks.append(_block(width, out_channels, pool))
            width = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(width, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input_norm(x))
        # 96 x 1366 reaches 1 x 1; longer or taller inputs are max-pooled to one vector.
        x = torch.amax(x, dim=(2, 3))
        return self.classifier(self.dropout(x))


def build(
    num_tags: int,
    dropout: float = 0.5,
    channels: Sequence[int] = CHANNELS,
    pools: Sequence[Sequence[int]] = POOLS,
) -> nn.Module:
    """``channels`` (one per block) and ``pools`` ([height, width] per block) come from ``[model]``."""
    return MediaEvalBaseline(num_tags, dropout=dropout, channels=channels, pools=pools)
