"""The ``stft-square`` feature: the square power spectrogram of the CNN-on-spectrogram papers.

Recipe: mono audio at ``sample_rate`` (22,050 Hz by default), FFT size ``nfft = 2 (K - 1)`` with a
Hann window of the same length, so ``K = nfft / 2 + 1`` frequency bins; ``K`` frames whose starts
are evenly spaced over the whole segment, ``round(linspace(0, n - nfft, K))`` (so the hop may
exceed the window and frames may not overlap); the power ``|STFT|^2``, log-compressed as
``10 * log10(max(x, 1e-10))``. The result is a ``K x K`` image (bins x frames); ``K`` is one of 129,
257 (the default, the papers' choice for CAL500exp), 513 (CAL500) or 1025. A segment shorter than
one window has no full frame and is refused (``prepare`` reports and skips it).

``K`` belongs to the dataset: its registry's ``[protocol] square_size`` (one of :data:`SQUARE_SIZES`)
sets the image every stft-square run on it uses, and a submission's ``crop_frames`` may only repeat
it (see :mod:`harness.submissions`). Registries import this module to check ``square_size``, so it
imports torch only where a spectrogram is computed: reading a registry stays free of torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

from harness.errors import BadInputError

if TYPE_CHECKING:
    import torch

SQUARE_SIZES: tuple[int, ...] = (129, 257, 513, 1025)
"""The sizes ``K`` of the ``K x K`` image: ``nfft = 2 (K - 1)`` is a power of two (256 .. 2048)."""


@dataclass(frozen=True)
class SquareParams:
    size: int = 257
    sample_rate: int = 22050
    floor: float = 1e-10

    def __post_init__(self) -> None:
        if self.size not in SQUARE_SIZES:
            raise BadInputError(f"stft-square size {self.size}: expected one of {', '.join(map(str, SQUARE_SIZES))}")

    @property
    def nfft(self) -> int:
        return 2 * (self.size - 1)

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "nfft": self.nfft}


def frame_starts(n_samples: int, params: SquareParams) -> np.ndarray:
    """Starts of the ``K`` evenly spaced frames over a segment of ``n_samples``."""
    return np.rint(np.linspace(0, max(n_samples - params.nfft, 0), params.size)).astype(np.int64)


def stft_square(waveform: torch.Tensor, params: SquareParams = SquareParams()) -> torch.Tensor:
    """A mono waveform ``(samples,)`` to a ``(K, K)`` log power spectrogram (bins x frames), float32."""
    if waveform.ndim != 1:
        raise BadInputError(f"stft-square expects a mono waveform (samples,), got shape {tuple(waveform.shape)}")
    return stft_square_batch([waveform], params)[0]


def stft_square_batch(
    waveforms: Sequence[torch.Tensor] | torch.Tensor, params: SquareParams = SquareParams()
) -> torch.Tensor:
    """Mono waveforms of any lengths (each at least ``nfft`` samples) to ``(N, K, K)`` images in one FFT."""
    import torch  # here, not at the top: registries import this module for SQUARE_SIZES

    frames = []
    for waveform in waveforms:
        signal = waveform.float()
        if signal.shape[-1] < params.nfft:
            raise BadInputError(
                f"stft-square of size {params.size} needs at least {params.nfft} samples, got {signal.shape[-1]}"
            )
        starts = torch.as_tensor(frame_starts(signal.shape[-1], params), device=signal.device)
        frames.append(signal[starts[:, None] + torch.arange(params.nfft, device=signal.device)[None, :]])  # (K, nfft)
    stacked = torch.stack(frames)  # (N, K frames, nfft)
    window = torch.hann_window(params.nfft, periodic=True, device=stacked.device)
    power = torch.fft.rfft(stacked * window, dim=-1).abs().pow(2)  # (N, K frames, K bins)
    return (10.0 * torch.log10(torch.clamp(power, min=params.floor))).transpose(1, 2).contiguous()
