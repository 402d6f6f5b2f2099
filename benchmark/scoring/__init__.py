"""What the runner measures and how: the tasks a cell is scored on (a transfer budget or N-way
K-shot episodes), the metrics, the confidence intervals and the query-independence check."""
