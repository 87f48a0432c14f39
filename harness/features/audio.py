"""Audio decoding with soundfile: mono float32 at a target sample rate (torchaudio resampling)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from harness.errors import FormatError


def load_audio(path: Path, sample_rate: int) -> torch.Tensor:
    """Decode ``path`` (WAV, FLAC, OGG, MP3 through libsndfile) to a mono float32 tensor at ``sample_rate``.

    Channels are averaged; other rates are resampled with torchaudio's band-limited sinc resampler.
    """
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise FormatError(f"{path}: cannot decode audio ({exc}); re-download or remove the file") from exc
    if data.size == 0:
        raise FormatError(f"{path}: the audio file is empty")
    mono = torch.from_numpy(np.ascontiguousarray(data.mean(axis=1)))
    if rate != sample_rate:
        mono = AF.resample(mono, orig_freq=int(rate), new_freq=int(sample_rate))
    return mono
