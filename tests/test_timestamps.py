"""``iso_utc``: the timestamps of the ledger, from Kaggle's dates and from the clock."""

from datetime import datetime, timedelta, timezone

from pipeline.core.timestamps import iso_utc


def test_naive_dates_are_taken_as_utc_and_aware_ones_converted():
    assert iso_utc(datetime(2025, 1, 2, 3, 4, 5, 678000)) == "2025-01-02T03:04:05Z"
    paris = timezone(timedelta(hours=1))
    assert iso_utc(datetime(2025, 1, 2, 4, 4, 5, tzinfo=paris)) == "2025-01-02T03:04:05Z"


def test_no_date_is_an_empty_cell():
    assert iso_utc(None) == ""
