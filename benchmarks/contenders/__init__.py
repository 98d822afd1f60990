"""One module per contender, each with ``run(data, settings, tracker) -> (info, predict)``.

``info`` describes the model and why training stopped; ``predict(X_uint8)`` returns labels.
"""
