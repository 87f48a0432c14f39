"""mel96 agrees with the MTG-Jamendo Essentia script on the same 12 kHz audio (golden file).

``tests/fixtures/mel96_golden.npz`` was made once by ``tests/features/make_mel96_golden.py`` with
Essentia itself (its docstring lists the recipe's parameters). Essentia is not a dependency of the
harness, so this test compares against the stored values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from harness.features.mel import MEL96, Mel96, n_frames

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "mel96_golden.npz"
TOLERANCE_DB = 0.05  # "a small fraction of a dB"; measured: 0.02 dB at worst, in a quiet band


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def test_same_frames_as_essentia(golden: dict[str, np.ndarray]) -> None:
    audio, mel = golden["audio"], golden["mel"]
    assert len(audio) % MEL96.hop_length != 0  # the case where Essentia adds a frame past the end
    ours = Mel96()(torch.from_numpy(audio)).numpy()
    assert ours.shape == mel.shape == (96, n_frames(len(audio)))


def test_within_a_small_fraction_of_a_db(golden: dict[str, np.ndarray]) -> None:
    ours = Mel96()(torch.from_numpy(golden["audio"])).numpy()
    diff = np.abs(ours - golden["mel"])
    assert diff.max() < TOLERANCE_DB, (
        f"max |difference| {diff.max():.4f} dB at {np.unravel_index(diff.argmax(), diff.shape)}"
    )
    assert diff.mean() < 0.005


def test_silence_is_floored_like_essentia(golden: dict[str, np.ndarray]) -> None:
    ours = Mel96()(torch.from_numpy(golden["audio"])).numpy()
    silent = golden["mel"] <= -199.999
    assert silent.any()  # the golden signal has digital silence
    np.testing.assert_allclose(ours[silent], -200.0, atol=1e-4)
    assert ours.min() >= -200.0


def test_the_periodic_window_would_not_agree(golden: dict[str, np.ndarray]) -> None:
    """The test can fail: torch's default (periodic) Hann window is off by far more than the tolerance."""
    import torchaudio

    transform = torchaudio.transforms.MelSpectrogram(
        sample_rate=12000,
        n_fft=512,
        hop_length=256,
        n_mels=96,
        f_min=0.0,
        f_max=6000.0,
        power=2.0,
        center=True,
        pad_mode="constant",
        norm="slaney",
        mel_scale="slaney",
    )
    audio = torch.nn.functional.pad(torch.from_numpy(golden["audio"]), (0, -len(golden["audio"]) % 256))
    periodic = (20 * torch.log10(torch.clamp(transform(audio), min=1e-10))).numpy()
    assert np.abs(periodic - golden["mel"]).max() > 10 * TOLERANCE_DB


def test_batched_and_padded_items_equal_single_items(golden: dict[str, np.ndarray]) -> None:
    """Zero padding after an item's end leaves its frames unchanged, so batches of unequal items can be padded."""
    audio = torch.from_numpy(golden["audio"])
    short = audio[: 12000 + 5]
    batch = torch.stack([audio, torch.nn.functional.pad(short, (0, len(audio) - len(short)))])
    out = Mel96()(batch)
    alone = Mel96()(short)
    np.testing.assert_allclose(out[1, :, : alone.shape[-1]].numpy(), alone.numpy(), atol=1e-4)
