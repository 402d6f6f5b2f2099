"""Labelled data and the pipeline that makes it: dataset providers' base and the suite's dataset
tables (``providers``), loading and preprocessing (``loader``), the content-keyed caches, image
shifts, text tokenisation, grouped splits (``groups``), and the train/test overlap check."""

from benchmark._moved import moved_names

# benchmark.data was a module until 0.1: its public names still answer here, with a warning.
__getattr__ = moved_names(__name__, {"LabelledData": "benchmark.data.labelled",
                                     "fingerprint": "benchmark.data.labelled"})
