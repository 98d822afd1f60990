"""Data: getting the competition's files and turning them into checked arrays.

Owns the sources (Kaggle, a zip or folder the user has, the embedded real-MNIST sample), the
competition zip checks, the ``train.csv``/``test.csv`` parser and the train/validation split.
May import ``pipeline.core``, ``pipeline.kaggle`` (to download) and ``pipeline.submissions`` (to
check ``sample_submission.csv`` and answer keys), never ``pipeline.model`` or the layers above.
"""
