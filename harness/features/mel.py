"""The ``mel96`` feature: the MTG-Jamendo mel-spectrogram recipe, computed with torchaudio.

Recipe (the dataset's own script, ``scripts/melspectrograms.py`` of MTG/mtg-jamendo-dataset, with
Essentia): mono audio at 12 kHz, frames of 512 samples with a hop of 256 (46.875 frames per second),
centred frames (``FrameGenerator(startFromZero=False)``), Essentia's Hann window, which is the
*symmetric* one (``0.5 - 0.5 cos(2 pi n / (N - 1))``, torch's ``periodic=False``), magnitude
spectrum squared (``MelBands(type='power')``), 96 mel bands on the Slaney scale from 0 Hz to 6 kHz
with unit-area triangles linear in Hz (``warpingFormula='slaneyMel'``, ``weighting='linear'``,
``normalize='unit_tri'``), then ``UnaryOperator(type='lin2db', scale=2)``.

Two details of Essentia that the recipe must copy to agree with it (tests/features/test_mel96_golden.py):

- Frame count: Essentia's centred frame cutter emits ``ceil(n / 256) + 1`` frames for ``n`` samples
  (a last frame centred past the end when ``n`` is not a multiple of the hop), one more than a
  centred STFT's ``n // 256 + 1``; so the waveform is zero-padded to a multiple of the hop first,
  which changes no other frame (centring pads with zeros too).
- Floor: Essentia's ``lin2db`` returns -100 dB below 1e-10 (``SILENCE_CUTOFF``), so with ``scale=2``
  the output is ``20 * log10(max(x, 1e-10))``, floored at -200 dB. (DESIGN.md wrote ``1e-30``; the
  dataset's features, which the store also imports, have -200 dB silences, so the harness follows
  Essentia.)

On the same 12 kHz audio this agrees with Essentia 2.1-beta6 to within 0.03 dB (golden test).
Resampling differs: the script decodes with ``MonoLoader(sampleRate=12000, resampleQuality=4)``
(libsamplerate's fastest, linear-interpolation converter), while the harness resamples with
torchaudio's band-limited sinc filter; from 44.1 kHz audio the two differ near 6 kHz and in the
top mel bands by more than the golden tolerance, so features extracted here from MP3s are close
to, not identical with, the published ``melspecs``.
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
    floor: float = 1e-10

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


MEL96 = MelParams()


def _symmetric_hann(length: int) -> torch.Tensor:
    """Essentia's Hann window (symmetric), not torch's default periodic one."""
    return torch.hann_window(length, periodic=False)


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
            window_fn=_symmetric_hann,
            power=2.0,
            center=True,
            pad_mode="constant",  # Essentia's FrameCutter pads with zeros,
            norm="slaney",
            mel_scale="slaney",
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(..., samples)`` to ``(..., 96, n_frames(samples))``; zeros after an item's end change nothing."""
        hop = self.params.hop_length
        padded = torch.nn.functional.pad(waveform.float(), (0, -waveform.shape[-1] % hop))
        power = self.mel(padded)
        return 20.0 * torch.log10(torch.clamp(power, min=self.params.floor))


def n_frames(n_samples: int, params: MelParams = MEL96) -> int:
    """Frames of ``n_samples`` samples, as Essentia's centred frame cutter counts them: ``ceil(n / hop) + 1``."""
    return -(-n_samples // params.hop_length) + 1
