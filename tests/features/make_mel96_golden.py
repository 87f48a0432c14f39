"""Make ``tests/fixtures/mel96_golden.npz``: Essentia's MTG-Jamendo mel-spectrogram of a test signal.

The golden values come from Essentia itself, configured exactly as the dataset's own script
(``scripts/melspectrograms.py`` of MTG/mtg-jamendo-dataset, function ``melspectrogram``) does:

- audio: mono float32 at 12,000 Hz (the signal below is made at 12 kHz, so no resampling is involved);
- ``FrameGenerator(audio, frameSize=512, hopSize=256, startFromZero=False)`` (centred frames);
- ``Windowing(type='hann', normalized=False, zeroPadding=0)``, then ``Spectrum()`` (magnitude);
- ``MelBands(numberBands=96, sampleRate=12000, lowFrequencyBound=0, highFrequencyBound=6000,
  inputSize=257, weighting='linear', normalize='unit_tri', warpingFormula='slaneyMel', type='power')``;
- ``UnaryOperator(type='lin2db', scale=2)``; frames stacked and transposed to (96, frames).

The test signal (2.5 s + 77 samples, so its length is not a multiple of the hop) has a chirp from
200 Hz to 2.2 kHz, a 1 kHz tone, white noise, a stretch of digital silence (it exercises the
-200 dB floor) and a stretch of very quiet noise (the low end of the dynamic range).

Run (needs ``pip install essentia``; made with essentia 2.1b6.dev1389 on Linux x86-64):
``python tests/features/make_mel96_golden.py``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 12000
OUT = Path(__file__).resolve().parents[1] / "fixtures" / "mel96_golden.npz"


def test_signal() -> np.ndarray:
    rng = np.random.default_rng(20261122)
    n = int(2.5 * SAMPLE_RATE) + 77
    t = np.arange(n) / SAMPLE_RATE
    x = 0.3 * np.sin(2 * np.pi * (200 * t + 400 * t**2)) + 0.2 * np.sin(2 * np.pi * 1000 * t)
    x += 0.05 * rng.standard_normal(n)
    x[int(0.8 * SAMPLE_RATE) : int(1.0 * SAMPLE_RATE)] = 0.0
    x[int(1.6 * SAMPLE_RATE) : int(1.9 * SAMPLE_RATE)] = 1e-5 * rng.standard_normal(int(0.3 * SAMPLE_RATE))
    return x.astype(np.float32)


def essentia_mel(audio: np.ndarray) -> np.ndarray:
    import essentia
    from essentia.standard import FrameGenerator, MelBands, Spectrum, UnaryOperator, Windowing

    windowing = Windowing(type="hann", normalized=False, zeroPadding=0)
    spectrum = Spectrum()
    melbands = MelBands(
        numberBands=96,
        sampleRate=SAMPLE_RATE,
        lowFrequencyBound=0,
        highFrequencyBound=SAMPLE_RATE / 2,
        inputSize=512 // 2 + 1,
        weighting="linear",
        normalize="unit_tri",
        warpingFormula="slaneyMel",
        type="power",
    )
    amp2db = UnaryOperator(type="lin2db", scale=2)
    pool = essentia.Pool()
    for frame in FrameGenerator(audio, frameSize=512, hopSize=256, startFromZero=False):
        pool.add("mel", amp2db(melbands(spectrum(windowing(frame)))))
    return pool["mel"].T


def main() -> None:
    import essentia

    audio = test_signal()
    mel = essentia_mel(audio).astype(np.float32)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, audio=audio, mel=mel, essentia_version=np.array(essentia.__version__))
    print(
        f"{OUT}: audio {audio.shape}, mel {mel.shape}, range {mel.min():.1f}..{mel.max():.1f} dB, essentia {essentia.__version__}"
    )


if __name__ == "__main__":
    main()
