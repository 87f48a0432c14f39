from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import BadInputError
from harness.features.stft import SQUARE_SIZES, SquareParams, frame_starts, stft_square


@pytest.mark.parametrize("size", SQUARE_SIZES)
def test_square_shape_and_sizes(size: int) -> None:
    params = SquareParams(size=size)
    assert params.nfft == 2 * (size - 1)
    image = stft_square(torch.randn(22050 * 3), params)
    assert image.shape == (size, size) and image.dtype == torch.float32 and torch.isfinite(image).all()


def test_frames_are_evenly_spaced_and_the_hop_may_exceed_the_window() -> None:
    params = SquareParams(size=129)  # nfft 256
    starts = frame_starts(22050 * 10, params)
    assert starts[0] == 0 and starts[-1] == 22050 * 10 - 256 and len(starts) == 129
    assert np.diff(starts).min() > params.nfft  # 10 s over 129 frames: the frames do not overlap


def test_a_tone_peaks_in_its_bin() -> None:
    params = SquareParams(size=257)  # nfft 512 at 22,050 Hz: 43.07 Hz per bin
    t = np.arange(22050 * 2) / 22050
    image = stft_square(torch.from_numpy(np.sin(2 * np.pi * 2000.0 * t)), params)
    assert int(image.mean(dim=1).argmax()) == round(2000.0 / (22050 / 512))
    # matches numpy's own power spectrum of the first frame
    frame = np.sin(2 * np.pi * 2000.0 * t[:512]) * np.hanning(513)[:512]
    expected = 10 * np.log10(np.maximum(np.abs(np.fft.rfft(frame)) ** 2, 1e-10))
    strong = expected > expected.max() - 40  # float32 against float64: compare the bins that carry the tone
    np.testing.assert_allclose(image[:, 0].numpy()[strong], expected[strong], atol=1e-3)


def test_short_segments_and_bad_sizes_refused() -> None:
    assert stft_square(torch.randn(256), SquareParams(size=129)).shape == (129, 129)  # exactly one window
    with pytest.raises(BadInputError, match="at least 256 samples"):
        stft_square(torch.randn(255), SquareParams(size=129))
    with pytest.raises(BadInputError, match="129, 257, 513, 1025"):
        SquareParams(size=256)


def test_cli_extract(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.random.default_rng(0).normal(0, 0.1, 44100).astype(np.float32), 44100)
    out = tmp_path / "a.npy"
    result = CliRunner().invoke(
        app, ["features", "extract", "--kind", "stft-square", "--size", "513", str(tmp_path / "a.wav"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert np.load(out).shape == (513, 513)
