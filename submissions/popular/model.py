"""popular: the "popular" naive baseline of the MediaEval 2019 Emotion and Theme task.

Every item gets the same scores: 1.0 for the tag with the most positive items in the training
labels, 0.0 for every other tag. On ties the first tag in the dataset's tag order wins (the task's
script, ``baseline_naive.py --algorithm popular``, leaves ties to an unstable sort). The script
writes these 0/1 values as its predictions; here they are scores.

| step       | what it does                                                     | result        |
|------------|------------------------------------------------------------------|---------------|
| fit_labels | positives per tag in the (items x tags) training labels; argmax, | buffer (tags) |
|            | first on ties; +200 for that tag, -200 for the others            |               |
| forward    | the buffer repeated for every item; the input is ignored         | (B, tags)     |

The model outputs logits, as every submission does, and the harness applies the sigmoid:
``sigmoid(+200)`` is exactly 1.0 and ``sigmoid(-200)`` exactly 0.0 in float32 (and in float16 and
bfloat16), so the harness's scores are the baseline's 1.0 and 0.0, and averaging evaluation crops
changes nothing. 0 parameters; the fitted tag lives in buffers, so checkpoints carry it.
"""

from __future__ import annotations

import torch
from torch import nn

LOGIT = 200.0  # sigmoid(LOGIT) == 1.0 and sigmoid(-LOGIT) == 0.0 exactly in float32


class PopularTag(nn.Module):
    def __init__(self, num_tags: int) -> None:
        super().__init__()
        self.num_tags = num_tags
        self.register_buffer("logits", torch.full((num_tags,), -LOGIT))
        self.register_buffer("fitted", torch.tensor(False))

    def fit_labels(self, labels: torch.Tensor) -> None:
        """Pick the tag with the most positives in the training labels (items x tags); first on ties."""
        if labels.ndim != 2 or labels.shape[1] != self.num_tags:
            raise ValueError(f"labels must be (items, {self.num_tags}), got {tuple(labels.shape)}")
        positives = (labels > 0.5).sum(dim=0)
        popular = int(torch.nonzero(positives == positives.max())[0, 0])  # the first of the most frequent
        logits = torch.full((self.num_tags,), -LOGIT, device=self.logits.device)
        logits[popular] = LOGIT
        self.logits.copy_(logits)
        self.fitted.fill_(True)

    @property
    def popular_tag(self) -> int:
        return int(torch.argmax(self.logits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not bool(self.fitted):
            raise RuntimeError("popular: call fit_labels(training labels) before the forward pass")
        return self.logits.expand(x.shape[0], self.num_tags).clone()


def build(num_tags: int) -> nn.Module:
    return PopularTag(num_tags)
