from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from harness.datasets.base import AudioSource
from harness.errors import FormatError
from harness.features.extract import cut_segment, extract_many


def test_cut_segment_by_seconds() -> None:
    wave = torch.arange(12000 * 3, dtype=torch.float32)
    part = cut_segment(wave, AudioSource("a", Path("x"), 1.0, 2.5), 12000)
    assert part[0] == 12000 and part.shape[0] == 18000
    assert cut_segment(wave, AudioSource("a", Path("x")), 12000) is wave
    assert cut_segment(wave, AudioSource("a", Path("x"), 2.0, 9.0), 12000).shape[0] == 12000  # clipped at the end
    with pytest.raises(FormatError, match="outside"):
        cut_segment(wave, AudioSource("a", Path("x"), 4.0, 5.0), 12000)


def test_segments_equal_features_of_the_cut_audio(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.normal(size=36000)).astype(np.float32)
    sf.write(tmp_path / "song.wav", audio, 12000)
    sf.write(tmp_path / "middle.wav", audio[6000:30000], 12000)
    got = dict(extract_many([AudioSource("seg", tmp_path / "song.wav", 0.5, 2.5), ("whole", tmp_path / "middle.wav")]))
    np.testing.assert_allclose(got["seg"], got["whole"], atol=1e-3)
