"""The MediaEval naive baselines as submissions: popular, random and tag-frequency (epochs = 0, no parameters)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.metrics.official import official_scores
from harness.submissions import check_submission, count_parameters, load_submission


def _popular(num_tags: int = 4) -> torch.nn.Module:
    return load_submission("popular").build(num_tags).eval()


def _labels(counts: list[int], items: int = 10) -> torch.Tensor:
    """A float32 (items x tags) 0/1 matrix whose column j has counts[j] positives."""
    labels = torch.zeros(items, len(counts))
    for tag, count in enumerate(counts):
        labels[:count, tag] = 1.0
    return labels


@pytest.mark.parametrize("name", ["popular", "random", "tag-frequency"])
def test_no_training_and_no_parameters(name: str) -> None:
    submission = load_submission(name)
    spec = submission.spec
    assert spec.epochs == 0 and not spec.trains
    assert spec.feature == "mel96" and spec.crop_frames <= 1280
    assert count_parameters(submission.build(56)) == 0
    assert (
        "Bogdanov" in spec.citation
        and "MediaEval 2019: Emotion and Theme Recognition in Music Using Jamendo" in spec.citation
    )
    readme = (submission.path / "README.md").read_text(encoding="utf-8")
    assert "MediaEval 2019: Emotion and Theme Recognition in Music Using Jamendo" in readme


@pytest.mark.parametrize("name", ["popular", "random", "tag-frequency"])
def test_check_skips_training_checks(name: str) -> None:
    report = check_submission(name)
    assert report["parameters"] == 0 and report["loss"] is None
    assert report["skipped"] == ["backward pass", "loss decrease"]
    assert report["fit_labels"] == (name in ("popular", "tag-frequency"))


def test_popular_picks_the_most_frequent_tag() -> None:
    model = _popular()
    model.fit_labels(_labels([2, 3, 7, 1]))
    scores = torch.sigmoid(model(torch.randn(5, 1, 96, 64)))
    assert torch.equal(scores, torch.tensor([[0.0, 0.0, 1.0, 0.0]] * 5))


def test_popular_takes_the_first_on_ties() -> None:
    model = _popular()
    model.fit_labels(_labels([2, 6, 1, 6]))
    assert model.popular_tag == 1
    model.fit_labels(_labels([0, 0, 0, 0]))  # refitting replaces the previous fit
    assert model.popular_tag == 0


def test_popular_scores_are_constant_whatever_the_input() -> None:
    model = _popular()
    model.fit_labels(_labels([1, 4, 2, 0]))
    a = model(torch.randn(3, 1, 96, 64))
    b = model(torch.full((3, 1, 96, 256), 50.0))
    assert torch.equal(a, b) and torch.isfinite(a).all() and a.dtype == torch.float32
    assert (a == a[0]).all()


def test_popular_roc_auc_macro_is_one_half() -> None:
    rng = np.random.default_rng(0)
    labels = rng.random((50, 4)) < 0.3
    model = _popular()
    model.fit_labels(torch.as_tensor(labels, dtype=torch.float32))
    scores = torch.sigmoid(model(torch.zeros(50, 1, 96, 8))).numpy()
    assert official_scores(labels, scores).values["ROC-AUC-macro"] == 0.5


def test_popular_needs_fit_labels_and_checks_its_shape() -> None:
    model = _popular()
    with pytest.raises(RuntimeError, match="fit_labels"):
        model(torch.zeros(1, 1, 96, 8))
    with pytest.raises(ValueError, match="labels must be"):
        model.fit_labels(torch.zeros(10, 3))


def test_popular_fit_is_carried_by_the_state_dict() -> None:
    fitted = _popular()
    fitted.fit_labels(_labels([0, 1, 0, 5]))
    fresh = _popular()
    fresh.load_state_dict(fitted.state_dict())
    assert fresh.popular_tag == 3
    assert torch.equal(fresh(torch.zeros(2, 1, 96, 8)), fitted(torch.zeros(2, 1, 96, 8)))


def _random(num_tags: int = 6) -> torch.nn.Module:
    return load_submission("random").build(num_tags).eval()


def test_random_scores_are_in_the_open_unit_interval_and_vary_per_item() -> None:
    torch.manual_seed(0)
    logits = _random()(torch.zeros(200, 1, 96, 8))
    assert logits.shape == (200, 6) and torch.isfinite(logits).all()
    scores = torch.sigmoid(logits)
    assert ((scores > 0) & (scores < 1)).all()
    assert len(torch.unique(scores[:, 0])) == 200  # every item its own score
    assert not torch.equal(scores[0], scores[1])
    assert abs(float(scores.mean()) - 0.5) < 0.05  # uniform on (0, 1)


def test_random_is_reproducible_under_manual_seed_and_ignores_input_values() -> None:
    model = _random()
    noise, constant = torch.randn(4, 1, 96, 8), torch.full((4, 1, 96, 8), 123.0)
    torch.manual_seed(7)
    a = model(noise)
    torch.manual_seed(7)
    b = model(constant)
    assert torch.equal(a, b)
    torch.manual_seed(8)
    assert not torch.equal(a, model(torch.zeros(4, 1, 96, 8)))


def test_random_logits_are_finite_at_the_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.rand can return exactly 0.0; the clamp keeps the logit finite."""
    model = _random(2)
    monkeypatch.setattr(torch, "rand", lambda *shape, **kwargs: torch.tensor([[0.0, 1.0 - 2.0**-24]]))
    logits = model(torch.zeros(1, 1, 96, 8))
    assert torch.isfinite(logits).all() and logits[0, 0] < -16 and logits[0, 1] > 16


def test_tag_frequency_gives_each_tag_its_training_share() -> None:
    model = load_submission("tag-frequency").build(4).eval()
    model.fit_labels(_labels([5, 0, 10, 2]))
    scores = torch.sigmoid(model(torch.zeros(3, 1, 96, 256)))
    expected = torch.tensor([0.5, 1e-7, 1 - 1e-7, 0.2])
    assert torch.allclose(scores, expected.expand(3, 4), atol=1e-6)


def test_tag_frequency_matches_the_task_script_random_on_the_metrics() -> None:
    """Against an independent reimplementation of baseline_naive.py's predict_random (np.tile of the shares)."""
    rng = np.random.default_rng(3)
    train = rng.random((200, 6)) < np.array([0.05, 0.1, 0.2, 0.3, 0.4, 0.5])
    test = rng.random((80, 6)) < 0.25
    model = load_submission("tag-frequency").build(6).eval()
    model.fit_labels(torch.as_tensor(train, dtype=torch.float32))
    ours = torch.sigmoid(model(torch.zeros(80, 1, 96, 256))).numpy()
    theirs = np.tile(train.sum(axis=0) / len(train), (80, 1))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert official_scores(test, ours).values["ROC-AUC-macro"] == 0.5
