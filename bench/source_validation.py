"""How the shipped suites' training budgets were chosen: on source-side validation data only.

Never on a target test split. Prints each curve and writes bench/results/source_validation.json.

  digits    a source classifier trained on MNIST test[:80%] (USPS train[:80%]), scored after each
            epoch on the held-out MNIST test[80%:] (USPS train[80%:]), 16x16 as in suites/digits.toml.
  omniglot  a source classifier trained on the Vinyals *train* characters, then finetune's
            adaptation scored on 5-way episodes of the Vinyals *validation* characters (disjoint
            from the test characters the suite scores), for several adaptation step counts.

    .venv/bin/python bench/source_validation.py [--data-root ../shared/data] [--only digits|omniglot]
"""

import argparse
import json
import time
from pathlib import Path

import torch

from benchmark import Context, TaskSpec, build_classifier, epochs_to_steps, fit
from benchmark.data.loader import DatasetLoader
from benchmark.data.providers import DatasetSpec, InputSpec
from benchmark.discovery.registry import discover
from benchmark.run.cell import predict
from benchmark.scoring import metrics
from benchmark.scoring import tasks as protocol
from plugins.finetune import FineTune

RESULTS = Path(__file__).resolve().parent / "results" / "source_validation.json"


def accuracy(model, data) -> float:
    with torch.no_grad():
        return float((model.eval()(data.inputs).argmax(1) == data.labels).float().mean())


def digits(loader) -> dict:
    shape, curves = InputSpec(1, (16, 16)), {}
    for name, provider, split in (("mnist", "mnist", "test"), ("usps", "usps", "train")):
        train, _ = loader.load(DatasetSpec(provider, f"{split}[:80%]"), shape, name)
        held_out, _ = loader.load(DatasetSpec(provider, f"{split}[80%:]"), shape, name)
        torch.manual_seed(0)
        model, generator = build_classifier(shape.shape, train.num_classes), torch.Generator().manual_seed(0)
        curves[name] = {}
        for epoch in range(1, 21):
            fit(model, train, steps=epochs_to_steps(1, len(train), 64), lr=1e-3, batch_size=64, generator=generator,
                weight_decay=5e-4)
            curves[name][epoch] = accuracy(model, held_out)
            print(f"digits {name}: epoch {epoch:2d}  held-out source accuracy {curves[name][epoch]:.4f}", flush=True)
    return curves


def omniglot(loader, epochs=2, episodes=20, steps=(25, 50, 100)) -> dict:
    shape = InputSpec(1, (28, 28))
    train, _ = loader.load(DatasetSpec("omniglot", "train"), shape, "omniglot train")
    val, _ = loader.load(DatasetSpec("omniglot", "val"), shape, "omniglot val")
    index = protocol.ClassIndex(val)
    torch.manual_seed(0)
    model, generator = build_classifier(shape.shape, train.num_classes), torch.Generator().manual_seed(0)
    results = {}
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        fit(model, train, steps=epochs_to_steps(1, len(train), 64), lr=1e-3, batch_size=64, generator=generator,
            weight_decay=5e-4)
        print(f"omniglot: epoch {epoch} of source training took {time.perf_counter() - started:.0f} s", flush=True)
        for k_shot in (1, 5):
            task = TaskSpec("episodic", shape.shape, train.classes, val.classes, 5, k_shot)
            for n_steps in steps:
                strategy = FineTune(adapt_steps=n_steps)
                strategy.model_ = model  # the source model trained so far (adapt copies it, never changes it)
                scores, started = [], time.perf_counter()
                for t in protocol.episodic_tasks(val, index, 5, k_shot, 15, episodes, seed=0, pair="validation"):
                    ctx = Context(torch.device("cpu"), t.seed, torch.Generator().manual_seed(t.seed), task, Path("."))
                    torch.manual_seed(t.seed)
                    predicted = predict(strategy.adapt(t.support, ctx), t.query_inputs, 5, ctx.device).argmax(1)
                    scores.append(metrics.score(predicted, t.query_labels, 5)["accuracy"])
                mean = sum(scores) / len(scores)
                results[f"epoch {epoch}, 5-way {k_shot}-shot, {n_steps} steps"] = mean
                print(f"omniglot: epoch {epoch}  5-way {k_shot}-shot  finetune {n_steps:3d} steps  "
                      f"val accuracy {mean:.4f}  ({(time.perf_counter() - started) / episodes:.2f} s/episode)",
                      flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data"))
    parser.add_argument("--only", choices=("digits", "omniglot"))
    args = parser.parse_args()
    loader = DatasetLoader(discover(), Path(args.data_root))
    found = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.only in (None, "digits"):
        found["digits"] = digits(loader)
    if args.only in (None, "omniglot"):
        found["omniglot"] = omniglot(loader)
    found["torch_threads"] = torch.get_num_threads()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(found, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
