from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from harness.datasets.base import AudioSource
from harness.errors import FormatError
from harness.features import extract
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


def test_consecutive_segments_of_a_song_share_one_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sf.write(tmp_path / "song.wav", (0.1 * np.random.default_rng(0).normal(size=36000)).astype(np.float32), 12000)
    (tmp_path / "bad.wav").write_bytes(b"not a wav file")
    decoded: list[str] = []
    real_load = extract.load_audio
    monkeypatch.setattr(extract, "load_audio", lambda path, *args: decoded.append(path.name) or real_load(path, *args))
    song, bad = tmp_path / "song.wav", tmp_path / "bad.wav"
    sources = [
        AudioSource("a", song, 0.0, 1.0), AudioSource("b", song, 1.0, 2.0),
        AudioSource("x", bad, 0.0, 1.0), AudioSource("y", bad, 1.0, 2.0),
        AudioSource("c", song, 2.0, 3.0),
    ]  # fmt: skip
    items = {item.item_id: item for item in extract.extract_sources(sources)}
    assert sorted(decoded) == ["bad.wav", "song.wav", "song.wav"]  # once per run of sources of one file
    assert [items[i].features is None for i in "abxyc"] == [False, False, True, True, False]
    assert "bad.wav: cannot decode audio" in items["x"].reason and items["x"].reason == items["y"].reason
