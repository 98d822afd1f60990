"""Kaggle: every conversation with the Kaggle service, through the official ``kaggle`` client.

Owns the client calls (``session``: sign-in, upload, listing submissions and the leaderboard;
``download``: the watched download, with ``md5_check``), the client itself (``client``), the
records of Kaggle's answers (``records``), the limits of every call (``settings``), the
credentials the client would use (read without ever printing a secret), bounded calls that cannot
hang, and the translation of the client's failures into one-line errors. Knows nothing about the
ledger or the network. May import ``pipeline.core`` only.
"""
