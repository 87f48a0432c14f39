"""Tests for the synthetic ``toy`` dataset: determinism, splits, tag rules, audible factors, files."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from dataset_readers import read_metadata
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.datasets.toy import FACTORS, TOY_TAGS, ToyConfig, draw_item, split_sizes, tags_from_factors
from harness.datasets.toy_files import audio_path, generate_toy, toy_is_complete
from harness.datasets.toy_synth import PEAK_CEILING, synthesize
from harness.errors import BadInputError, DataMissingError, FormatError

SMALL = ToyConfig(n_items=12, duration_s=3.0)


def expected_tags(factors: tuple[bool, ...]) -> set[str]:
    """The tag rules, written out again independently of the module."""
    f = dict(zip(FACTORS, factors))
    tags = set()
    if f["fast"] and f["loud"]:
        tags.add("energetic")
    if not f["fast"] and not f["loud"]:
        tags.add("calm")
    if f["major"] and f["fast"]:
        tags.add("happy")
    if not f["major"] and not f["fast"]:
        tags.add("sad")
    if not f["major"] and not f["bright"]:
        tags.add("dark")
    if f["major"] and f["bright"]:
        tags.add("uplifting")
    if f["loud"] and f["percussive"]:
        tags.add("aggressive")
    if not f["loud"] and not f["percussive"]:
        tags.add("relaxing")
    return tags


def rms_db(audio: np.ndarray) -> float:
    audio = audio.astype(np.float64)
    return float(20.0 * np.log10(np.sqrt(np.mean(audio**2))))


def decoded(root: Path, item_id: str) -> tuple[np.ndarray, int]:
    return sf.read(audio_path(root, item_id), dtype="int16")


def items_with(config: ToyConfig, factor: str, value: bool, count: int) -> list:
    chosen = [item for item in (draw_item(config, i) for i in range(config.n_items)) if item.factor(factor) == value]
    assert len(chosen) >= count, f"not enough items with {factor}={value}"
    return chosen[:count]


# ----------------------------------------------------------------------------------------------
# Config


def test_constants() -> None:
    assert TOY_TAGS == ("energetic", "calm", "happy", "sad", "dark", "uplifting", "aggressive", "relaxing")
    assert FACTORS == ("fast", "major", "loud", "bright", "percussive")
    assert ToyConfig() == ToyConfig(
        seed=20261122,
        n_items=400,
        duration_s=30.0,
        sample_rate=12000,
        label_noise=0.03,
        split_fractions=(0.5, 0.25, 0.25),
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"n_items": 0},
        {"n_items": 2},
        {"n_items": 12.0},
        {"seed": -1},
        {"seed": True},
        {"duration_s": 0.0},
        {"duration_s": -3.0},
        {"duration_s": float("nan")},
        {"sample_rate": 0},
        {"sample_rate": 12000.5},
        {"label_noise": -0.01},
        {"label_noise": 0.5},
        {"split_fractions": (0.5, 0.25, 0.2)},
        {"split_fractions": (0.5, 0.5)},
        {"split_fractions": (1.0, 0.0, 0.0)},
        {"split_fractions": (0.9, 0.05, 0.05), "n_items": 5},  # empty validation split
    ],
)
def test_bad_config_raises(changes: dict) -> None:
    with pytest.raises(BadInputError, match="toy config"):
        ToyConfig(**changes)


def test_config_accepts_lists_from_toml() -> None:
    config = ToyConfig(split_fractions=[0.6, 0.2, 0.2], duration_s=10)  # type: ignore[arg-type]
    assert config.split_fractions == (0.6, 0.2, 0.2)
    assert config.duration_s == 10.0
    assert config.as_dict()["split_fractions"] == [0.6, 0.2, 0.2]


def test_draw_item_rejects_bad_index() -> None:
    with pytest.raises(BadInputError):
        draw_item(SMALL, SMALL.n_items)
    with pytest.raises(BadInputError):
        draw_item(SMALL, -1)


# ----------------------------------------------------------------------------------------------
# Drawing: determinism, splits, tags, label noise


def test_draw_item_depends_only_on_seed_and_index() -> None:
    a = ToyConfig(n_items=50, label_noise=0.0)
    b = ToyConfig(n_items=80, label_noise=0.0, duration_s=5.0)
    for i in range(50):
        x, y = draw_item(a, i), draw_item(b, i)
        assert x == draw_item(a, i)
        assert dataclasses.replace(x, split="") == dataclasses.replace(y, split="")
    other_seed = ToyConfig(n_items=50, seed=1)
    assert [draw_item(a, i).factors for i in range(50)] != [draw_item(other_seed, i).factors for i in range(50)]


def test_synthesize_is_deterministic() -> None:
    item = draw_item(SMALL, 3)
    first = synthesize(item, SMALL)
    assert first.dtype == np.float32
    assert first.shape == (36000,)
    assert np.array_equal(first, synthesize(item, SMALL))


def test_length_is_rounded_duration_times_rate() -> None:
    config = ToyConfig(n_items=3, duration_s=1.00004, sample_rate=12000)
    assert synthesize(draw_item(config, 0), config).shape == (12000,)
    config = ToyConfig(n_items=3, duration_s=2.5, sample_rate=16000)
    assert synthesize(draw_item(config, 1), config).shape == (40000,)


@pytest.mark.parametrize("n_items", [3, 10, 12, 13, 400, 401])
def test_split_sizes_are_exact(n_items: int) -> None:
    config = ToyConfig(n_items=n_items)
    counts = Counter(draw_item(config, i).split for i in range(n_items))
    n_validation, n_test = round(n_items * 0.25), round(n_items * 0.25)
    assert counts["validation"] == n_validation
    assert counts["test"] == n_test
    assert counts["train"] == n_items - n_validation - n_test
    assert split_sizes(n_items, config.split_fractions) == (counts["train"], n_validation, n_test)


def test_splits_are_a_seeded_permutation() -> None:
    config = ToyConfig(n_items=40)
    splits = [draw_item(config, i).split for i in range(40)]
    assert splits == [draw_item(config, i).split for i in range(40)]
    assert splits != sorted(splits)  # not blocks of consecutive items
    other = [draw_item(ToyConfig(n_items=40, seed=7), i).split for i in range(40)]
    assert splits != other


def test_every_factor_combination_gets_the_rule_tags() -> None:
    for code in range(2 ** len(FACTORS)):
        factors = tuple(bool(code >> j & 1) for j in range(len(FACTORS)))
        tags = tags_from_factors(factors)
        assert set(tags) == expected_tags(factors)
        assert list(tags) == [t for t in TOY_TAGS if t in tags]  # column order


def test_tags_follow_rules_without_label_noise() -> None:
    config = ToyConfig(n_items=400, label_noise=0.0)
    items = [draw_item(config, i) for i in range(config.n_items)]
    for item in items:
        assert set(item.tags) == expected_tags(item.factors)
        assert item.tags == item.clean_tags
    # every factor takes both values, every tag occurs, and items may have no tag at all
    for j in range(len(FACTORS)):
        assert 0.35 < np.mean([item.factors[j] for item in items]) < 0.65
    assert {tag for item in items for tag in item.tags} == set(TOY_TAGS)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), index=st.integers(0, 99))
def test_tag_rules_hold_for_any_seed(seed: int, index: int) -> None:
    item = draw_item(ToyConfig(seed=seed, n_items=100, label_noise=0.0), index)
    assert set(item.tags) == expected_tags(item.factors)


@settings(max_examples=30, deadline=None)
@given(n_items=st.integers(4, 500), validation=st.floats(0.05, 0.45), test=st.floats(0.05, 0.45))
def test_split_sizes_property(n_items: int, validation: float, test: float) -> None:
    fractions = (1.0 - validation - test, validation, test)
    try:
        config = ToyConfig(n_items=n_items, split_fractions=fractions)
    except BadInputError:
        assert min(split_sizes(n_items, fractions)) < 1
        return
    counts = Counter(draw_item(config, i).split for i in range(n_items))
    assert (counts["train"], counts["validation"], counts["test"]) == split_sizes(n_items, fractions)
    assert counts["validation"] == round(n_items * validation)
    assert counts["test"] == round(n_items * test)


@pytest.mark.parametrize("noise", [0.03, 0.1])
def test_label_noise_rate(noise: float) -> None:
    n_items = 3000
    config = ToyConfig(n_items=n_items, label_noise=noise)
    flips = sum(len(set(item.tags) ^ set(item.clean_tags)) for item in (draw_item(config, i) for i in range(n_items)))
    cells = n_items * len(TOY_TAGS)
    sd = np.sqrt(noise * (1 - noise) / cells)
    assert abs(flips / cells - noise) < 5 * sd


def test_label_noise_changes_only_tags() -> None:
    clean = ToyConfig(n_items=30, label_noise=0.0)
    noisy = ToyConfig(n_items=30, label_noise=0.3)
    for i in range(30):
        a, b = draw_item(clean, i), draw_item(noisy, i)
        assert dataclasses.replace(a, tags=()) == dataclasses.replace(b, tags=())


# ----------------------------------------------------------------------------------------------
# Audible factors (synthesis only, a few short items)

FACTOR_CONFIG = ToyConfig(n_items=64, duration_s=3.0)


def test_loudness_factor_sets_rms_about_19_db_apart() -> None:
    loud = [rms_db(synthesize(item, FACTOR_CONFIG)) for item in items_with(FACTOR_CONFIG, "loud", True, 12)]
    soft = [rms_db(synthesize(item, FACTOR_CONFIG)) for item in items_with(FACTOR_CONFIG, "loud", False, 12)]
    assert 16.5 < np.mean(loud) - np.mean(soft) < 21.0
    assert min(loud) > max(soft) + 10.0
    assert -14.0 < np.mean(loud) < -8.0
    assert -31.5 < np.mean(soft) < -27.0


def test_soft_items_hit_their_target_level() -> None:
    for item in items_with(FACTOR_CONFIG, "loud", False, 6):
        assert abs(rms_db(synthesize(item, FACTOR_CONFIG)) - item.level_dbfs) < 0.1


def test_loudness_of_one_item_flipped() -> None:
    item = items_with(FACTOR_CONFIG, "percussive", False, 1)[0]
    factors = dict(zip(FACTORS, item.factors))
    versions = {}
    for loud, level in ((True, -10.0), (False, -29.0)):
        factors["loud"] = loud
        variant = dataclasses.replace(item, factors=tuple(factors.values()), level_dbfs=level)
        versions[loud] = rms_db(synthesize(variant, FACTOR_CONFIG))
    assert versions[True] - versions[False] == pytest.approx(19.0, abs=1.0)


def high_band_fraction(items: list, config: ToyConfig, cutoff_hz: float = 3000.0) -> float:
    """Energy above ``cutoff_hz`` over total energy, of the spectra averaged over ``items``."""
    spectra = []
    for item in items:
        audio = synthesize(item, config).astype(np.float64)
        power = np.abs(np.fft.rfft(audio)) ** 2
        spectra.append(power / power.sum())
    mean = np.mean(spectra, axis=0)
    freqs = np.fft.rfftfreq(config.n_samples, d=1.0 / config.sample_rate)
    return float(mean[freqs > cutoff_hz].sum())


def test_bright_items_have_more_energy_above_3_khz() -> None:
    bright = high_band_fraction(items_with(FACTOR_CONFIG, "bright", True, 6), FACTOR_CONFIG)
    dark = high_band_fraction(items_with(FACTOR_CONFIG, "bright", False, 6), FACTOR_CONFIG)
    assert bright > 0.02
    assert bright > 100 * dark


def frame_energy_db_std(audio: np.ndarray, frame: int = 256) -> float:
    audio = audio.astype(np.float64)
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    return float(np.std(10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12)))


def test_percussive_items_have_much_larger_frame_energy_variance() -> None:
    percussive = [
        frame_energy_db_std(synthesize(item, FACTOR_CONFIG))
        for item in items_with(FACTOR_CONFIG, "percussive", True, 8)
    ]
    sustained = [
        frame_energy_db_std(synthesize(item, FACTOR_CONFIG))
        for item in items_with(FACTOR_CONFIG, "percussive", False, 8)
    ]
    assert np.mean(percussive) > 3.0 * np.mean(sustained)
    assert min(percussive) > max(sustained)


def pitch_changes_per_second(item, config: ToyConfig, window: int = 1024, hop: int = 256) -> float:
    """How often the strongest partial (rounded to a semitone) moves from frame to frame."""
    audio = synthesize(item, config).astype(np.float64)
    starts = np.arange(0, len(audio) - window, hop)
    frames = audio[starts[:, None] + np.arange(window)[None, :]] * np.hanning(window)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(window, d=1.0 / config.sample_rate)
    band = (freqs > 60.0) & (freqs < 3000.0)
    strongest = freqs[band][np.argmax(power[:, band], axis=1)]
    semitone = np.round(12 * np.log2(strongest / 440.0))
    return float(np.sum(semitone[1:] != semitone[:-1]) / config.duration_s)


def test_tempo_factor_sets_note_density() -> None:
    """Among sustained pieces (drum noise would confuse this pitch tracker), fast ones move more."""
    sustained = [draw_item(FACTOR_CONFIG, i) for i in range(FACTOR_CONFIG.n_items)]
    sustained = [item for item in sustained if not item.factor("percussive")]
    fast = [pitch_changes_per_second(i, FACTOR_CONFIG) for i in sustained if i.factor("fast")][:8]
    slow = [pitch_changes_per_second(i, FACTOR_CONFIG) for i in sustained if not i.factor("fast")][:8]
    assert np.mean(fast) > 3.0 * np.mean(slow)


def test_mode_factor_sets_the_third() -> None:
    """Pitch-class energy: the major third of the key beats the minor third exactly when major."""
    for i in range(24):
        item = draw_item(FACTOR_CONFIG, i)
        audio = synthesize(item, FACTOR_CONFIG).astype(np.float64)
        power = np.abs(np.fft.rfft(audio)) ** 2
        freqs = np.fft.rfftfreq(len(audio), d=1.0 / FACTOR_CONFIG.sample_rate)
        band = (freqs > 80.0) & (freqs < 2500.0)
        pitch_class = np.round(69 + 12 * np.log2(freqs[band] / 440.0)).astype(int) % 12
        chroma = np.bincount(pitch_class, weights=power[band], minlength=12)
        major_third, minor_third = chroma[(item.key + 4) % 12], chroma[(item.key + 3) % 12]
        if item.factor("major"):
            assert major_third > 1.5 * minor_third
        else:
            assert minor_third > 1.5 * major_third


def test_no_clipping() -> None:
    config = ToyConfig(n_items=32, duration_s=3.0)
    for i in range(config.n_items):
        audio = synthesize(draw_item(config, i), config)
        assert np.all(np.isfinite(audio))
        assert np.max(np.abs(audio)) <= PEAK_CEILING < 1.0


# ----------------------------------------------------------------------------------------------
# Files: generation, determinism across workers, resume, reading


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_toy(tmp_path_factory.mktemp("toy") / "root", SMALL, workers=1)


def test_generated_files(generated: Path) -> None:
    assert toy_is_complete(generated, SMALL)
    lines = (generated / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == ["item_id", "split", "tags", *FACTORS]
    assert len(lines) == 1 + SMALL.n_items
    for i, line in enumerate(lines[1:]):
        item = draw_item(SMALL, i)
        assert line.split("\t") == [
            item.item_id,
            item.split,
            ",".join(item.tags),
            *("1" if f else "0" for f in item.factors),
        ]
        info = sf.info(str(audio_path(generated, item.item_id)))
        assert (info.format, info.subtype, info.samplerate, info.channels, info.frames) == (
            "FLAC",
            "PCM_16",
            12000,
            1,
            36000,
        )
    assert sorted(p.name for p in (generated / "audio").iterdir()) == [f"toy-{i:04d}.flac" for i in range(12)]
    manifest = json.loads((generated / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config"] == SMALL.as_dict()
    assert manifest["tags"] == list(TOY_TAGS)
    assert "generator_version" in manifest and "metadata_sha256" in manifest


def test_flac_matches_synthesis(generated: Path) -> None:
    for i in (0, 5, 11):
        item = draw_item(SMALL, i)
        audio, rate = sf.read(audio_path(generated, item.item_id), dtype="float32")
        assert rate == 12000
        assert np.max(np.abs(audio - synthesize(item, SMALL))) <= 1.0 / 32768 + 1e-7


def test_read_metadata(generated: Path) -> None:
    records = read_metadata(generated)
    assert [r.item_id for r in records] == [f"toy-{i:04d}" for i in range(12)]
    for i, record in enumerate(records):
        item = draw_item(SMALL, i)
        assert (record.split, record.tags, record.factors) == (item.split, item.tags, item.factors)
        assert record.factor("loud") == item.factor("loud")


def test_generation_is_deterministic_and_independent_of_workers(generated: Path, tmp_path: Path) -> None:
    other = generate_toy(tmp_path / "other", SMALL, workers=2)
    assert (other / "metadata.tsv").read_bytes() == (generated / "metadata.tsv").read_bytes()
    assert (other / "manifest.json").read_bytes() == (generated / "manifest.json").read_bytes()
    for i in range(SMALL.n_items):
        a, _ = decoded(generated, f"toy-{i:04d}")
        b, _ = decoded(other, f"toy-{i:04d}")
        assert np.array_equal(a, b)


def test_complete_dataset_returns_at_once(generated: Path) -> None:
    calls: list[tuple[int, int]] = []
    before = {p.name: p.stat().st_mtime_ns for p in (generated / "audio").iterdir()}
    generate_toy(generated, SMALL, on_item=lambda done, total: calls.append((done, total)))
    assert calls == []
    assert before == {p.name: p.stat().st_mtime_ns for p in (generated / "audio").iterdir()}


def test_progress_is_reported_per_item(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    config = ToyConfig(n_items=5, duration_s=1.0)
    generate_toy(tmp_path, config, on_item=lambda done, total: calls.append((done, total)), workers=1)
    assert calls == [(k, 5) for k in range(1, 6)]


def test_resume_after_interruption(tmp_path: Path) -> None:
    root = generate_toy(tmp_path / "root", SMALL, workers=1)
    reference, _ = decoded(root, "toy-0004")
    audio_path(root, "toy-0004").unlink()
    (root / "manifest.json").unlink()
    assert not toy_is_complete(root, SMALL)
    with pytest.raises(DataMissingError):
        read_metadata(root)
    kept = {p.name: p.stat().st_mtime_ns for p in (root / "audio").iterdir()}

    calls: list[tuple[int, int]] = []
    generate_toy(root, SMALL, on_item=lambda done, total: calls.append((done, total)), workers=1)
    assert toy_is_complete(root, SMALL)
    assert calls == [(11, 12), (12, 12)]  # the kept files at once, then the missing one
    for name, mtime in kept.items():
        assert (root / "audio" / name).stat().st_mtime_ns == mtime
    again, _ = decoded(root, "toy-0004")
    assert np.array_equal(again, reference)


def test_other_config_in_same_root_regenerates(tmp_path: Path) -> None:
    first = ToyConfig(n_items=6, duration_s=1.0)
    second = ToyConfig(n_items=4, duration_s=1.0, seed=5)
    root = generate_toy(tmp_path, first, workers=1)
    assert not toy_is_complete(root, second)
    generate_toy(root, second, workers=1)
    assert toy_is_complete(root, second) and not toy_is_complete(root, first)
    assert sorted(p.name for p in (root / "audio").glob("*.flac")) == [f"toy-{i:04d}.flac" for i in range(4)]
    expected = synthesize(draw_item(second, 2), second)
    audio, _ = sf.read(audio_path(root, "toy-0002"), dtype="float32")
    assert np.max(np.abs(audio - expected)) <= 1.0 / 32768 + 1e-7


def test_tag_list_must_match_the_generator(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="registry"):
        generate_toy(tmp_path, SMALL, tags=TOY_TAGS[::-1])
    with pytest.raises(BadInputError):
        generate_toy(tmp_path, SMALL, tags=TOY_TAGS[:-1])
    assert not (tmp_path / "audio").exists()


def test_read_metadata_on_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="harness datasets prepare toy"):
        read_metadata(tmp_path)
    assert not toy_is_complete(tmp_path, SMALL)


def test_read_metadata_detects_edits(tmp_path: Path) -> None:
    config = ToyConfig(n_items=3, duration_s=1.0)
    root = generate_toy(tmp_path, config, workers=1)
    path = root / "metadata.tsv"
    path.write_text(path.read_text(encoding="utf-8").replace("\t0\t", "\t1\t", 1), encoding="utf-8")
    with pytest.raises(FormatError):
        read_metadata(root)
    assert not toy_is_complete(root, config)
