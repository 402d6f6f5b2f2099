"""tfidf: TF-IDF word n-grams + logistic regression, the classic text-classification baseline.

scikit-learn's ``TfidfVectorizer`` (word uni- and bigrams, sublinear term frequency, as in
Wang & Manning 2012's strong linear baselines) and ``LogisticRegression`` (L-BFGS, multinomial).
It reads the raw texts (``wants_texts``), not a model's token ids, so it needs no pretrained
model and shows what a bag of words alone does on the pair.

``train_on`` says what it learns from:
    "support"          the labelled target support alone (a target-only baseline of another kind);
    "source"           the source alone, applied to the target as is (a source-only baseline);
    "source+support"   the union (S+T).
The last two need a shared label space (every target class a source class, by name).
``C``: "cv" cross-validates the L2 strength over benchmark.toolkit.probe.C_GRID: on the
source (training-domain validation) when the source is trained on, else within the support
(stratified folds, as frozen-feature's probe); a fixed C = 1 where a class has one example.
The record's ``adapt_notes`` say which C and how.
"""

import numpy as np
import torch

from benchmark import C_GRID, FIXED_C, MAX_FOLDS, NotApplicable, Strategy, hookimpl

TRAIN_ON = ("support", "source", "source+support")


def choose_C(texts, labels: np.ndarray, C, ngram_max: int, seed: int) -> tuple[float, str]:
    """(C, how it was chosen): ``C`` itself when a number, else stratified k-fold CV over C_GRID."""
    if C != "cv":
        if isinstance(C, bool) or not isinstance(C, (int, float)) or C <= 0:
            raise ValueError(f"C must be a positive number or \"cv\", got {C!r}")
        return float(C), f"fixed C = {float(C):g} (a hyperparameter: the suite's or a search's)"
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline

    rarest = int(np.bincount(labels).min() if len(labels) else 0)
    if rarest < 2:
        return FIXED_C, f"fixed C = {FIXED_C:g} (a class has {rarest} labelled example: too few to cross-validate)"
    folds = min(MAX_FOLDS, rarest)
    search = LogisticRegressionCV(Cs=list(C_GRID), cv=StratifiedKFold(folds, shuffle=True, random_state=seed % 2**32),
                                  scoring="accuracy", l1_ratios=(0.0,), use_legacy_attributes=False, max_iter=1000)
    # The vectorizer inside each fold would be purer; fitted on all the labelled texts it sees no label.
    make_pipeline(vectorizer(ngram_max), search).fit(list(texts), labels)
    return float(np.ravel(search.C_)[0]), (f"{folds}-fold stratified cross-validation over C in "
                                 f"{{{', '.join(f'{c:g}' for c in C_GRID)}}}")


def vectorizer(ngram_max: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, ngram_max), sublinear_tf=True, strip_accents="unicode")


class TextClassifier:
    """Scores [N, n_support_classes] of raw texts: the logistic regression's decision values."""

    def __init__(self, pipeline, columns: list[int]):
        self.pipeline, self.columns = pipeline, columns

    def __call__(self, texts) -> torch.Tensor:
        values = self.pipeline.decision_function(list(texts))
        if values.ndim == 1:  # two classes: one margin d, as scores (-d/2, d/2)
            values = np.stack([-values / 2, values / 2], axis=1)
        return torch.tensor(values[:, self.columns], dtype=torch.float32)


class TfIdf(Strategy):
    name = "tfidf"
    description = "TF-IDF word n-grams + logistic regression (scikit-learn) on the raw texts of the source, support or both."
    citation = """@inproceedings{wang2012baselines,
  title = {Baselines and Bigrams: Simple, Good Sentiment and Topic Classification},
  author = {Wang, Sida and Manning, Christopher D.},
  booktitle = {Proceedings of the 50th Annual Meeting of the Association for Computational Linguistics},
  pages = {90--94},
  year = {2012}
}"""
    wants_texts = True
    modalities = frozenset({"text"})
    needs_source = False  # "support" needs none; the others say so when the pair has none

    def __init__(self, train_on="support", ngram_max=2, C="cv"):
        self.train_on = train_on
        self.ngram_max = ngram_max
        self.C = C

    def pretrain(self, source, ctx):
        if self.train_on not in TRAIN_ON:
            raise ValueError(f"train_on must be one of {', '.join(TRAIN_ON)}, got {self.train_on!r}")
        self.source_ = None
        if self.train_on == "support":
            return
        if source is None:
            raise NotApplicable(f"tfidf with train_on = \"{self.train_on}\" needs a source split; this pair has none")
        missing = [c for c in ctx.task.target_classes if c not in source.classes]
        if missing:
            raise NotApplicable(f"tfidf with train_on = \"{self.train_on}\" needs a shared label space; target "
                                f"classes {missing[:5]} are not source classes")
        labels = source.labels.cpu().numpy()
        self.source_ = (list(source.texts), labels, source.classes)
        self.C_, self.C_how_ = choose_C(source.texts, labels, self.C, self.ngram_max, ctx.seed)
        self.C_how_ += " on the source (training-domain validation)" if self.C == "cv" else ""
        if self.train_on == "source":
            self.model_ = self.fit(source.texts, labels, self.C_)

    def fit(self, texts, labels, C: float):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        return make_pipeline(vectorizer(self.ngram_max), LogisticRegression(C=C, max_iter=1000)).fit(list(texts), labels)

    def adapt(self, support, ctx):
        self.check_pretrained("source_")
        labels = support.labels.cpu().numpy()
        if self.train_on == "support":
            C, how = choose_C(support.texts, labels, self.C, self.ngram_max, ctx.seed)
            self.notes_ = {"C": C, "C_chosen_by": how + (" on the support" if self.C == "cv" else "")}
            return TextClassifier(self.fit(support.texts, labels, C), list(range(support.num_classes)))
        texts, source_labels, classes = self.source_
        rows = [classes.index(c) for c in support.classes]  # support class i is source class rows[i]
        self.notes_ = {"C": self.C_, "C_chosen_by": self.C_how_}
        if self.train_on == "source":
            return TextClassifier(self.model_, rows)  # the support is deliberately ignored
        union = self.fit(texts + list(support.texts), np.concatenate([source_labels, np.array(rows)[labels]]), self.C_)
        return TextClassifier(union, rows)

    def adapt_notes(self):
        return dict(getattr(self, "notes_", {}))


@hookimpl
def transferbench_strategies():
    return [TfIdf]
