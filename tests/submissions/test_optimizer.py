"""make_optimizer: the submission's optimiser as the runner builds it."""

from __future__ import annotations

import pytest
import torch

from harness.submissions import make_optimizer


class Settings:
    def __init__(self, optimizer: str, lr: float = 1e-3, weight_decay: float = 0.0) -> None:
        self.optimizer, self.lr, self.weight_decay = optimizer, lr, weight_decay


@pytest.mark.parametrize(
    ("name", "cls"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW), ("sgd", torch.optim.SGD)]
)
def test_kinds_and_settings_on_the_cpu(name: str, cls: type) -> None:
    params = list(torch.nn.Linear(3, 2).parameters())
    optimizer = make_optimizer(Settings(name, lr=0.01, weight_decay=1e-4), params)
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.01 and group["weight_decay"] == 1e-4
    assert not group.get("fused")  # CPU runs keep the default implementation (reproducible figures)
    if name == "sgd":
        assert group["momentum"] == 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (runs on the GPU machines, not in CI)")
@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_fused_on_cuda(name: str) -> None:
    model = torch.nn.Linear(3, 2).cuda()
    optimizer = make_optimizer(Settings(name), list(model.parameters()))
    assert optimizer.param_groups[0]["fused"] is True
    model(torch.ones(4, 3, device="cuda")).sum().backward()
    optimizer.step()  # the fused kernel runs
