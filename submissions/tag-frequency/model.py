"""tag-frequency: the naive baseline that the MediaEval 2019 task's script calls ``random``.

``baseline_naive.py --algorithm random`` of the task gives every test item the same scores: each
tag's share of the training items that carry it. This submission reproduces it (the harness's
``random`` submission is uniform random scores instead, as its name says).

| step       | what it does                                                        | result        |
|------------|---------------------------------------------------------------------|---------------|
| fit_labels | share of training items with each tag, ``positives / items``        | buffer (tags) |
| forward    | ``logit(share)`` repeated for every item; the input is ignored      | (B, tags)     |

The harness applies the sigmoid, which gives back the shares (to float32 precision; a tag with
no training positives gets a share clamped to 1e-7, one that every item carries 1 - 1e-7). The
scores are constant per tag, so ROC-AUC-macro is 0.5 and PR-AUC-macro is the mean positive rate
of the test tags. 0 parameters; the shares live in a buffer, so checkpoints carry them.
"""

from __future__ import annotations

import torch
from torch import nn

EPSILON = 1e-7  # keeps the logits of tags seen never or always finite


class TagFrequency(nn.Module):
    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.register_buffer("logits", torch.zeros(num_tags))
        self.register_buffer("fitted", torch.tensor(False))

    def fit_labels(self, labels: torch.Tensor) -> None:
        """Each tag's share of the training items (items x tags, 0/1)."""
        if labels.ndim != 2 or labels.shape[1] != self.num_tags or labels.shape[0] == 0:
            raise ValueError(f"labels must be (items > 0, {self.num_tags}), got {tuple(labels.shape)}")
        share = (labels > 0.5).double().mean(dim=0).clamp(EPSILON, 1 - EPSILON)
        self.logits.copy_(torch.logit(share).to(self.logits.dtype))
        self.fitted.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not bool(self.fitted):
            raise RuntimeError("tag-frequency: call fit_labels(training labels) before the forward pass")
        return self.logits.expand(x.shape[0], self.num_tags).clone()


def build(num_tags: int) -> nn.Module:
    return TagFrequency(num_tags)
