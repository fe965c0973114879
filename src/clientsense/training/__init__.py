"""Training, evaluation and the model card (not needed at analysis time)."""
