"""One download of a competition's zip, watched: progress shown, a stall or an overlong transfer stopped.

Like ``KaggleApi.competition_download_files``, but with the client's own retries off
(``max_retries=0``: its backoff runs to minutes), so that a stalled or cut-off transfer is seen
here, reported precisely, and retried by the session's policy (``KaggleSession.download``). When
the storage host announces the file's MD5 (``x-goog-hash``), the file is checked against it, as
kagglehub does (docs/kagglehub.md); the client itself checks only the length.
"""

from __future__ import annotations

import time
from pathlib import Path

from pipeline.core.progress import Progress
from pipeline.kaggle.bounded_call import start
from pipeline.kaggle.errors import KaggleError, no_answer, translate
from pipeline.kaggle.md5_check import announced_md5, check_md5
from pipeline.kaggle.settings import Settings

# The client writes the download in chunks of this size, each read in full before it is written:
# small enough that a slow connection shows progress well within the stall timeout.
DOWNLOAD_CHUNK = 64 * 1024


def download_once(api, competition: str, outfile: Path, settings: Settings, log) -> Path:
    """Download ``competition``'s zip to ``outfile`` with the signed-in ``api``, once; progress goes to ``log``."""
    action = f"downloading {outfile.name}"
    state: dict = {}

    def work():
        from kagglesdk.competitions.types.competition_api_service import ApiDownloadDataFilesRequest

        with api.build_kaggle_client() as kaggle:
            request = ApiDownloadDataFilesRequest()
            request.competition_name = competition
            response = kaggle.competitions.competition_api_client.download_data_files(request)
            state["total"] = int(response.headers.get("Content-Length") or 0) or None
            expected_md5 = announced_md5(response.headers)
            api.download_file(response, str(outfile), kaggle.http_client(), quiet=True, resume=False,
                              chunk_size=DOWNLOAD_CHUNK, max_retries=0)
        if expected_md5:
            check_md5(outfile, expected_md5)
        return outfile

    outcome = start(work, name=f"kaggle: {action}")
    _watch(outcome, outfile, state, action, settings, log)
    if outcome.error is not None:
        raise translate(outcome.error, action, competition, download=True)
    return outfile


def _watch(outcome, outfile: Path, state: dict, action: str, settings: Settings, log) -> None:
    """Show the download's progress; give up when no byte arrives for ``timeout`` s, or after the limit."""
    timeout, tick = settings.timeout, min(0.25, settings.timeout / 5)
    began = last_change = time.monotonic()
    size, shown, progress = 0, 0, None
    try:
        while not outcome.done.wait(tick):
            now = time.monotonic()
            current = outfile.stat().st_size if outfile.exists() else 0
            if current != size:
                size, last_change = current, now
            if progress is None and (size or state.get("total")):
                progress = Progress(state.get("total"), f"download {outfile.name}", unit="B", stream=log)
            if progress is not None and size > shown:
                progress.update(size - shown)
                shown = size
            if now - last_change > timeout:
                raise no_answer(action, timeout) if not size else KaggleError(
                    f"the download of {outfile.name} stalled: no progress for {timeout:g} s after {size} bytes; "
                    f"check your connection and rerun (DIGIT_PIPELINE_KAGGLE_TIMEOUT sets this limit)",
                    timed_out=True)
            if now - began > settings.download_limit:
                raise KaggleError(f"the download of {outfile.name} took longer than "
                                  f"{settings.download_limit:g} s; check your connection and rerun "
                                  f"(DIGIT_PIPELINE_KAGGLE_DOWNLOAD_LIMIT_SECONDS sets this limit)")
    finally:
        finished = outcome.done.is_set() and outcome.error is None and outfile.exists()
        if progress is None and finished:  # faster than one tick: still say what came
            progress = Progress(state.get("total"), f"download {outfile.name}", unit="B", stream=log)
        if progress is not None:
            if finished:
                progress.update(max(0, outfile.stat().st_size - shown))
            progress.close()
