"""The linear probe solved to its optimum: L2-regularised multinomial logistic regression by L-BFGS,
its strength C chosen by stratified cross-validation within the labelled set.

The protocol of Kornblith, Shlens & Le (2019, "Do Better ImageNet Models Transfer Better?"), VTAB
and CLIP's linear-probe evaluation: a convex problem fitted to convergence, so a probe's score says
what the features hold rather than how long an SGD loop ran. The objective is scikit-learn's
``LogisticRegression(C=C, solver="lbfgs")`` (multinomial, bias not penalised)::

    C * sum_i cross_entropy(W x_i + b, y_i) + 1/2 * ||W - W0||^2

with W0 = 0, or a prior head (e.g. the source classifier's rows: the probe is then pulled toward
the source model rather than toward zero, as L2-SP does for fine-tuning, Li et al. 2018).
Solved in float64 on the features' device (float32 where the device has no float64).
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# C swept by cross-validation: 9 log-spaced values, as Kornblith et al. sweep a log grid (they use 45
# from 1e-6 to 1e5; 9 keep a cell's 5 x 9 fits cheap while spanning the range features' scales need).
C_GRID = tuple(10.0 ** exponent for exponent in range(-4, 5))
FIXED_C = 1.0   # where cross-validation cannot run (fewer than 2 labelled examples of a class): sklearn's default
MAX_FOLDS = 5


@dataclass(frozen=True)
class Probe:
    """A fitted probe: weight [n_classes, D], bias [n_classes] (float32, on the features' device),
    the C it was fitted with and how that C was chosen (a sentence records keep)."""

    weight: torch.Tensor
    bias: torch.Tensor
    C: float
    chosen_by: str

    def linear(self) -> nn.Linear:
        """The probe as an ``nn.Linear(D, n_classes)``."""
        head = nn.Linear(self.weight.shape[1], self.weight.shape[0]).to(self.weight.device)
        with torch.no_grad():
            head.weight.copy_(self.weight)
            head.bias.copy_(self.bias)
        return head

    def notes(self) -> dict:
        """What records say about the probe: its C and how it was chosen."""
        return {"C": self.C, "C_chosen_by": self.chosen_by}


def solver_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64  # MPS has no float64


def objective(weight, bias, features, labels, C: float, prior=None) -> torch.Tensor:
    """scikit-learn's objective divided by C * N (same minimiser, numbers of order 1)."""
    penalty = (weight if prior is None else weight - prior).pow(2).sum()
    return F.cross_entropy(features @ weight.T + bias, labels) + penalty / (2 * C * len(labels))


def fit_logistic(features: torch.Tensor, labels: torch.Tensor, n_classes: int, C: float, *, prior=None,
                 start=None, tolerance: float = 1e-6, max_iter: int = 2000) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight [n_classes, D], bias [n_classes]) minimising the objective above, in the solver's dtype.

    features [N, D], labels [N] int64 in [0, n_classes); ``prior`` [n_classes, D] replaces W0 = 0;
    ``start`` (weight, bias) warm-starts L-BFGS (a C sweep starts each C from the previous optimum);
    ``tolerance`` bounds the gradient's largest entry at the solution (of the objective above).
    """
    dtype = solver_dtype(features.device)
    x = features.to(dtype)
    prior = None if prior is None else prior.to(dtype)
    targets = F.one_hot(labels, n_classes).to(dtype)  # [N, n_classes]
    if start is None:
        weight = torch.zeros(n_classes, x.shape[1], dtype=dtype, device=x.device) if prior is None else prior.clone()
        bias = torch.zeros(n_classes, dtype=dtype, device=x.device)
    else:
        weight, bias = (t.detach().clone().to(dtype) for t in start)
    weight.requires_grad_(True)
    bias.requires_grad_(True)
    # scipy's L-BFGS-B defaults (history 10) as scikit-learn calls it; strong Wolfe line search.
    optimiser = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, history_size=10,
                                  tolerance_grad=tolerance, tolerance_change=1e-12, line_search_fn="strong_wolfe")
    scale = 1.0 / len(labels)

    def closure():  # the gradient in closed form: autograd's bookkeeping would double a small problem's cost
        with torch.no_grad():
            logits = x @ weight.T + bias                       # [N, n_classes]
            log_norm = torch.logsumexp(logits, dim=1)          # [N]
            shift = weight if prior is None else weight - prior
            loss = (log_norm - (logits * targets).sum(1)).mean() + shift.pow(2).sum() * scale / (2 * C)
            residual = (torch.exp(logits - log_norm[:, None]) - targets) * scale  # [N, n_classes]
            weight.grad = residual.T @ x + shift * (scale / C)
            bias.grad = residual.sum(0)
        return loss

    optimiser.step(closure)
    return weight.detach(), bias.detach()


def stratified_folds(labels: torch.Tensor, n_folds: int, generator: torch.Generator) -> torch.Tensor:
    """[N] fold of each row: every class's rows, in an order drawn from ``generator``, dealt round-robin."""
    folds = torch.empty(len(labels), dtype=torch.long)
    cpu_labels = labels.cpu()
    for label in cpu_labels.unique():
        rows = torch.nonzero(cpu_labels == label).flatten()
        rows = rows[torch.randperm(len(rows), generator=generator)]
        folds[rows] = torch.arange(len(rows)) % n_folds
    return folds.to(labels.device)


def cross_validate_C(features, labels, n_classes: int, generator: torch.Generator, grid=C_GRID,
                     prior=None, fitted=None) -> tuple[float | None, str]:
    """(the C of ``grid`` with the best held-out accuracy, ties broken by held-out log-loss; how).

    Stratified k-fold within the labelled set, k = min(5, the rarest class's count); (None, why)
    when a class has fewer than 2 examples. ``fitted(done, total)``, when given, is told after
    each L-BFGS fit how many of the k * len(grid) fits are done.
    """
    rarest = int(torch.bincount(labels, minlength=n_classes).min())
    if rarest < 2:
        return None, f"fixed C = {FIXED_C:g} (a class has {rarest} labelled example: too few to cross-validate)"
    n_folds = min(MAX_FOLDS, rarest)
    folds = stratified_folds(labels, n_folds, generator)
    correct = torch.zeros(len(grid), dtype=torch.float64)
    loss = torch.zeros(len(grid), dtype=torch.float64)
    x = features.to(solver_dtype(features.device))
    fitted = fitted or (lambda done, total: None)
    for fold in range(n_folds):
        train, held = folds != fold, folds == fold
        start = None
        for i, C in enumerate(sorted(grid)):  # strong to weak regularisation, each from the previous optimum
            start = fit_logistic(x[train], labels[train], n_classes, C, prior=prior, start=start, tolerance=1e-5)
            logits = x[held] @ start[0].T + start[1]
            correct[i] += (logits.argmax(1) == labels[held]).sum().item()
            loss[i] += F.cross_entropy(logits, labels[held], reduction="sum").item()
            fitted(fold * len(grid) + i + 1, n_folds * len(grid))
    ordered = sorted(grid)
    best = min(range(len(grid)), key=lambda i: (-correct[i].item(), loss[i].item()))
    return ordered[best], (f"{n_folds}-fold stratified cross-validation on the labelled set over C in "
                           f"{{{', '.join(f'{c:g}' for c in ordered)}}} (held-out accuracy "
                           f"{correct[best].item() / len(labels):.3f})")


def feature_scale(features: torch.Tensor) -> float:
    """The factor that gives the labelled rows a root-mean-square entry of 1 (mean row norm sqrt(D)).

    One number, not per-dimension standardisation: two examples (1-shot) cannot estimate D variances,
    and one factor keeps the features' geometry while making a C mean the same for every model.
    """
    norm = features.float().norm(dim=1).mean().item()
    return norm / features.shape[1] ** 0.5 if norm > 0 else 1.0


def fit_probe(features: torch.Tensor, labels: torch.Tensor, n_classes: int, generator: torch.Generator,
              C: float | str = "cv", prior=None, progress=None) -> Probe:
    """The probe on ``features`` [N, D] with ``labels`` [N] (int64 in [0, n_classes)).

    The features are divided by ``feature_scale`` of the labelled rows first (the returned weight
    applies to the raw features). ``C``: a positive number, or "cv": cross-validated over ``C_GRID``
    (``FIXED_C`` where a class has a single example; ``chosen_by`` says which). ``prior``
    [n_classes, D] (a head on the raw features) replaces W0 = 0. Raises ValueError for another C.
    ``progress`` (e.g. ``ctx.progress``): told the fraction of the L-BFGS fits done, 0 first and
    1.0 last. The unit is a fit, not an iteration: how many iterations a fit takes is known only
    when it converges. With C = "cv" there are k * 9 cross-validation fits and the final one.
    """
    progress = progress or (lambda fraction: None)
    progress(0.0)
    scale = feature_scale(features)
    x = features / scale
    prior = None if prior is None else prior * scale  # the same head on the rescaled features
    if C == "cv":
        chosen, how = cross_validate_C(x, labels, n_classes, generator, prior=prior,
                                       fitted=lambda done, total: progress(done / (total + 1)))
        C = FIXED_C if chosen is None else chosen
    elif isinstance(C, (int, float)) and not isinstance(C, bool) and C > 0:
        C, how = float(C), f"fixed C = {float(C):g} (a hyperparameter: the suite's or a search's)"
    else:
        raise ValueError(f"C must be a positive number or \"cv\", got {C!r}")
    weight, bias = fit_logistic(x, labels, n_classes, C, prior=prior)
    progress(1.0)
    return Probe((weight / scale).float(), bias.float(), C, how)
