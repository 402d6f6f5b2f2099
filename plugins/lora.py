"""lora: low-rank adapters on the frozen pretrained trunk (Hu et al. 2022), through ``peft``.

pretrain is finetune's (a model's trunk as it is without a source split, or trained on the
source). adapt takes a fresh copy of that trunk, injects new LoRA adapters with
``peft.inject_adapter_in_model(LoraConfig(...))`` (fresh per adapt call: A drawn from the
cell's seed, B = 0, so training starts from exactly the pretrained function) and trains only
the adapters and a new linear head; the base weights and BatchNorm statistics never change
(``plugins/parameter_efficient.py``). peft's LoRA wraps ``nn.Linear`` and ``nn.Conv2d``
(torchvision and timm convolutional and linear layers) and the attention projections of
transformers models (e.g. ``target_modules = ["q_proj", "v_proj"]`` for ViT in transformers 5; "query", "value" in 4.x).

Hyperparameters (defaults): finetune's (backbone=None, pretrain_epochs=20, pretrain_lr=1e-3,
adapt_steps=100, adapt_lr=1e-3, batch_size=64, weight_decay=5e-4: the same adaptation budget, so
lora and finetune differ only in what moves), and
    rank=8, alpha=16        LoRA's r and scaling alpha (update = alpha / r * B A), common defaults
    dropout=0.0             dropout on the adapters' input
    target_modules=None     module names (peft matches full names or name suffixes); None: every
                            nn.Linear and every ungrouped nn.Conv2d of the trunk
None is tuned on target data.
"""

import copy

import optuna.distributions as D
from torch import nn

from benchmark import fit, hookimpl
from plugins.finetune import FineTune
from plugins.parameter_efficient import FrozenNorms, trainable_only


def adaptable_layers(trunk: nn.Module) -> list[str]:
    """Names of every nn.Linear, nn.Embedding and ungrouped nn.Conv2d (peft's LoRA has no grouped convolutions).
    On a static token embedding (text) LoRA is a low-rank update of the embedding matrix, B A [V, D]."""
    return [name for name, module in trunk.named_modules()
            if isinstance(module, (nn.Linear, nn.Embedding)) or (isinstance(module, nn.Conv2d) and module.groups == 1)]


def with_lora(trunk: nn.Module, rank: int, alpha: float, dropout: float, target_modules) -> nn.Module:
    """``trunk`` (changed in place: pass a copy) with new LoRA adapters; only the adapters are trainable."""
    from peft import LoraConfig, inject_adapter_in_model

    targets = list(target_modules) if target_modules else adaptable_layers(trunk)
    if not targets:
        raise ValueError("strategy 'lora': the trunk has no nn.Linear, nn.Embedding or nn.Conv2d layer to adapt")
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets)
    trunk = inject_adapter_in_model(config, trunk)
    if not trainable_only(trunk, lambda name: "lora_" in name):
        raise ValueError(f"strategy 'lora': target_modules {targets} matched no layer of the trunk")
    return trunk


class LoRA(FineTune):
    name = "lora"
    description = "Low-rank adapters (peft LoRA) on the frozen pretrained trunk, with a new head."
    citation = """@inproceedings{hu2022lora,
  title = {{LoRA}: Low-Rank Adaptation of Large Language Models},
  author = {Hu, Edward J. and Shen, Yelong and Wallis, Phillip and Allen-Zhu, Zeyuan and Li, Yuanzhi and
            Wang, Shean and Wang, Lu and Chen, Weizhu},
  booktitle = {International Conference on Learning Representations},
  year = {2022}
}"""
    quick_hparams = {"pretrain_epochs": 1, "adapt_steps": 3}

    search_space = {**{k: FineTune.search_space[k] for k in ("adapt_lr", "adapt_steps")},
                    "rank": D.CategoricalDistribution((4, 8, 16))}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4, head="auto", rank=8, alpha=16, dropout=0.0, target_modules=None,
                 source_training="full"):
        super().__init__(backbone, pretrain_epochs, pretrain_lr, adapt_steps, adapt_lr, batch_size, weight_decay, head,
                         source_training=source_training)
        del self.probe_steps  # finetune's LP-FT; the adapters and the head train together here
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.target_modules = target_modules

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        # A copy: peft injects the adapters in place, and the pretrained trunk must stay as it is.
        trunk = with_lora(copy.deepcopy(self.model_.trunk), self.rank, self.alpha, self.dropout, self.target_modules)
        model = self.start_model(support, ctx, FrozenNorms(trunk))  # finetune's head choice
        return fit(model, support, steps=self.adapt_steps, lr=self.adapt_lr, batch_size=self.batch_size,
                   generator=ctx.generator, weight_decay=self.weight_decay, progress=ctx.progress)


@hookimpl
def transferbench_strategies():
    return [LoRA]
