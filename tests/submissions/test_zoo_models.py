"""The zoo submissions: mediaeval-baseline, cnn-spectrogram-simple/-complex, resnet18-timm, vgg6's [model] table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from harness.errors import FormatError
from harness.submissions import check_submission, count_parameters, load_submission

# (name, input (bins, frames) for a quick forward, parameters at 56 tags)
ZOO = [
    ("mediaeval-baseline", (96, 1366), 448_122),
    ("cnn-spectrogram-simple", (129, 129), 579_568),
    ("cnn-spectrogram-complex", (129, 129), 4_919_146),
    ("resnet18-timm", (96, 256), 11_198_968),
]
NAMES = [name for name, _, _ in ZOO]


def _forward(model: nn.Module, bins: int, frames: int, batch: int = 2) -> torch.Tensor:
    torch.manual_seed(0)
    with torch.no_grad():
        return model.eval()(torch.randn(batch, 1, bins, frames))


@pytest.mark.parametrize(("name", "shape", "_"), ZOO, ids=NAMES)
def test_forward_gives_finite_logits(name: str, shape: tuple[int, int], _: int) -> None:
    logits = _forward(load_submission(name).build(56), *shape)
    assert logits.shape == (2, 56)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize(("name", "_", "parameters"), ZOO, ids=NAMES)
def test_parameter_count_at_56_tags(name: str, _: tuple[int, int], parameters: int) -> None:
    submission = load_submission(name)
    assert count_parameters(submission.build(56)) == parameters
    assert f"{parameters:,} parameters at 56 tags" in (submission.path / "README.md").read_text(encoding="utf-8")


def test_mediaeval_baseline_reaches_one_by_one_at_96_by_1366() -> None:
    model = load_submission("mediaeval-baseline").build(56).eval()
    convs = [m for m in model.blocks.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 128, 128, 64]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    with torch.no_grad():
        trunk = model.blocks(model.input_norm(torch.randn(1, 1, 96, 1366)))
        other_length = model(torch.randn(1, 1, 96, 2000))
    assert trunk.shape == (1, 64, 1, 1)
    assert other_length.shape == (1, 56)


def test_mediaeval_baseline_toml_follows_the_original_solver() -> None:
    spec = load_submission("mediaeval-baseline").spec
    assert (spec.feature, spec.crop_frames, spec.optimizer, spec.lr) == ("mel96", 1366, "adam", 1e-4)
    assert (spec.batch_size, spec.epochs, spec.patience, spec.external_data) == (32, 100, 20, False)


@pytest.mark.parametrize("name", ["cnn-spectrogram-simple", "cnn-spectrogram-complex"])
@pytest.mark.parametrize("k", [129, 257, 513])
def test_spectrogram_cnns_accept_every_square_size(name: str, k: int) -> None:
    logits = _forward(load_submission(name).build(56), k, k, batch=1)
    assert logits.shape == (1, 56)
    assert torch.isfinite(logits).all()


def _convs_and_linears(model: nn.Module) -> tuple[list[nn.Conv2d], list[nn.Linear]]:
    modules = list(model.modules())
    return [m for m in modules if isinstance(m, nn.Conv2d)], [m for m in modules if isinstance(m, nn.Linear)]


def test_simple_cnn_has_four_small_convs_and_one_hidden_layer() -> None:
    convs, linears = _convs_and_linears(load_submission("cnn-spectrogram-simple").build(56))
    assert len(convs) == 4 and all(c.out_channels <= 50 for c in convs)
    assert len(linears) == 2  # one hidden layer and the output layer
    assert linears[-1].out_features == 56


def test_complex_cnn_has_wide_convs_and_three_hidden_layers() -> None:
    convs, linears = _convs_and_linears(load_submission("cnn-spectrogram-complex").build(56))
    assert convs and all(100 <= c.out_channels <= 200 for c in convs)
    assert len(linears) == 4  # three hidden layers and the output layer
    assert linears[-1].out_features == 56


@pytest.mark.parametrize("name", ["cnn-spectrogram-simple", "cnn-spectrogram-complex"])
def test_spectrogram_cnn_toml(name: str) -> None:
    spec = load_submission(name).spec
    # no crop_frames: K is the dataset's square_size (513 for CAL500, 257 for CAL500exp)
    assert (spec.feature, spec.crop_frames, spec.optimizer, spec.lr) == ("stft-square", None, "adam", 1e-3)
    assert (spec.batch_size, spec.epochs, spec.patience, spec.external_data) == (16, 100, 20, False)


def test_resnet18_is_one_channel_and_downloads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import timm
    import timm.models._builder as builder

    calls: list[dict] = []
    create_model = timm.create_model

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return create_model(*args, **kwargs)

    def no_download(*args, **kwargs):
        raise AssertionError("resnet18-timm tried to load pretrained weights")

    monkeypatch.setattr(timm, "create_model", spy)
    monkeypatch.setattr(builder, "load_pretrained", no_download)
    submission = load_submission("resnet18-timm")
    model = submission.build(56)
    assert calls and all(kwargs.get("pretrained") is False for kwargs in calls)
    assert model.conv1.in_channels == 1
    assert model.get_classifier().out_features == 56
    assert submission.spec.external_data is False
    assert (submission.spec.feature, submission.spec.crop_frames, submission.spec.lr, submission.spec.batch_size) == (
        "mel96",
        1280,
        1e-3,
        32,
    )


def test_check_passes_on_a_square_input() -> None:
    # The check builds its dummy batch from the feature: (2, 1, 257, 257) for stft-square. The model
    # pools adaptively, so it would also pass on a (2, 1, 96, 257) mel batch: the input is asserted.
    report = check_submission("cnn-spectrogram-simple")
    assert report["input"] == [2, 1, 257, 257]
    assert report["output"] == [2, 8]


def test_check_uses_the_datasets_square_size() -> None:
    # The size runs use: CAL500's registry sets K = 513 (the CNN paper's size for CAL500).
    report = check_submission("cnn-spectrogram-simple", dataset="cal500")
    assert report["input"] == [2, 1, 513, 513] and report["size_from"] == "square_size of dataset cal500"
    assert report["output"] == [2, 8]


# (name, parameters at 56 tags with the architecture of its model.py)
VGG_LIKE = [("vgg6", 2_764_794), ("mediaeval-baseline", 448_122)]


@pytest.mark.parametrize(("name", "parameters"), VGG_LIKE, ids=[name for name, _ in VGG_LIKE])
def test_vgg_like_channels_and_pools_come_from_the_model_table(name: str, parameters: int) -> None:
    submission = load_submission(name)
    params = submission.spec.model_params
    # submission.toml spells out the architecture of model.py, so the count (and the runs) are unchanged
    assert tuple(params["channels"]) == submission.module.CHANNELS
    assert tuple(map(tuple, params["pools"])) == submission.module.POOLS
    assert count_parameters(submission.build(56)) == parameters
    assert count_parameters(submission.module.build(56)) == parameters  # the defaults are the same
    model = submission.module.build(56, channels=[8, 16], pools=[[2, 2], [2, 2]])
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    pools = [m.kernel_size for m in model.modules() if isinstance(m, nn.MaxPool2d)]
    assert [c.out_channels for c in convs] == [8, 16] and pools == [(2, 2), (2, 2)]
    assert _forward(model, 96, 64).shape == (2, 56)


@pytest.mark.parametrize(
    ("channels", "pools", "needle"),
    [
        ([8, 16], [[2, 2]], "one [height, width] per block"),
        ([8, 0], [[2, 2], [2, 2]], "positive integers"),
        ([8], [2], "[height, width] pairs"),
    ],
    ids=["pools-too-few", "zero-channels", "pool-not-a-pair"],
)
def test_vgg_like_model_table_mistakes_name_model_py(tmp_path: Path, channels: list, pools: list, needle: str) -> None:
    folder = tmp_path / "vgg6"
    shutil.copytree(load_submission("vgg6").path, folder)
    toml = (folder / "submission.toml").read_text()
    start = toml.index("channels = ")
    end = toml.index("\n[optimizer]")
    (folder / "submission.toml").write_text(toml[:start] + f"channels = {channels}\npools = {pools}\n" + toml[end:])
    with pytest.raises(FormatError, match=r"model\.py:\d+: build\(56") as caught:
        load_submission(folder).build(56)
    assert needle in caught.value.message
