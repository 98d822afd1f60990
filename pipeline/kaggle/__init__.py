"""Kaggle: every conversation with the Kaggle service, through the official ``kaggle`` client.

Owns the client calls (sign-in, download, upload, listing submissions and the leaderboard), the
credentials the client would use (read without ever printing a secret), bounded calls that cannot
hang, and the translation of the client's failures into one-line errors. Knows nothing about the
ledger or the network. May import ``pipeline.core`` only.
"""
