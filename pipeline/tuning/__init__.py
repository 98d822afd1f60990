"""Tuning: hyperparameter sweeps on Optuna, each trial a DVC experiment.

Owns the search space file (``tune.yaml``) and its checks, the study storage (a journal file, checked
so that a crash never loses it, or a database URL shared by several machines), running one trial as
``dvc exp run --temp``, finding trials whose worker died, and the study's export for the report.
May import ``pipeline.core`` (never ``model``: a trial trains through DVC, in its own process).

Two modules are imported by pipeline stages, and import nothing else of this package, so that the
sweep's code is no dep of theirs in ``dvc.yaml``: ``trial_hook`` (the train stage's side of a trial,
which talks to its worker over a socket) and ``study_file`` (``tune/study.json``, which the report reads).
"""
