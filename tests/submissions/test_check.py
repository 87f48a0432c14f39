"""`harness submissions check`: every problem in a submission folder is one line naming the file, exit 1.

Each case writes a small broken submission into tmp_path and runs the command through CliRunner.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from harness import paths
from harness.cli import app
from harness.errors import RunFailedError
from harness.submissions import check_submission, read_spec

runner = CliRunner()

TOML = """\
name = "tiny"
title = "tiny test model"
feature = "{feature}"
crop_frames = {crop_frames}

[optimizer]
name = "adam"
lr = 1e-2

[training]
batch_size = 4
epochs = {epochs}
"""

HEADER = "import torch\nfrom torch import nn\n\n"

GOOD_MODEL = (
    HEADER
    + """\
class Tiny(nn.Module):
    def __init__(self, num_tags):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4, num_tags)

    def forward(self, x):
        return self.fc(self.conv(x).mean(dim=(2, 3)))


def build(num_tags):
    return Tiny(num_tags)
"""
)


def _model(forward: str, init: str = "", extra: str = "") -> str:
    """A Tiny-like model with the given forward body (one expression) and extra __init__ lines."""
    return (
        HEADER
        + extra
        + f"""\
class Broken(nn.Module):
    def __init__(self, num_tags):
        super().__init__()
        self.num_tags = num_tags
        self.fc = nn.Linear(1, num_tags)
        {init or "pass"}

    def forward(self, x):
        return {forward}


def build(num_tags):
    return Broken(num_tags)
"""
    )


def _write(tmp_path: Path, model: str | None = GOOD_MODEL, toml: str | None = None, **fields: object) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    values = {"feature": "mel96", "crop_frames": 16, "epochs": 3, **fields}
    (folder / "submission.toml").write_text(toml if toml is not None else TOML.format(**values))
    if model is not None:
        (folder / "model.py").write_text(model)
    return folder


def _assert_one_line_failure(folder: Path, filename: str, *needles: str, code: int = 1) -> str:
    result = runner.invoke(app, ["submissions", "check", str(folder)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(folder / filename) in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


POOLED = "self.fc(x.mean(dim=(1, 2, 3)).unsqueeze(1))"

FAILURES = {
    # id: (model source or None for "no model.py", toml override or None, file named, needles)
    "invalid-toml": (GOOD_MODEL, 'name = "tiny"\ncrop_frames = = 3\n', "submission.toml", ["invalid TOML"]),
    "missing-crop-frames": (
        GOOD_MODEL,
        'name = "tiny"\n[optimizer]\nlr = 1e-3\n[training]\nbatch_size = 4\nepochs = 1\n',
        "submission.toml",
        ["missing field 'crop_frames'"],
    ),
    "missing-lr": (
        GOOD_MODEL,
        'name = "tiny"\ncrop_frames = 16\n[training]\nbatch_size = 4\nepochs = 1\n',
        "submission.toml",
        ["missing field 'optimizer.lr'"],
    ),
    "missing-epochs": (
        GOOD_MODEL,
        'name = "tiny"\ncrop_frames = 16\n[optimizer]\nlr = 1e-3\n[training]\nbatch_size = 4\n',
        "submission.toml",
        ["missing field 'training.epochs'"],
    ),
    "negative-epochs": (
        GOOD_MODEL,
        TOML.format(feature="mel96", crop_frames=16, epochs=-1),
        "submission.toml",
        ["epochs must be >= 0"],
    ),
    "unknown-feature": (
        GOOD_MODEL,
        TOML.format(feature="mfcc", crop_frames=16, epochs=1),
        "submission.toml",
        ["feature must be one of"],
    ),
    "bad-square-size": (
        GOOD_MODEL,
        TOML.format(feature="stft-square", crop_frames=100, epochs=1),
        "submission.toml",
        ["129, 257, 513, 1025"],
    ),
    "no-model-file": (None, None, "model.py", ["missing"]),
    "import-error": (
        HEADER + "import no_such_module_xyz\n",
        None,
        "model.py:4",
        ["import failed", "ModuleNotFoundError"],
    ),
    "syntax-error": (HEADER + "def build(num_tags:\n", None, "model.py:4", ["import failed", "SyntaxError"]),
    "no-build": (HEADER + "def make(num_tags):\n    return nn.Linear(1, num_tags)\n", None, "model.py", ["no build"]),
    "build-raises": (
        HEADER + "def build(num_tags):\n    raise ValueError('bad width')\n",
        None,
        "model.py:5",
        ["build(8", "bad width"],
    ),
    "build-not-a-module": (
        HEADER + "def build(num_tags):\n    return 3\n",
        None,
        "model.py",
        ["not a torch.nn.Module"],
    ),
    "forward-raises": (_model("self.fc(x)"), None, "model.py:12", ["forward pass on (2, 1, 96, 16)", "failed"]),
    "wrong-output-shape": (_model(POOLED + "[:, :3]"), None, "model.py", ["shape (2, 3)", "expected (2, 8)"]),
    "nan-output": (_model(POOLED + " * float('nan')"), None, "model.py", ["NaN"]),
    "no-gradient-flows": (
        _model("torch.zeros(x.shape[0], self.num_tags)"),
        None,
        "model.py",
        ["do not depend on any parameter"],
    ),
    "loss-does-not-decrease": (  # the parameters enter the logits only multiplied by zero: zero gradients
        _model("0.0 * self.fc(x.mean(dim=(1, 2, 3)).unsqueeze(1)) + x.mean(dim=(1, 2, 3)).unsqueeze(1)"),
        None,
        "model.py",
        ["loss does not decrease", "adam", "submission.toml"],
    ),
    "backward-raises": (
        _model(
            "Boom.apply(" + POOLED + ")",
            extra="""\
class Boom(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("boom in backward")


""",
        ),
        None,
        "model.py",
        ["backward pass failed", "boom in backward"],
    ),
    "infinite-gradient": (  # d sqrt(z) / dz at z = 0 is infinite
        _model(POOLED + " + torch.sqrt(self.z)", init="self.z = nn.Parameter(torch.zeros(1))"),
        None,
        "model.py",
        ["NaN or infinite gradients"],
    ),
    "trains-without-parameters": (
        HEADER + "class P(nn.Module):\n    def forward(self, x):\n        return torch.zeros(x.shape[0], 8)\n\n"
        "def build(num_tags):\n    return P()\n",
        None,
        "model.py",
        ["no trainable parameters", "epochs = 0"],
    ),
    "fit-labels-raises": (
        _model(POOLED).replace(
            "    def forward(self, x):",
            "    def fit_labels(self, labels):\n        raise ValueError('cannot fit')\n\n    def forward(self, x):",
        ),
        None,
        "model.py",
        ["fit_labels", "cannot fit"],
    ),
}


@pytest.mark.parametrize("case", list(FAILURES), ids=list(FAILURES))
def test_each_failure_is_one_line_naming_the_file(tmp_path: Path, case: str) -> None:
    model, toml, filename, needles = FAILURES[case]
    folder = _write(tmp_path, model=model, toml=toml)
    _assert_one_line_failure(folder, filename, *needles)


def test_failures_are_run_failed_errors_in_the_library(tmp_path: Path) -> None:
    model, toml, _, _ = FAILURES["wrong-output-shape"]
    with pytest.raises(RunFailedError, match="shape"):
        check_submission(_write(tmp_path, model=model, toml=toml))


def test_not_a_submission_folder_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["submissions", "check", str(tmp_path)])
    assert result.exit_code == 2 and "no submission.toml" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["submissions", "check", "no-such-submission"])
    assert result.exit_code == 2 and "unknown submission 'no-such-submission'" in result.output


def test_a_good_submission_passes_and_reports_the_loss(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    result = runner.invoke(app, ["submissions", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert (
        "ok tiny" in result.output
        and "input (2, 1, 96, 16) -> output (2, 8)" in result.output
        and "loss" in result.output
    )
    assert "size 16 from the crop_frames of submission.toml" in result.output
    report = check_submission(folder)
    assert report["trains"] and report["loss"]["last"] < report["loss"]["first"] and report["skipped"] == []


def test_check_is_deterministic_and_leaves_the_global_generator_alone(tmp_path: Path) -> None:
    folder = _write(tmp_path)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = check_submission(folder)
    assert torch.equal(torch.rand(3), expected)
    assert check_submission(folder)["loss"] == first["loss"]


def _square_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int) -> str:
    """A registry folder holding one dataset, ``square{size}``, whose stft-square K is ``size``."""
    name = f"square{size}"
    (tmp_path / "registry" / name).mkdir(parents=True)
    (tmp_path / "registry" / name / "dataset.toml").write_text(
        f'name = "{name}"\nfamily = "toy"\n[tags]\nnames = ["a"]\n[folds]\nnames = ["split-0"]\n'
        f"[protocol]\nsquare_size = {size}\n"
    )
    monkeypatch.setenv("HARNESS_REGISTRY", str(tmp_path / "registry"))
    return name


def test_stft_square_gets_a_square_dummy_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # crop_frames may repeat the dataset's K (it pins it); the dummy batch is the dataset's K x K image
    model = _model(POOLED).replace(
        "        return ", "        assert x.shape[1:] == (1, 129, 129), x.shape\n        return "
    )
    dataset = _square_registry(tmp_path, monkeypatch, 129)
    report = check_submission(_write(tmp_path, model=model, feature="stft-square", crop_frames=129), dataset=dataset)
    assert report["input"] == [2, 1, 129, 129]
    assert (report["size"], report["size_from"]) == (129, f"square_size of dataset {dataset}")


def test_stft_square_size_is_the_datasets(tmp_path: Path) -> None:
    # No crop_frames: K is the dataset's square_size, 257 for the default toy and CAL500exp, 513 for CAL500.
    model = _model(POOLED).replace(
        "        return ", "        assert x.shape[2] == x.shape[3], x.shape\n        return "
    )
    folder = _write(tmp_path, model=model, toml='name = "tiny"\nfeature = "stft-square"\n[training]\nepochs = 0\n')
    spec = read_spec(folder)
    assert spec.crop_frames is None and spec.input_shape(2, 257) == (2, 1, 257, 257)
    assert check_submission(folder)["input"] == [2, 1, 257, 257]
    assert check_submission(folder, dataset="cal500exp")["input"] == [2, 1, 257, 257]
    result = runner.invoke(app, ["submissions", "check", str(folder), "--dataset", "cal500"])
    assert result.exit_code == 0, result.output
    assert (
        "input (2, 1, 513, 513)" in result.output and "size 513 from the square_size of dataset cal500" in result.output
    )


def test_a_stft_square_crop_frames_that_differs_from_the_datasets_k_is_refused(tmp_path: Path) -> None:
    folder = _write(tmp_path, feature="stft-square", crop_frames=513)
    line = _assert_one_line_failure(
        folder, "submission.toml", "crop_frames = 513", "toy", "257 x 257", "remove crop_frames"
    )
    assert "square_size" in line
    assert check_submission(folder, dataset="cal500")["input"] == [2, 1, 513, 513]  # the same K: no conflict


def test_check_of_an_unknown_dataset_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["submissions", "check", str(_write(tmp_path)), "--dataset", "nope"])
    assert result.exit_code == 2 and "unknown dataset 'nope'" in result.output, result.output


def test_mel96_gets_96_bins(tmp_path: Path) -> None:
    model = _model(POOLED).replace(
        "        return ", "        assert x.shape[1:] == (1, 96, 40), x.shape\n        return "
    )
    assert check_submission(_write(tmp_path, model=model, crop_frames=40))["input"] == [2, 1, 96, 40]


def test_epochs_zero_skips_training_checks_and_says_so(tmp_path: Path) -> None:
    model = (
        HEADER
        + """\
class Prior(nn.Module):
    def __init__(self, num_tags):
        super().__init__()
        self.register_buffer("prior", torch.zeros(num_tags))

    def fit_labels(self, labels):
        self.prior.copy_(labels.mean(dim=0))

    def forward(self, x):
        return torch.logit(self.prior.clamp(0.01, 0.99)).expand(x.shape[0], -1)


def build(num_tags):
    return Prior(num_tags)
"""
    )
    folder = _write(tmp_path, model=model, toml='name = "tiny"\ncrop_frames = 16\n[training]\nepochs = 0\n')
    result = runner.invoke(app, ["submissions", "check", str(folder)])
    assert result.exit_code == 0, result.output
    assert "0 parameters" in result.output and "fit_labels called" in result.output
    assert "no training (epochs = 0): backward and loss-decrease checks skipped" in result.output
    report = check_submission(folder)
    assert report["loss"] is None and report["skipped"] == ["backward pass", "loss decrease"] and report["fit_labels"]


def test_epochs_zero_spec_defaults(tmp_path: Path) -> None:
    spec = read_spec(_write(tmp_path, toml='name = "tiny"\ncrop_frames = 16\n[training]\nepochs = 0\npatience = 3\n'))
    assert not spec.trains and (spec.epochs, spec.optimizer, spec.lr, spec.batch_size) == (0, "adam", 1e-3, 64)
    assert read_spec(paths.submissions_dir() / "vgg6").trains
