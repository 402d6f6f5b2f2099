"""A cell's per-example test predictions, kept so that a metric added later needs no retraining.

What the runner scored a cell from, for its T tasks (a transfer cell: T = 1, its test split in the
split's own order; an episodic cell: its E episodes, in order) of Q queries over C classes:

    labels       [T, Q]     the true labels (uint8, int16 or int32: the smallest that holds C)
  kind "scores" (C <= TOPK_ABOVE):
    scores       [T, Q, C]  float16: the predictor's scores as it returned them (logits, for the built-ins)
  kind "topk" (C > TOPK_ABOVE):
    top_classes  [T, Q, K]  the K = TOPK highest-scoring classes, the runner's decision first, then by score
    top_scores   [T, Q, K]  float16: their scores
    logsumexp    [T, Q]     float32: log sum_c exp(score_c) over all C, so the K classes' softmax
                            probabilities stay what they were (``dense`` spreads the rest evenly)

Float16 keeps 11 significant bits (a logit of 7.3 to within 0.004). Rounding never reorders two
scores but may tie them; where a float16 row's first maximum is not the runner's decision (the
float32 argmax), the decision's score is raised one float16 step, so the argmax of what is stored
is the runner's decision, always, and accuracy, macro-F1 and every class's recall are reproduced
exactly. Threshold-free metrics (AUROC, ECE) are reproduced to float16 rounding. Scores beyond
+-65472 (one step inside float16's range, so a raised score stays finite) are clipped to it.

The bytes are safetensors (no pickle; deterministic: the same predictions give the same file and
the same sha256), with ``kind``, C and the class names in the header's metadata.
"""

import json
from dataclasses import dataclass

import numpy as np

TOPK_ABOVE = 20  # more classes than this: only the top TOPK are kept
TOPK = 5
FLOAT16_LIMIT = float(np.nextafter(np.float16(65504), np.float16(0)))  # 65472: room for one raise
METADATA_KEY = "transferbench.predictions"  # the header's metadata: {"kind", "num_classes", "classes"} as JSON


@dataclass(frozen=True)
class Predictions:
    """What a cell's tasks were scored from (module docstring); arrays as stored, shapes [T, Q, ...]."""

    kind: str                      # "scores" or "topk"
    labels: np.ndarray             # [T, Q] unsigned / signed int
    num_classes: int               # C
    classes: tuple = ()            # transfer: the C class names, in label order; episodic: () (renumbered)
    scores: np.ndarray | None = None       # kind "scores": [T, Q, C] float16
    top_classes: np.ndarray | None = None  # kind "topk": [T, Q, K] int16 / int32
    top_scores: np.ndarray | None = None   # kind "topk": [T, Q, K] float16
    logsumexp: np.ndarray | None = None    # kind "topk": [T, Q] float32

    @property
    def tasks(self) -> int:
        return int(self.labels.shape[0])

    @property
    def examples(self) -> int:
        """Scored examples over all tasks: T x Q."""
        return int(self.labels.size)

    def dense(self) -> np.ndarray:
        """Scores [T, Q, C] float32, what a metric reads. ``topk``: each row has its K stored scores and,
        for every other class, one value that gives the row its stored log-sum-exp (the probability
        left over, shared evenly), kept below the row's top score so its argmax is the decision."""
        if self.kind == "scores":
            return self.scores.astype(np.float32)
        top = self.top_scores.astype(np.float32)                                # [T, Q, K]
        lse = self.logsumexp.astype(np.float64)[..., None]                       # [T, Q, 1]
        left = 1.0 - np.exp(top.astype(np.float64) - lse).sum(axis=-1, keepdims=True)  # probability not in the top K
        others = self.num_classes - top.shape[-1]
        rest = lse + np.log(np.maximum(left, np.finfo(np.float64).tiny) / max(others, 1))
        rest = np.minimum(rest.astype(np.float32), np.nextafter(top[..., :1], np.float32(-np.inf)))
        dense = np.broadcast_to(rest, (*top.shape[:-1], self.num_classes)).copy()
        np.put_along_axis(dense, self.top_classes.astype(np.int64), top, axis=-1)
        return dense

    def to_bytes(self) -> bytes:
        """The safetensors file's bytes: deterministic for the same predictions."""
        from safetensors.numpy import save

        arrays = {"labels": self.labels}
        if self.kind == "scores":
            arrays["scores"] = self.scores
        else:
            arrays.update(top_classes=self.top_classes, top_scores=self.top_scores, logsumexp=self.logsumexp)
        # One metadata key: safetensors keeps metadata in a hash map, whose order could differ run to run.
        described = json.dumps({"kind": self.kind, "num_classes": self.num_classes, "classes": list(self.classes)},
                               sort_keys=True, ensure_ascii=False)
        return save({name: np.ascontiguousarray(array) for name, array in arrays.items()},
                    metadata={METADATA_KEY: described})

    @classmethod
    def from_bytes(cls, data: bytes) -> "Predictions":
        """Read back what ``to_bytes`` wrote. :raises ValueError: not a predictions file."""
        from safetensors.numpy import load

        try:
            arrays = load(data)
            header_len = int.from_bytes(data[:8], "little")  # safetensors: u64 header size, then the JSON header
            described = json.loads(json.loads(data[8:8 + header_len])["__metadata__"][METADATA_KEY])
            kind, num_classes, classes = described["kind"], int(described["num_classes"]), tuple(described["classes"])
        except Exception as error:  # safetensors raises its own error types
            raise ValueError(f"not a predictions file ({type(error).__name__}: {error})") from None
        return cls(kind, arrays["labels"], num_classes, classes, arrays.get("scores"), arrays.get("top_classes"),
                   arrays.get("top_scores"), arrays.get("logsumexp"))


def label_dtype(num_classes: int):
    """The smallest integer type safetensors stores that holds labels 0..num_classes-1."""
    return np.uint8 if num_classes <= 256 else np.int16 if num_classes <= 32768 else np.int32


def to_float16(scores: np.ndarray, decided: np.ndarray) -> np.ndarray:
    """``scores`` [..., C] float32 as float16 whose argmax (the first maximum) is ``decided`` [...]:
    clipped to +-FLOAT16_LIMIT, and the decision raised one float16 step where rounding tied it."""
    half = np.clip(scores, -FLOAT16_LIMIT, FLOAT16_LIMIT).astype(np.float16)
    tied = half.argmax(axis=-1) != decided                                    # rows where rounding made a tie
    winner = np.take_along_axis(half, decided[..., None], axis=-1)            # [..., 1]
    raised = np.where(tied[..., None], np.nextafter(winner, np.float16(np.inf)), winner)
    np.put_along_axis(half, decided[..., None], raised, axis=-1)
    return half


def from_scores(scores: np.ndarray, labels: np.ndarray, classes=()) -> Predictions:
    """Predictions from the runner's float32 ``scores`` [T, Q, C] and ``labels`` [T, Q] int.

    ``classes``: the C class names (transfer), or () where labels are renumbered per episode.
    The runner's decision is ``scores.argmax(-1)`` (torch and numpy both take the first maximum).
    """
    scores = np.asarray(scores, dtype=np.float32)
    num_classes = scores.shape[-1]
    decided = scores.argmax(axis=-1)                                                  # [T, Q]
    labels = np.asarray(labels).astype(label_dtype(num_classes))
    if num_classes <= TOPK_ABOVE:
        return Predictions("scores", labels, num_classes, tuple(classes), scores=to_float16(scores, decided))
    # The decision first, then the other classes by score (a stable sort: equal scores keep class order).
    others = np.where(np.arange(num_classes) == decided[..., None], -np.inf, scores)
    rest = np.argsort(-others, axis=-1, kind="stable")[..., :TOPK - 1]
    top_classes = np.concatenate([decided[..., None], rest], axis=-1)                # [T, Q, K]
    top = np.take_along_axis(scores, top_classes, axis=-1)
    wide = scores.astype(np.float64)
    peak = wide.max(axis=-1, keepdims=True)
    logsumexp = (peak + np.log(np.exp(wide - peak).sum(axis=-1, keepdims=True)))[..., 0]  # [T, Q]
    return Predictions("topk", labels, num_classes, tuple(classes),
                       top_classes=top_classes.astype(np.int16 if num_classes <= 32768 else np.int32),
                       top_scores=to_float16(top, np.zeros(decided.shape, dtype=np.int64)),
                       logsumexp=logsumexp.astype(np.float32))
