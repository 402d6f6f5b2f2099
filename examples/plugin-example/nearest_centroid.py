"""A complete transferbench strategy plugin: nearest class centroid on raw pixels."""

import torch

from benchmark import Strategy, hookimpl


class NearestCentroid(Strategy):
    name = "nearest-centroid"
    description = "Classify each query by the closest class mean of the support pixels (no source)."

    def __init__(self, normalise=True):
        self.normalise = normalise

    def adapt(self, support, ctx):
        features = self.features(support.inputs)                       # [S, C*H*W]
        one_hot = torch.nn.functional.one_hot(support.labels, support.num_classes).float()
        centroids = (one_hot.T @ features) / one_hot.sum(0)[:, None]   # [classes, C*H*W]
        return lambda inputs: -torch.cdist(self.features(inputs), centroids)  # [Q, classes]

    def features(self, inputs):
        flat = inputs.flatten(1)
        return torch.nn.functional.normalize(flat, dim=1) if self.normalise else flat


@hookimpl
def transferbench_strategies():
    return [NearestCentroid]
