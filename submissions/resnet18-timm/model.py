"""resnet18-timm: timm's ResNet-18, randomly initialised, on one-channel 96-band mel-spectrograms.

Architecture (input ``(B, 1, 96, 1280)``; He et al., 2016, as built by timm):

| stage   | layers                                           | output (C x H x W) |
|---------|--------------------------------------------------|--------------------|
| stem    | conv 7x7 stride 2 (1 -> 64), BN, ReLU, max-pool 3x3 stride 2 | 64 x 24 x 320 |
| layer1  | 2 basic blocks, 64 channels                      | 64 x 24 x 320      |
| layer2  | 2 basic blocks, 128 channels, stride 2           | 128 x 12 x 160     |
| layer3  | 2 basic blocks, 256 channels, stride 2           | 256 x 6 x 80       |
| layer4  | 2 basic blocks, 512 channels, stride 2           | 512 x 3 x 40       |
| head    | global average pool, linear 512 -> tags          | tags               |

A basic block is two 3x3 conv -> batch-norm stages with a residual connection (a 1x1 strided
projection where the shape changes). ``timm.create_model("resnet18", pretrained=False,
in_chans=1, num_classes=num_tags)``: random initialisation, nothing is downloaded, so the
submission uses no external data. The global pool makes any input size work.
With 56 tags: 11,198,968 parameters.
"""

from __future__ import annotations

import timm
from torch import nn

ARCHITECTURE = "resnet18"


def build(num_tags: int, drop_rate: float = 0.0) -> nn.Module:
    return timm.create_model(ARCHITECTURE, pretrained=False, in_chans=1, num_classes=num_tags, drop_rate=drop_rate)
