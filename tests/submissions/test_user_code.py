"""Errors of a submission's code, and outputs of the wrong kind, as one line naming model.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from harness.errors import FormatError, RunFailedError
from harness.submissions import CheckedModel, UserCode, load_submission, logits_problem

MODEL = """\
import sys
import torch
from torch import nn


class M(nn.Module):
    def __init__(self, num_tags, output):
        super().__init__()
        self.fc = nn.Linear(1, num_tags)
        self.output = output

    def forward(self, x):
        logits = self.fc(x.mean(dim=(1, 2, 3)).unsqueeze(1))
        if self.output == "exit":
            sys.exit(4)
        if self.output == "tuple":
            return logits, logits
        return logits[:, :2] if self.output == "narrow" else logits


def build(num_tags, output="ok"):
    return M(num_tags, output)
"""


def _submission(tmp_path: Path, output: str):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "submission.toml").write_text(
        f'name = "m"\ncrop_frames = 8\n[model]\noutput = "{output}"\n[training]\nepochs = 0\n'
    )
    (folder / "model.py").write_text(MODEL)
    return load_submission(folder)


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        ("exit", "model.py:15: forward pass on (3, 1, 96, 8) in train mode failed: it called sys.exit(4)"),
        ("tuple", "returned a tuple of 2 (Tensor, Tensor), not a tensor of logits; expected (3, 5) logits"),
        ("narrow", "gives shape (3, 2), expected (3, 5) logits"),
    ],
)
def test_checked_model_turns_a_bad_forward_into_one_format_error(tmp_path: Path, output: str, needle: str) -> None:
    submission = _submission(tmp_path, output)
    checked = submission.checked(submission.build(5), 5)
    assert isinstance(checked, CheckedModel)
    with pytest.raises(FormatError) as caught:
        checked(torch.zeros(3, 1, 96, 8))
    assert needle in caught.value.message and str(submission.model_file) in caught.value.message


def test_checked_model_passes_good_logits_and_keeps_the_state_dict(tmp_path: Path) -> None:
    submission = _submission(tmp_path, "ok")
    model = submission.build(5)
    checked = submission.checked(model, 5)
    assert checked(torch.zeros(3, 1, 96, 8)).shape == (3, 5)
    assert set(model.state_dict()) == {"fc.weight", "fc.bias"}  # checkpoints save the inner model


def test_logits_problem() -> None:
    assert logits_problem(torch.zeros(2, 3), 2, 3) is None
    assert "returned a dict with keys 'a'" in logits_problem({"a": 1}, 2, 3)
    assert "returned None" in logits_problem(None, 2, 3)
    assert "torch.int64 logits" in logits_problem(torch.zeros(2, 3, dtype=torch.long), 2, 3)


def test_user_code_passes_keyboard_interrupt_and_blames_only_model_py_when_asked(tmp_path: Path) -> None:
    model_file = tmp_path / "model.py"
    with pytest.raises(KeyboardInterrupt):
        with UserCode(model_file, "x", FormatError):
            raise KeyboardInterrupt
    with pytest.raises(ValueError):  # not raised in model.py: the harness's own error, left as it is
        with UserCode(model_file, "x", FormatError, only_from_model=True):
            raise ValueError("harness bug")
    with pytest.raises(RunFailedError, match="sys.exit"):  # SystemExit is always the submission's
        with UserCode(model_file, "training epoch 1", RunFailedError, only_from_model=True):
            sys.exit(1)
