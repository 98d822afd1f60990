"""Save and load named arrays as ``.npz`` with byte-reproducible output.

``numpy.savez`` stamps each member with the current time, so the same arrays saved twice give
different bytes (and DVC sees a changed output). This writer fixes the timestamps.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from pipeline.core.atomic import atomic_output
from pipeline.core.errors import PipelineError
from pipeline.core.zip_files import member_info


def save_arrays(path: str | Path, arrays: dict[str, np.ndarray], compress: bool = False) -> None:
    """Atomically write ``arrays`` to ``path`` as an npz file, identical bytes for identical arrays."""
    with atomic_output(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as archive:
            for name, array in arrays.items():
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
                with buffer.getbuffer() as view:  # not getvalue(): that would copy the array once more
                    archive.writestr(member_info(f"{name}.npy", archive.compression), view)


def load_arrays(path: str | Path, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Load every array in an npz file; raise PipelineError if it is unreadable or lacks ``required``."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(f"{path}: not found; run the stage that makes it (dvc repro)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # corrupt zips, truncated arrays and pickles all land here
        raise PipelineError(f"{path}: not a readable array file ({type(exc).__name__}: {exc})") from None
    missing = [name for name in required if name not in arrays]
    if missing:
        raise PipelineError(f"{path}: missing array(s) {', '.join(missing)}")
    return arrays
