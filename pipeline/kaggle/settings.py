"""The limits of every Kaggle call, from the environment (so that tests can use sub-second values).

- ``DIGIT_PIPELINE_KAGGLE_TIMEOUT`` (60): seconds to wait for one call; for the download, the
  longest time without progress (a 64 KiB chunk);
- ``DIGIT_PIPELINE_KAGGLE_RETRIES`` (3): retries of a read-only call after a 429 / 5xx;
- ``DIGIT_PIPELINE_KAGGLE_BACKOFF_SECONDS`` (2): the first retry's delay, doubled each time
  (a server's ``Retry-After`` is honoured, up to 60 s);
- ``DIGIT_PIPELINE_KAGGLE_POLL_SECONDS`` (10): time between checks while a submission is scored;
- ``DIGIT_PIPELINE_KAGGLE_DOWNLOAD_LIMIT_SECONDS`` (3600): the longest a whole download may take.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.env_settings import positive_number


@dataclass(frozen=True)
class Settings:
    timeout: float = 60.0
    retries: int = 3
    backoff: float = 2.0
    poll: float = 10.0
    download_limit: float = 3600.0

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        def seconds(name: str, default: float) -> float:
            return positive_number(name, default, unit="seconds", environ=environ)

        return cls(timeout=seconds("DIGIT_PIPELINE_KAGGLE_TIMEOUT", cls.timeout),
                   retries=positive_number("DIGIT_PIPELINE_KAGGLE_RETRIES", cls.retries, kind=int, zero_ok=True,
                                           environ=environ),
                   backoff=seconds("DIGIT_PIPELINE_KAGGLE_BACKOFF_SECONDS", cls.backoff),
                   poll=seconds("DIGIT_PIPELINE_KAGGLE_POLL_SECONDS", cls.poll),
                   download_limit=seconds("DIGIT_PIPELINE_KAGGLE_DOWNLOAD_LIMIT_SECONDS", cls.download_limit))
