"""The vgg6 submission is the network of the MediaEval 2019 paper."""

from __future__ import annotations

import torch

from harness.submissions import check_submission, count_parameters, load_submission


def test_parameter_count_at_56_tags() -> None:
    model = load_submission("vgg6").build(56)
    assert count_parameters(model) == 2_764_794


def test_a_96_by_1280_crop_reaches_one_by_one() -> None:
    model = load_submission("vgg6").build(56).eval()
    x = torch.randn(2, 1, 96, 1280)
    with torch.no_grad():
        trunk = model.blocks(model.input_norm(x))
        logits = model(x)
    assert trunk.shape == (2, 256, 1, 1)
    assert logits.shape == (2, 56)


def test_submission_toml() -> None:
    spec = load_submission("submissions/vgg6").spec
    assert (spec.crop_frames, spec.optimizer, spec.lr, spec.batch_size) == (1280, "adam", 1e-3, 64)
    assert spec.epochs >= 1 and spec.feature == "mel96"


def test_check_passes() -> None:
    report = check_submission("vgg6")
    assert report["output"] == [2, 8]
