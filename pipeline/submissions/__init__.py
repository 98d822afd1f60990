"""Submissions: the submission file and what the project keeps about each one it sends.

Owns the ``ImageId,Label`` format (parse, write, score against an answer key), the ledger
``submissions/history.csv`` with its one reader and its locked writer, the archive of sent bytes,
provenance (which params and data made a file) and the scores table. May import ``pipeline.core``
and ``pipeline.kaggle`` (for the shapes of Kaggle's rows), never the layers above.
"""
