"""multitask: hard parameter sharing (Caruana 1997): one shared trunk, one head per task.

pretrain trains the shared trunk with the source head on the source task (a warm start,
as ``finetune`` does) and keeps the source split for replay. adapt adds a target head and
trains trunk and both heads jointly, each step minimising

    target_loss(support batch) + source_weight * source_loss

so the target head is learned while the shared layers keep serving the source task.
Source and target rows go through the trunk in one batch, so BatchNorm's statistics
serve both tasks.
The source loss is, with ``source_replay=True``, cross-entropy on a replayed source
minibatch; with ``source_replay=False`` no source example is read during adaptation and
the source task is kept by distillation instead: the source head's outputs on the target
support images are held to the pretrained model's (Learning without Forgetting, Li &
Hoiem 2017). Either way gradients reach the trunk from both heads.

Hyperparameters (defaults):
    backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, batch_size=64, weight_decay=5e-4
                          the source training of ``finetune`` (pretrain_epochs=0 gives
                          Caruana's joint training from scratch; then raise adapt_steps)
    adapt_steps=100, adapt_lr=1e-3
                          ``finetune``'s adaptation budget, so the two differ only in the source term
    source_weight=1.0     Caruana's unweighted sum of the task losses; not tuned on target data
    source_replay=True    replay source minibatches (False: LwF distillation, temperature 2 as in Li & Hoiem)

The pretrained state holds the replay set (the source split as the strategy saw it), so a
cached pretrain can still replay: it is as large as the source split.
"""

import copy
import itertools

import torch
import torch.nn.functional as F
from torch import nn

from benchmark import adam, forward_in_batches, hookimpl, minibatches, step_progress
from plugins.finetune import FineTune

DISTILLATION_TEMPERATURE = 2.0  # Li & Hoiem 2017, section 3


class SharedTrunk(nn.Module):
    """Hard parameter sharing: the trunk [N, C, H, W] -> [N, D] feeds one linear head per task."""

    def __init__(self, trunk: nn.Module, source_head: nn.Linear, target_head: nn.Linear):
        super().__init__()
        self.trunk, self.source_head, self.target_head = trunk, source_head, target_head

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.target_head(self.trunk(inputs))  # the predictor scores the target task


def distillation_loss(scores: torch.Tensor, reference: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cross-entropy of softened scores against softened reference scores (both [B, K])."""
    return -(F.softmax(reference / temperature, dim=1) * F.log_softmax(scores / temperature, dim=1)).sum(1).mean()


def task_losses(model: SharedTrunk, target_batch: tuple, source_batch: tuple):
    """(target loss, source loss) of one joint step.

    target_batch: (inputs [Bt, C, H, W], labels [Bt]) and, without replay, the pretrained
    model's reference scores [Bt, Ks]; source_batch: replayed (inputs [Bs, C, H, W],
    labels [Bs]), or () when the source task is kept by distillation on the target inputs.
    """
    target_inputs, target_labels = target_batch[:2]
    if source_batch:
        source_inputs, source_labels = source_batch
        features = model.trunk(torch.cat([source_inputs, target_inputs]))  # one pass: [Bs + Bt, D]
        source_loss = F.cross_entropy(model.source_head(features[:len(source_inputs)]), source_labels)
        target_features = features[len(source_inputs):]  # [Bt, D]
    else:
        target_features = model.trunk(target_inputs)  # [Bt, D]
        source_loss = distillation_loss(model.source_head(target_features), target_batch[2], DISTILLATION_TEMPERATURE)
    return F.cross_entropy(model.target_head(target_features), target_labels), source_loss


class MultiTask(FineTune):
    name = "multitask"
    description = "Hard parameter sharing: one trunk, a head per task, trained jointly on source and target."
    citation = """@article{caruana1997multitask,
  title = {Multitask Learning},
  author = {Caruana, Rich},
  journal = {Machine Learning},
  volume = {28},
  number = {1},
  pages = {41--75},
  year = {1997},
  doi = {10.1023/A:1007379606734}
}
@article{li2017learning,
  title = {Learning without Forgetting},
  author = {Li, Zhizhong and Hoiem, Derek},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  volume = {40},
  number = {12},
  pages = {2935--2947},
  year = {2017},
  doi = {10.1109/TPAMI.2017.2773081}
}"""

    needs_source = True  # the target is trained jointly with the source task
    search_space = {k: FineTune.search_space[k] for k in ("adapt_lr", "adapt_steps")}  # it has no probe_steps

    def __init__(self, backbone=None, pretrain_epochs=20, pretrain_lr=1e-3, adapt_steps=100, adapt_lr=1e-3,
                 batch_size=64, weight_decay=5e-4, source_weight=1.0, source_replay=True):
        super().__init__(backbone, pretrain_epochs, pretrain_lr, adapt_steps, adapt_lr, batch_size, weight_decay)
        # finetune's; multitask always adds a new target head beside the source's, and trains the whole trunk
        del self.head, self.probe_steps, self.source_training
        self.source_weight = source_weight
        self.source_replay = source_replay

    def pretrain(self, source, ctx):
        super().pretrain(source, ctx)
        if self.source_replay:
            self.replay_inputs_, self.replay_labels_ = source.inputs, source.labels  # references, not copies

    def pretrained_state(self):
        state = super().pretrained_state()
        if self.source_replay:
            state.update(replay_inputs=self.replay_inputs_, replay_labels=self.replay_labels_)
        return state

    def load_pretrained_state(self, state, ctx):
        super().load_pretrained_state(state, ctx)
        if self.source_replay:
            self.replay_inputs_ = state["replay_inputs"].to(ctx.device)
            self.replay_labels_ = state["replay_labels"].to(ctx.device)

    def joint_model(self, num_classes: int, device) -> SharedTrunk:
        """Copies of the pretrained trunk and source head, and a new target head of ``num_classes``."""
        return SharedTrunk(copy.deepcopy(self.model_.trunk), copy.deepcopy(self.model_.head),
                           nn.Linear(self.model_.feature_dim, num_classes)).to(device)

    def adapt(self, support, ctx):
        self.check_pretrained("model_", *(("replay_inputs_",) if self.source_replay else ()))
        model = self.joint_model(support.num_classes, ctx.device)
        optimiser = adam(model.parameters(), lr=self.adapt_lr, weight_decay=self.weight_decay)
        if self.source_replay:
            target_stream = minibatches((support.inputs, support.labels), self.batch_size, self.adapt_steps,
                                        ctx.generator)
            source_stream = minibatches((self.replay_inputs_, self.replay_labels_), self.batch_size,
                                        self.adapt_steps, ctx.generator)
        else:
            # LwF's targets: the pretrained source head's view of the target images, [S, source classes]
            reference = forward_in_batches(self.model_.eval(), support.inputs)
            target_stream = minibatches((support.inputs, support.labels, reference), self.batch_size,
                                        self.adapt_steps, ctx.generator)
            source_stream = itertools.repeat(())  # nothing from the source
        model.train()
        tick = step_progress(ctx.progress, self.adapt_steps)
        tick(0)
        for step, (target_batch, source_batch) in enumerate(zip(target_stream, source_stream)):
            target_loss, source_loss = task_losses(model, target_batch, source_batch)
            loss = target_loss + self.source_weight * source_loss
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            tick(step + 1)
        return model.eval()


@hookimpl
def transferbench_strategies():
    return [MultiTask]
