"""The linear probe's cost per cell against scikit-learn doing the same on the same cached features.

Real features: WordLlama l2_supercat_256 mean-pooled over SpamAssassin mail (../shared/data), the
frozen-feature cells of suites/spam-drift.toml. In a run a trunk's features are computed once per
model and dataset (benchmark.models.features), so a cell's cost is the probe: C cross-validated
over the grid (5-fold stratified) and the final fit, then the head applied to the test features.
scikit-learn does the same work: LogisticRegressionCV over the same C grid on the same folds'
sizes, then predict. Both single-threaded-equal: the same torch threads and BLAS.
Goal: ours / scikit-learn <= 1.1 per cell. Also a single fit at fixed C, and the feature pass.

    .venv/bin/python bench/probe_cost.py            # -> bench/results/probe_cost.json
"""

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import REPO, machine, parser, write  # noqa: E402

from benchmark.data.text import tokenise  # noqa: E402
from benchmark.toolkit.probe import C_GRID, feature_scale, fit_logistic, fit_probe  # noqa: E402
from benchmark.toolkit.training import forward_in_batches  # noqa: E402

SHARED = REPO.parent / "shared" / "data"


def spam_features():
    """(train features [N, 256], labels, test features, test labels, seconds of the feature pass)."""
    from plugins.datasets.spamassassin import SpamAssassin
    from plugins.models.static_embedding import StaticEmbeddingModels

    provider = StaticEmbeddingModels(path="wordllama/l2_supercat_256.safetensors",
                                     tokenizer="wordllama/l2_supercat_tokenizer_config.json", base_dir=str(SHARED))
    tokenizer = provider.tokenizer()
    trunk, _ = provider.build()
    data = SpamAssassin({"ham": ["easy_ham_2"], "spam": ["spam_2"]}).load("all", SHARED / "spamassassin")
    ids = tokenise(list(data.texts), tokenizer.tokenizer, 128, tokenizer.pad_id)
    started = time.perf_counter()
    features = forward_in_batches(trunk.eval(), ids)  # [2796, 256]
    feature_s = time.perf_counter() - started
    pool = torch.arange(len(ids)) % 2 == 0
    return features[pool], data.labels[pool], features[~pool], data.labels[~pool], feature_s


def support_of(labels, k, seed):
    generator = torch.Generator().manual_seed(seed)
    if k is None:
        return torch.arange(len(labels))
    return torch.cat([torch.nonzero(labels == c).flatten()[torch.randperm(int((labels == c).sum()),
                                                                          generator=generator)[:k]]
                      for c in range(2)])


def ours(x, y, test_x, seed):
    probe = fit_probe(x, y, 2, torch.Generator().manual_seed(seed))
    return (test_x @ probe.weight.T + probe.bias).argmax(1)


def sklearn_cv(x, y, test_x, seed):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    scale = feature_scale(x)  # the same rescaled features ours solves on
    folds = min(5, int(torch.bincount(y).min()))
    model = LogisticRegressionCV(Cs=list(C_GRID), cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                                 scoring="accuracy", l1_ratios=(0.0,), use_legacy_attributes=False, max_iter=1000)
    model.fit((x / scale).double().numpy(), y.numpy())
    return model.predict((test_x / scale).double().numpy())


def best_of(repeats, function, *args):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    arguments = parser(__doc__.splitlines()[0]).parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    started_on = machine()
    x_all, y_all, test_x, test_y, feature_s = spam_features()
    print(f"feature pass over 2,796 mails (once per model and dataset in a run): {feature_s:.2f} s")
    rows = []
    ours(x_all[:20], y_all[:20], test_x, 0)  # warm-up: first calls pay for torch's lazy initialisation
    for k in (5, 20, 100, None):
        support = support_of(y_all, k, 0)
        x, y = x_all[support], y_all[support]
        repeats = 3 if k is not None else 1
        ours_s = best_of(repeats, ours, x, y, test_x, 0)
        sklearn_s = best_of(repeats, sklearn_cv, x, y, test_x, 0)
        agree = float(np.mean(ours(x, y, test_x, 0).numpy() == sklearn_cv(x, y, test_x, 0)))
        row = {"k": k or "all", "rows": len(y), "ours_s": round(ours_s, 3), "sklearn_cv_s": round(sklearn_s, 3),
               "ratio": round(ours_s / sklearn_s, 3), "prediction_agreement": round(agree, 4)}
        rows.append(row)
        print(f"k = {row['k']:>3} ({len(y):>4} rows): ours {ours_s:.3f} s, scikit-learn CV {sklearn_s:.3f} s, "
              f"ratio {row['ratio']:.2f}, predictions agree on {agree:.1%} of the test mails")
    x = x_all / feature_scale(x_all)
    single_ours = best_of(3, fit_logistic, x, y_all, 2, 1.0)
    from sklearn.linear_model import LogisticRegression
    single_sklearn = best_of(3, lambda: LogisticRegression(C=2.0).fit(x.double().numpy(), y_all.numpy()))
    print(f"one fit at C = 1 on all {len(y_all)} pool mails: ours {single_ours:.3f} s, scikit-learn "
          f"{single_sklearn:.3f} s, ratio {single_ours / single_sklearn:.2f}")
    total_ours = sum(r["ours_s"] for r in rows)
    total_sklearn = sum(r["sklearn_cv_s"] for r in rows)
    print(f"per cell, summed over the four budgets: ours {total_ours:.2f} s, scikit-learn {total_sklearn:.2f} s, "
          f"ratio {total_ours / total_sklearn:.2f} (goal <= 1.1)")
    write("probe_cost", {"feature_pass_s": round(feature_s, 3), "cells": rows,
                         "single_fit": {"ours_s": round(single_ours, 3), "sklearn_s": round(single_sklearn, 3)},
                         "ratio_summed": round(total_ours / total_sklearn, 3), "goal": 1.1},
          "python bench/probe_cost.py", started_on)


if __name__ == "__main__":
    main()
