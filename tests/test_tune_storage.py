"""--storage: a journal path or a database URL; a password never shows in a message."""

from __future__ import annotations

import pytest

from pipeline.core.errors import PipelineError
from pipeline.tuning.storage import error_reason, open_storage, shown

URL = "postgresql://alice:s3cret-pw@db.example.com:5432/studies"


def test_a_url_is_shown_without_its_password_and_a_path_as_it_is():
    assert shown(URL) == "postgresql://alice:***@db.example.com:5432/studies"
    assert shown("tune/journal.log") == "tune/journal.log"
    assert "s3cret" not in shown("postgresql+psycopg://bob:s3cret@h/db")


def test_a_driver_message_that_quotes_the_url_or_the_password_is_cleaned():
    error = RuntimeError(f"could not connect to {URL} (password s3cret-pw rejected)\nsecond line")
    assert error_reason(error, URL) == ("could not connect to postgresql://alice:***@db.example.com:5432/studies "
                                   "(password *** rejected)")


def test_an_unreachable_server_is_one_line_naming_the_url_without_the_password():
    url = "postgresql://tune:s3cret-pw@127.0.0.1:9/nowhere"  # nothing listens on port 9
    with pytest.raises(PipelineError) as caught:
        open_storage(url)
    message = str(caught.value)
    assert message.startswith("cannot open the study storage postgresql://tune:***@127.0.0.1:9/nowhere: ")
    assert "s3cret-pw" not in message and "\n" not in message


def test_sqlite_is_refused_for_parallel_workers_with_what_to_use_instead():
    with pytest.raises(PipelineError, match="SQLite is not safe for parallel workers.*journal file.*postgresql"):
        open_storage("sqlite:///tune.db")


def test_a_journal_in_a_folder_that_cannot_be_made_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(PipelineError, match=f"cannot open the study journal {blocker}/journal.log"):
        open_storage(str(blocker / "journal.log"))
