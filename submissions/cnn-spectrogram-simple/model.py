"""cnn-spectrogram-simple: the "simple" CNN on square STFT spectrograms (Liu et al., 2017).

Input ``(B, 1, K, K)``: a K x K log power spectrogram (feature ``stft-square``), K in
{129, 257, 513, 1025}. The table is for the default K = 257:

| block   | layer                                   | output (C x H x W) |
|---------|-----------------------------------------|--------------------|
| input   | batch-norm                              | 1 x 257 x 257      |
| 1       | conv 5x5 (pad 2), 20 filters, pool 2x2  | 20 x 128 x 128     |
| 2       | conv 5x5 (pad 2), 50 filters, pool 2x2  | 50 x 64 x 64       |
| 3       | conv 5x5 (pad 2), 50 filters, pool 2x2  | 50 x 32 x 32       |
| 4       | conv 5x5 (pad 2), 50 filters, pool 2x2  | 50 x 16 x 16       |
| grid    | adaptive max-pool to 4 x 4              | 50 x 4 x 4 (800)   |
| hidden  | dropout 0.5, linear 800 -> 500, ReLU    | 500                |
| output  | dropout 0.5, linear 500 -> tags         | tags               |

Each convolution block is conv -> batch-norm -> ReLU -> max-pool 2x2. The paper specifies four
convolution-pooling layers of at most 50 filters and one hidden layer; the kernel size, the
20/50/50/50 widths (LeNet's 20 and 50), the 500-unit hidden layer, the batch-norms and the
dropout are the harness's choices. The harness's adaptation: an adaptive max-pool to a fixed
4 x 4 grid before the hidden layer, so that one network (and one parameter count) serves every
K; at K = 129 the trunk gives 8 x 8, at 513 32 x 32, at 1025 64 x 64.
With 56 tags: 579,568 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (20, 50, 50, 50)
KERNEL = 5
GRID = (4, 4)


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=KERNEL, padding=KERNEL // 2),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class SimpleSpectrogramCNN(nn.Module):
    def __init__(self, num_tags: int, hidden: int = 500, dropout: float = 0.5) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, channels = [], 1
        for out_channels in CHANNELS:
            blocks.append(_block(channels, out_channels))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.grid = nn.AdaptiveMaxPool2d(GRID)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(channels * GRID[0] * GRID[1], hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_tags),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.grid(self.blocks(self.input_norm(x))))


def build(num_tags: int, hidden: int = 500, dropout: float = 0.5) -> nn.Module:
    return SimpleSpectrogramCNN(num_tags, hidden=hidden, dropout=dropout)
