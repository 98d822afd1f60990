"""Model: the network, its full-batch training and its file, as math on NumPy arrays.

Owns the layers and their gradients (``nn``), augmentation, the full-batch gradient engine,
the optimizers and schedules, the scikit-learn estimator and the model file. May import
``pipeline.core`` only: it knows nothing of CSVs, Kaggle or submissions.
"""
