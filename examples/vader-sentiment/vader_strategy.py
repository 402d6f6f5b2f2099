"""vader: VADER's lexicon and rules (Hutto & Gilbert 2014, the ``vaderSentiment`` package), zero-shot.

A strategy that reads raw texts (``wants_texts = True``): the runner hands its predictor the
queries' strings, never token ids, and still scores the predictions itself. It learns nothing:
the support set's labels are not read, so every budget scores the same (a zero-shot row).

The task's classes must be sentiment names: "negative" and "positive", with "neutral" or not.
Each text's compound score c (in [-1, 1]) becomes the scores negative = -c - t, positive = c - t,
neutral = 0: the paper's rule (c >= t positive, c <= -t negative, else neutral; t = 0.05) as an
argmax, and for two classes the sign of c.

Caution when citing: VADER's lexicon and rules were developed and validated by the authors who
rated the VADER ground-truth snippets (tweets, NYT, movie and Amazon snippets); a score on those
files is not a held-out estimate.
"""

import torch

from benchmark import NotApplicable, Strategy, hookimpl

SENTIMENTS = ("negative", "neutral", "positive")


class Vader(Strategy):
    name = "vader"
    description = "VADER sentiment lexicon and rules (vaderSentiment), zero-shot on the raw texts."
    citation = """@inproceedings{hutto2014vader,
  title = {{VADER}: A Parsimonious Rule-based Model for Sentiment Analysis of Social Media Text},
  author = {Hutto, C. J. and Gilbert, Eric},
  booktitle = {Proceedings of the Eighth International AAAI Conference on Weblogs and Social Media},
  pages = {216--225},
  year = {2014}
}"""
    wants_texts = True
    modalities = frozenset({"text"})
    protocols = frozenset({"transfer"})  # episodes rename classes 0..N-1: no sentiment names to read

    def __init__(self, threshold=0.05):
        self.threshold = threshold

    def adapt(self, support, ctx):
        unknown = [c for c in support.classes if c not in SENTIMENTS]
        if unknown:
            raise NotApplicable(f"vader scores sentiment; the task's classes {unknown[:5]} are not among "
                                f"{', '.join(SENTIMENTS)}")
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        analyzer, threshold, classes = SentimentIntensityAnalyzer(), self.threshold, support.classes

        def predict(texts) -> torch.Tensor:  # [N] raw texts -> [N, n_classes] scores
            compound = torch.tensor([analyzer.polarity_scores(text)["compound"] for text in texts])  # [N]
            by_name = {"negative": -compound - threshold, "neutral": torch.zeros_like(compound),
                       "positive": compound - threshold}
            return torch.stack([by_name[name] for name in classes], dim=1)

        return predict


@hookimpl
def transferbench_strategies():
    return [Vader]
