"""Deprecated alias of ``benchmark.data.shifts`` (removed in 0.2): import from ``benchmark`` instead."""
from benchmark._moved import alias_module

alias_module(__name__, "benchmark.data.shifts")
