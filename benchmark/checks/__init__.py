"""The contract battery every strategy passes (``check_strategy``, public through ``benchmark``)
and what ``transferbench check`` prints while it runs."""
