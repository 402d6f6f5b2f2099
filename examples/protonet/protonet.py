"""Prototypical networks (Snell, Swersky and Zemel, NeurIPS 2017), as a transferbench strategy.

The worked example of docs/strategies.md: it pretrains an embedding on episodes of the
source (or starts from the pair's pretrained model, ``ctx.model``), reports its progress,
stores what it learned in the pretrain cache, and classifies each query by the nearest
class mean ("prototype") of the support embeddings. No package needed:

    transferbench check protonet --plugin examples/protonet/protonet.py
    transferbench run suites/quickstart.toml --plugin examples/protonet/protonet.py --strategies protonet
"""

import torch
from torch import nn

from benchmark import NotApplicable, Strategy


class ProtoNet(Strategy):
    name = "protonet"
    description = "Prototypical networks: episodic metric learning, nearest class mean of embeddings."
    citation = """@inproceedings{snell2017prototypical,
  title = {Prototypical Networks for Few-shot Learning},
  author = {Snell, Jake and Swersky, Kevin and Zemel, Richard},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2017}
}"""
    # A pair with a [model] and no source starts from the model's trunk: pretrain(None, ctx).
    needs_source = False
    quick_hparams = {"episodes": 3}  # `check` runs in seconds with these

    def __init__(self, episodes=2000, ways=5, shots=5, queries=5, lr=1e-3, width=32):
        self.episodes = episodes  # source episodes to train on (0: keep the initial embedding)
        self.ways, self.shots, self.queries = ways, shots, queries  # of each source episode
        self.lr = lr
        self.width = width        # channels of the own backbone's convolutions

    def embedding(self, ctx) -> nn.Module:
        """A fresh embedding on ctx.device: a copy of the pair's pretrained trunk, else a small CNN."""
        if ctx.model is not None:
            return ctx.model.trunk().to(ctx.device)       # inputs -> [N, D]; a copy we may train
        if ctx.task.modality != "image":
            raise NotApplicable("its own backbone reads images; this pair has texts and no [model]")
        channels = ctx.task.input_shape[0]
        return nn.Sequential(                              # [N, C, H, W] -> [N, width * 16]
            nn.Conv2d(channels, self.width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(self.width, self.width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
            nn.Flatten()).to(ctx.device)                   # layers draw from torch's seeded generator

    def pretrain(self, source, ctx):
        self.embedding_ = self.embedding(ctx)
        if source is not None and self.episodes:
            self.train_on_episodes(source, ctx)
        self.embedding_.eval()

    def train_on_episodes(self, source, ctx):
        by_class = [torch.nonzero(source.labels.cpu() == c).flatten() for c in range(source.num_classes)]
        usable = [rows for rows in by_class if len(rows) >= self.shots + self.queries]
        ways = min(self.ways, len(usable))
        if ways < 2:
            raise ValueError(f"protonet: the source has {len(usable)} classes with {self.shots + self.queries} "
                             f"examples; an episode needs 2")
        optimiser = torch.optim.Adam(self.embedding_.parameters(), lr=self.lr)
        for episode in range(self.episodes):
            # Every draw from ctx.generator (a CPU generator): indices are drawn on CPU, then moved.
            classes = torch.randperm(len(usable), generator=ctx.generator)[:ways]
            rows = torch.stack([usable[c][torch.randperm(len(usable[c]), generator=ctx.generator)
                                          [:self.shots + self.queries]] for c in classes.tolist()])
            inputs = source.inputs[rows.flatten().to(ctx.device)]          # [ways * (shots + queries), ...]
            features = self.embedding_(inputs).view(ways, self.shots + self.queries, -1)
            prototypes = features[:, :self.shots].mean(1)                  # [ways, D]
            queries = features[:, self.shots:].reshape(ways * self.queries, -1)
            targets = torch.arange(ways, device=ctx.device).repeat_interleave(self.queries)
            loss = nn.functional.cross_entropy(-torch.cdist(queries, prototypes) ** 2, targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            ctx.progress((episode + 1) / self.episodes)    # the runner's and check's progress display

    # The pretrain cache: the runner stores this once per (strategy, hyperparameters, source, seed)
    # and restores it in a fresh instance instead of pretraining again.
    def pretrained_state(self):
        return {"embedding": self.embedding_.state_dict()}

    def load_pretrained_state(self, state, ctx):
        self.embedding_ = self.embedding(ctx)
        self.embedding_.load_state_dict(state["embedding"])
        self.embedding_.eval()

    def adapt(self, support, ctx):
        self.check_pretrained("embedding_")
        embedding = self.embedding_
        with torch.no_grad():                               # adapt learns nothing: the embedding stays
            features = embedding(support.inputs)            # [S, D]
            one_hot = nn.functional.one_hot(support.labels, support.num_classes).float()
            prototypes = (one_hot.T @ features) / one_hot.sum(0)[:, None]  # [n_classes, D]

        def predictor(inputs):                              # [Q, ...] -> [Q, n_classes]
            with torch.no_grad():
                return -torch.cdist(embedding(inputs), prototypes) ** 2
        return predictor
