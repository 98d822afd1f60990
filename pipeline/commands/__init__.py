"""Commands beside the DVC stages (score, submit, scores)."""
