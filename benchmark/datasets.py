"""Deprecated alias of ``benchmark.data.providers`` (removed in 0.2): import from ``benchmark`` instead."""
from benchmark._moved import alias_module

alias_module(__name__, "benchmark.data.providers")
