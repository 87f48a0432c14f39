"""`read_spec`: every field of submission.toml has a TOML type, checked as read, nothing converted silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import FormatError
from harness.submissions import MAX_CROP_FRAMES, is_valid_name, read_spec

BASE = {
    "name": '"tiny"',
    "authors": '["A"]',
    "crop_frames": "32",
    "external_data": "false",
    "lr": "1e-3",
    "batch_size": "4",
    "epochs": "2",
}


def _spec_file(tmp_path: Path, **fields: str) -> Path:
    values = {**BASE, **fields}
    top = [f"{key} = {values[key]}" for key in ("name", "authors", "crop_frames", "external_data")]
    text = (
        "\n".join(top)
        + f"\n[optimizer]\nlr = {values['lr']}\n[training]\nbatch_size = {values['batch_size']}\nepochs = {values['epochs']}\n"
    )
    (tmp_path / "submission.toml").write_text(text)
    return tmp_path


def test_the_base_spec_reads(tmp_path: Path) -> None:
    spec = read_spec(_spec_file(tmp_path))
    assert (spec.name, spec.authors, spec.crop_frames, spec.external_data, spec.lr, spec.epochs) == (
        "tiny",
        ("A",),
        32,
        False,
        1e-3,
        2,
    )


def test_an_integer_learning_rate_is_a_number(tmp_path: Path) -> None:
    assert read_spec(_spec_file(tmp_path, lr="1")).lr == 1.0


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("epochs", "inf", "training.epochs must be a TOML integer"),
        ("epochs", "2.5", "got 2.5 (a float)"),
        ("epochs", "false", "got false (a boolean)"),
        ("batch_size", '"4"', "got the string '4'"),
        ("crop_frames", str(MAX_CROP_FRAMES + 1), f"at most {MAX_CROP_FRAMES}"),
        ("crop_frames", "1e12", "crop_frames must be a TOML integer"),
        ("lr", "nan", "optimizer.lr must be a finite TOML number"),
        ("lr", '"fast"', "got the string 'fast'"),
        ("external_data", '"false"', "external_data must be a TOML boolean"),
        ("external_data", "1", "external_data must be a TOML boolean"),
        ("authors", '"A"', "authors must be a list of strings"),
        ("name", '"../x"', "invalid submission name '../x'"),
        ("name", "3", "name must be a TOML string"),
    ],
)
def test_a_field_of_the_wrong_type_is_one_format_error(tmp_path: Path, field: str, value: str, needle: str) -> None:
    folder = _spec_file(tmp_path, **{field: value})
    with pytest.raises(FormatError) as caught:
        read_spec(folder)
    assert caught.value.message.startswith(f"{folder / 'submission.toml'}: ") and needle in caught.value.message


def test_the_crop_bound_is_an_hour_of_mel96_frames() -> None:
    assert MAX_CROP_FRAMES == 168_750  # 3600 s x 46.875 frames per second


@pytest.mark.parametrize("name", ["vgg6", "my-cnn", "my_model.v2", "x" * 64])
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["", "..", "a/b", "../x", "A", "x" * 65, "a b", "-a"])
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)
