"""Suites: TOML files of source→target pairs with seeds, budgets, hyperparameters and a
selection protocol. ``spec`` says what a suite is, ``load`` reads one, ``check`` holds every check."""
