"""The fair-comparison harness: arms x budgets x seeds x pretraining seeds, selected on validation."""
