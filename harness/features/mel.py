"""The ``mel96`` feature: the MTG-Jamendo mel-spectrogram recipe, computed with torchaudio.

Recipe (as DESIGN.md and the dataset's Essentia script define it): mono audio at 12 kHz, frames of
512 samples with a hop of 256 (46.875 frames per second), Hann window, centred frames, power
spectrum, 96 mel bands on the Slaney scale from 0 Hz to 6 kHz with unit-area (Slaney-normalised)
triangles, then ``20 * log10(max(x, 1e-30))`` as Essentia's ``lin2db`` with scale 2 computes it.
Output: float32 array of shape (96, frames).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torchaudio


@dataclass(frozen=True)
class MelParams:
    sample_rate: int = 12000
    n_fft: int = 512
    hop_length: int = 256
    n_mels: int = 96
    f_min: float = 0.0
    f_max: float = 6000.0
    floor: float = 1e-30

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


MEL96 = MelParams()


class Mel96(torch.nn.Module):
    """Waveforms ``(..., samples)`` at 12 kHz to dB mel-spectrograms ``(..., 96, frames)``."""

    def __init__(self, params: MelParams = MEL96) -> None:
        super().__init__()
        self.params = params
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=params.sample_rate,
            n_fft=params.n_fft,
            win_length=params.n_fft,
            hop_length=params.hop_length,
            f_min=params.f_min,
            f_max=params.f_max,
            n_mels=params.n_mels,
            window_fn=torch.hann_window,
            power=2.0,
            center=True,
            pad_mode="constant",  # Essentia's FrameCutter pads with zeros,
            norm="slaney",
            mel_scale="slaney",
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        power = self.mel(waveform.float())
        return 20.0 * torch.log10(torch.clamp(power, min=self.params.floor))


def n_frames(n_samples: int, params: MelParams = MEL96) -> int:
    """Frames a centred STFT yields for ``n_samples`` samples."""
    return n_samples // params.hop_length + 1
