"""bitfit: fine-tune only the bias terms of the pretrained trunk, with a new head (Zaken et al. 2022).

pretrain is finetune's. adapt takes a fresh copy of the trunk in which every parameter whose
name ends in ``bias`` (convolutions, linear layers, the shift of normalisation layers) is
trained together with a new linear head, and nothing else moves: weights are frozen and
BatchNorm keeps its pretrained running statistics (``plugins/parameter_efficient.py``).

Hyperparameters: finetune's, with its defaults (the same adaptation budget, so the two differ
only in what moves). Zaken et al. use larger step sizes for BitFit than for full fine-tuning;
none is tuned here on target data.
"""

import copy

from benchmark import NotApplicable, fit, hookimpl
from plugins.finetune import FineTune
from plugins.parameter_efficient import FrozenNorms, trainable_only


class BitFit(FineTune):
    name = "bitfit"
    description = "Fine-tune only the trunk's bias terms and a new head (BitFit)."
    citation = """@inproceedings{zaken2022bitfit,
  title = {{BitFit}: Simple Parameter-efficient Fine-tuning for Transformer-based Masked Language-models},
  author = {Ben Zaken, Elad and Goldberg, Yoav and Ravfogel, Shauli},
  booktitle = {Proceedings of the 60th Annual Meeting of the Association for Computational Linguistics
               (Volume 2: Short Papers)},
  pages = {1--9},
  year = {2022},
  doi = {10.18653/v1/2022.acl-short.1}
}"""

    search_space = {k: FineTune.search_space[k] for k in ("adapt_lr", "adapt_steps")}

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4, head="auto", source_training="full"):
        super().__init__(backbone, pretrain_epochs, pretrain_lr, adapt_steps, adapt_lr, batch_size, weight_decay, head,
                         source_training=source_training)
        del self.probe_steps  # finetune's LP-FT; the biases and the head train together here

    def adapt(self, support, ctx):
        self.check_pretrained("model_")
        trunk = copy.deepcopy(self.model_.trunk)
        if not trainable_only(trunk, lambda name: name.endswith("bias")):
            raise NotApplicable("the trunk has no bias parameter to train (e.g. a static token embedding), so "
                                "BitFit would be a linear probe")
        model = self.start_model(support, ctx, FrozenNorms(trunk))  # finetune's head choice
        return fit(model, support, steps=self.adapt_steps, lr=self.adapt_lr, batch_size=self.batch_size,
                   generator=ctx.generator, weight_decay=self.weight_decay, progress=ctx.progress)


@hookimpl
def transferbench_strategies():
    return [BitFit]
