"""The linear probe is scikit-learn's LogisticRegression(solver="lbfgs") solved to its optimum, on real
features: the same predictions and the same objective for the same C; C cross-validated as documented."""

from pathlib import Path

import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from benchmark.toolkit.probe import C_GRID, FIXED_C, feature_scale, fit_logistic, fit_probe, objective, \
    stratified_folds

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def digits_features():
    """scikit-learn's digits: 64 pixel intensities in [0, 1], 10 classes; first half / second half."""
    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x / 16.0, dtype=torch.float32)
    half = len(x) // 2
    return x[:half], torch.tensor(y[:half]), x[half:], torch.tensor(y[half:])


def spam_features(rows_per_class=250):
    """WordLlama mean-pooled features of real SpamAssassin mail (ham / spam), 256-d; skips when absent."""
    from benchmark.data.text import tokenise
    from plugins.datasets.spamassassin import SpamAssassin
    from plugins.models.static_embedding import StaticEmbeddingModels

    if not (SHARED / "spamassassin" / "20030228_spam.tar.bz2").is_file() or not (SHARED / "wordllama").is_dir():
        pytest.skip(f"needs the SpamAssassin archives and WordLlama under {SHARED} (they ship with ../shared)")
    data = SpamAssassin().load("all", SHARED / "spamassassin")
    rows = torch.cat([torch.nonzero(data.labels == c).flatten()[:2 * rows_per_class] for c in range(2)])
    provider = StaticEmbeddingModels(path="wordllama/l2_supercat_256.safetensors",
                                     tokenizer="wordllama/l2_supercat_tokenizer_config.json", base_dir=str(SHARED))
    tokenizer = provider.tokenizer()
    inputs = tokenise([data.texts[i] for i in rows], tokenizer.tokenizer, 128, tokenizer.pad_id)
    trunk, _ = provider.build()
    with torch.no_grad():
        features = trunk(inputs)  # [N, 256]
    labels = data.labels[rows]
    train = torch.arange(len(rows)) % 2 == 0
    return features[train], labels[train], features[~train], labels[~train]


@pytest.mark.parametrize("features", [digits_features, spam_features], ids=["digits pixels", "spam WordLlama"])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_the_probe_equals_scikit_learns_lbfgs_logistic_regression(features, C):
    x, y, test_x, test_y = features()
    n_classes = int(y.max()) + 1
    weight, bias = fit_logistic(x, y, n_classes, C)
    # scikit-learn fits two classes as one logistic row w (logits (0, w x + b)); ours keeps a row per class,
    # whose optimum is (-w/2, w/2): the same problem once scikit-learn's C is doubled (the penalty on w/2 twice).
    reference = LogisticRegression(C=C if n_classes > 2 else 2 * C, solver="lbfgs", max_iter=20000, tol=1e-10)
    reference.fit(x.double().numpy(), y.numpy())
    ours = (test_x.double() @ weight.T + bias).argmax(1).numpy()
    assert (ours == reference.predict(test_x.double().numpy())).mean() >= 0.995
    coef, intercept = torch.tensor(reference.coef_), torch.tensor(reference.intercept_)
    if n_classes == 2:
        coef, intercept = torch.cat([-coef / 2, coef / 2]), torch.cat([-intercept / 2, intercept / 2])
    reference_objective = objective(coef, intercept, x.double(), y, C).item()
    assert abs(objective(weight, bias, x.double(), y, C).item() - reference_objective) <= 1e-4


def test_the_probe_rescales_features_by_one_factor_and_its_weights_apply_to_the_raw_ones():
    x, y, test_x, _ = digits_features()
    probe = fit_probe(x, y, 10, torch.Generator().manual_seed(0), C=1.0)
    scale = feature_scale(x)
    weight, bias = fit_logistic(x / scale, y, 10, 1.0)
    assert torch.allclose(test_x @ probe.weight.T + probe.bias, (test_x / scale) @ weight.T.float() + bias.float(),
                          atol=1e-3)
    assert probe.notes() == {"C": 1.0, "C_chosen_by": "fixed C = 1 (a hyperparameter: the suite's or a search's)"}


def test_C_is_cross_validated_on_stratified_folds_and_fixed_for_one_shot():
    x, y, test_x, test_y = digits_features()
    folds = stratified_folds(y, 5, torch.Generator().manual_seed(0))
    for c in range(10):  # every class spread over the 5 folds, sizes differing by at most one
        counts = torch.bincount(folds[y == c], minlength=5)
        assert counts.max() - counts.min() <= 1
    probe = fit_probe(x, y, 10, torch.Generator().manual_seed(0))
    assert probe.C in C_GRID and probe.chosen_by.startswith("5-fold stratified cross-validation")
    accuracy = ((test_x @ probe.weight.T + probe.bias).argmax(1) == test_y).float().mean()
    assert accuracy > 0.9  # the digits' pixels are nearly linearly separable (a linear model scores 0.93)
    one_shot = torch.stack([torch.nonzero(y == c)[0, 0] for c in range(10)])
    probe = fit_probe(x[one_shot], y[one_shot], 10, torch.Generator().manual_seed(0))
    assert probe.C == FIXED_C and probe.chosen_by.startswith("fixed C = 1 (a class has 1 labelled example")
    with pytest.raises(ValueError, match="C must be a positive number or \"cv\""):
        fit_probe(x, y, 10, torch.Generator(), C=-1)


def test_a_prior_pulls_the_weights_toward_it_instead_of_zero():
    x, y, *_ = digits_features()
    prior = torch.randn(10, 64, generator=torch.Generator().manual_seed(0))
    weight, _ = fit_logistic(x, y, 10, 1e-8, prior=prior)
    assert torch.allclose(weight.float(), prior, atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_probe_runs_where_the_features_are():
    x, y, *_ = digits_features()
    probe = fit_probe(x.cuda(), y.cuda(), 10, torch.Generator().manual_seed(0), C=1.0)
    assert probe.weight.device.type == "cuda"
    cpu = fit_probe(x, y, 10, torch.Generator().manual_seed(0), C=1.0)
    assert torch.allclose(probe.weight.cpu(), cpu.weight, atol=1e-4)
