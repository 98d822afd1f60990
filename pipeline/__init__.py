"""Kaggle digit-recognizer pipeline: a full-batch NumPy network from competition zip to submission."""

__version__ = "0.1.0"
