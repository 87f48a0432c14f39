"""@NAME@: a small CNN on 96-band mel-spectrograms (scaffolded by `harness submissions new`).

Replace it with your model and keep ``build(num_tags, **params)``: it gets the ``[model]`` table of
``submission.toml`` as keyword arguments and returns a ``torch.nn.Module`` that maps a batch
``(B, 1, 96, frames)`` of mel-spectrogram crops (dB) to logits ``(B, num_tags)``; the harness
applies the sigmoid. A module may also define ``fit_labels(self, labels)``, called once with the
training label matrix (see the docstring of ``harness/submissions/__init__.py``).

Architecture (input ``(B, 1, 96, 1280)``, ``channels = (16, 32, 64)``):

| block | layers                                          | output (C x H x W) |
|-------|-------------------------------------------------|--------------------|
| input | batch-norm                                      | 1 x 96 x 1280      |
| 1     | conv 3x3 (16), batch-norm, ReLU, max-pool 2x2   | 16 x 48 x 640      |
| 2     | conv 3x3 (32), batch-norm, ReLU, max-pool 2x2   | 32 x 24 x 320      |
| 3     | conv 3x3 (64), batch-norm, ReLU, max-pool 2x2   | 64 x 12 x 160      |
| pool  | global max and mean over (H, W), concatenated   | 128                |
| head  | dropout, linear 128 -> tags                     | tags               |

The global pooling makes any crop of at least 8 frames work. With 56 tags: 30,634 parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SmallCNN(nn.Module):
    def __init__(self, num_tags: int, channels: Sequence[int] = (16, 32, 64), dropout: float = 0.3) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, width = [], 1
        for out_channels in channels:
            blocks.append(_block(width, out_channels))
            width = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * width, num_tags)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(self.input_norm(x))
        pooled = torch.cat([torch.amax(x, dim=(2, 3)), torch.mean(x, dim=(2, 3))], dim=1)
        return self.classifier(self.dropout(pooled))


def build(num_tags: int, channels: Sequence[int] = (16, 32, 64), dropout: float = 0.3) -> nn.Module:
    return SmallCNN(num_tags, channels=tuple(channels), dropout=dropout)
