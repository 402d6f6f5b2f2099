"""Transferability estimators: score a model on a target from its frozen features, before any fine-tuning."""
