"""random: uniform random scores, a chance-level naive baseline of the MediaEval 2019 task.

Every item and tag gets a score drawn uniformly from (0, 1), whatever the input.

| step    | what it does                                                           | result    |
|---------|------------------------------------------------------------------------|-----------|
| forward | ``u ~ U(0, 1)`` of shape (B, tags) from torch's global generator on the | (B, tags) |
|         | input's device; returns ``logit(u)``; the input values are ignored      |           |

The model outputs logits, as every submission does; the harness applies the sigmoid, which gives
back ``u``. ``torch.rand`` can return 0.0, so ``u`` is clamped to ``[2**-24, 1 - 2**-24]`` first and
the logits stay finite (within +-16.64). The runner seeds torch's global generator with the run's
seed, so a run is reproducible; each call draws new numbers, so every evaluation crop gets its own.
0 parameters.
"""

from __future__ import annotations

import torch
from torch import nn

EPS = 2.0**-24  # the spacing of torch.rand's float32 output just below 1


class RandomScores(nn.Module):
    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = torch.rand(x.shape[0], self.num_tags, device=x.device)
        return torch.logit(u, eps=EPS)


def build(num_tags: int) -> nn.Module:
    return RandomScores(num_tags)
