"""Tuning: hyperparameter sweeps on Optuna, each trial a DVC experiment.

Owns the search space file (``tune.yaml``) and its checks, the study storage (a journal file, or a
database URL shared by several machines), running one trial as ``dvc exp run --temp``, the train
stage's hook that reports validation accuracy to its trial and stops a pruned one, finding trials
whose worker died, and the study's export for the report.
May import ``pipeline.core`` (never ``model``: a trial trains through DVC, in its own process).
"""
