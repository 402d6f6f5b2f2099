"""What strategy authors reuse: backbones and the linear-head classifier, training loops, and
the batched (stacked) training of many episodes' models at once. Public through ``benchmark``."""
