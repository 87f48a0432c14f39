"""Audio decoding with soundfile (libsndfile: WAV, FLAC, OGG, MP3), mono float32; torchaudio resampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torchaudio.functional as AF

from harness.errors import FormatError


def decode_audio(path: Path) -> tuple[torch.Tensor, int]:
    """Decode ``path`` to a mono float32 tensor (channels averaged) and its sample rate.

    An unreadable, truncated or empty file raises FormatError naming it.
    """
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise FormatError(f"{path}: cannot decode audio ({exc}); re-download or remove the file") from exc
    if data.size == 0:
        raise FormatError(f"{path}: the audio file is empty (no samples)")
    return torch.from_numpy(np.ascontiguousarray(data.mean(axis=1))), int(rate)


def resample(mono: torch.Tensor, rate: int, target: int) -> torch.Tensor:
    """torchaudio's band-limited sinc resampler, where the tensor lives (CPU or GPU)."""
    return mono if rate == target else AF.resample(mono, orig_freq=int(rate), new_freq=int(target))


def load_audio(path: Path, sample_rate: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Decode ``path`` and resample it to ``sample_rate`` (resampling on ``device``)."""
    mono, rate = decode_audio(path)
    return resample(mono.to(device), rate, sample_rate)
