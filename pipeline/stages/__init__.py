"""One module per ``dvc.yaml`` stage: each reads its params section and calls the library."""
