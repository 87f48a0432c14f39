"""cnn-spectrogram-complex: the "complex" CNN on square STFT spectrograms (Liu et al., 2017).

Input ``(B, 1, K, K)``: a K x K log power spectrogram (feature ``stft-square``), K in
{129, 257, 513, 1025}. The table is for the default K = 257:

| block    | layer                                    | output (C x H x W) |
|----------|------------------------------------------|--------------------|
| input    | batch-norm                               | 1 x 257 x 257      |
| 1        | conv 3x3 (pad 1), 100 filters, pool 2x2  | 100 x 128 x 128    |
| 2        | conv 3x3 (pad 1), 150 filters, pool 2x2  | 150 x 64 x 64      |
| 3        | conv 3x3 (pad 1), 150 filters, pool 2x2  | 150 x 32 x 32      |
| 4        | conv 3x3 (pad 1), 200 filters, pool 2x2  | 200 x 16 x 16      |
| 5        | conv 3x3 (pad 1), 200 filters, pool 2x2  | 200 x 8 x 8        |
| grid     | adaptive max-pool to 4 x 4               | 200 x 4 x 4 (3200) |
| hidden 1 | dropout 0.5, linear 3200 -> 1024, ReLU   | 1024               |
| hidden 2 | dropout 0.5, linear 1024 -> 512, ReLU    | 512                |
| hidden 3 | dropout 0.5, linear 512 -> 256, ReLU     | 256                |
| output   | dropout 0.5, linear 256 -> tags          | tags               |

Each convolution block is conv -> batch-norm -> ReLU -> max-pool 2x2. The paper specifies
convolution layers of 100 to 200 filters and three hidden layers; the number of blocks, the 3x3
kernels, the 100/150/150/200/200 widths, the 1024/512/256 hidden widths, the batch-norms and the
dropout are the harness's choices. The harness's adaptation: an adaptive max-pool to a fixed
4 x 4 grid before the hidden layers, so that one network (and one parameter count) serves every
K; at K = 129 the trunk gives 4 x 4 already, at 513 16 x 16, at 1025 32 x 32.
With 56 tags: 4,919,146 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

CHANNELS = (100, 150, 150, 200, 200)
GRID = (4, 4)


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


def _hidden(in_features: int, out_features: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(in_features, out_features), nn.ReLU())


class ComplexSpectrogramCNN(nn.Module):
    def __init__(self, num_tags: int, hidden: tuple[int, ...] = (1024, 512, 256), dropout: float = 0.5) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)
        blocks, channels = [], 1
        for out_channels in CHANNELS:
            blocks.append(_block(channels, out_channels))
            channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.grid = nn.AdaptiveMaxPool2d(GRID)
        layers: list[nn.Module] = [nn.Flatten()]
        features = channels * GRID[0] * GRID[1]
        for width in hidden:
            layers.append(_hidden(features, width, dropout))
            features = width
        layers += [nn.Dropout(dropout), nn.Linear(features, num_tags)]
        self.head = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.grid(self.blocks(self.input_norm(x))))


def build(num_tags: int, hidden: list[int] | tuple[int, ...] = (1024, 512, 256), dropout: float = 0.5) -> nn.Module:
    if len(hidden) != 3:
        raise ValueError(f"hidden must list three widths (the paper's three hidden layers), got {list(hidden)}")
    return ComplexSpectrogramCNN(num_tags, hidden=tuple(int(w) for w in hidden), dropout=dropout)
