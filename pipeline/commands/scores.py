"""Command ``scores``: refresh the ledger from Kaggle, print the scores table, the leaderboard position,
and plot public score and validation accuracy over time.

Kaggle's list of the user's submissions is the source of truth: a submission made elsewhere, or
by a ``submit`` that was interrupted before it recorded it, joins the ledger here, with the file
hash and provenance from ``submissions/archive/`` when it was uploaded from this project.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from pipeline.submissions import ledger
from pipeline.core import paths
from pipeline.submissions import archive as submission_archive
from pipeline.core.atomic import write_bytes
from pipeline.core.config import load_params
from pipeline.kaggle.records import KaggleSubmission
from pipeline.kaggle.session import KaggleSession
from pipeline.kaggle.errors import KaggleError
from pipeline.submissions.ledger import read_history
from pipeline.submissions.scores_table import (find_me, format_table, ledger_row, off_board_since, passed_me,
                                                  position_line)

SCORES_PLOT = paths.SUBMISSIONS_DIR / "scores.png"


def add_arguments(parser) -> None:
    parser.add_argument("--offline", action="store_true",
                        help="do not ask Kaggle: print and plot the ledger as it is")
    parser.add_argument("--no-leaderboard", action="store_true", help="skip reading the leaderboard")


def to_row(sub: KaggleSubmission) -> ledger.Submission:
    """The ledger row of Kaggle's answer, with the archive's provenance when the file was uploaded from here."""
    known = submission_archive.for_upload_name(sub.file_name)
    return ledger_row(sub, *known) if known else ledger_row(sub)


def run(args) -> int:
    session, listed = None, []
    if not args.offline:
        session = KaggleSession(load_params(paths.PARAMS).fetch.competition)
        listed = session.submissions()
        changes = ledger.upsert(paths.SUBMISSION_HISTORY, map(to_row, listed), from_kaggle=True)
        print(f"ledger: {len(listed)} submission(s) on Kaggle; {changes.added} added, {changes.updated} updated "
              f"in {paths.SUBMISSION_HISTORY}")
    else:
        ledger.read(paths.SUBMISSION_HISTORY)  # the same checks as a refresh, with clear errors
    rows = read_history(paths.SUBMISSION_HISTORY) or []
    if not rows:
        print("no submissions yet: run python -m pipeline submit")
        return 0
    print(format_table(rows))
    if session is not None and not args.no_leaderboard:
        names = {s.team_name for s in listed} | {session.username}
        dropped = off_board_since(session.competition, rows, datetime.now(timezone.utc))
        try:
            entries, whole = session.leaderboard(stop=lambda read: find_me(read, names) is not None
                                                 or passed_me(read, rows))
            print(position_line(find_me(entries, names), entries, whole, dropped))
        except KaggleError as error:  # the ledger is refreshed: the leaderboard is a bonus
            print(f"notice: leaderboard not available ({error})", file=sys.stderr)
    from pipeline.report.figures import history_figure, png_bytes  # matplotlib: only when plotting

    write_bytes(SCORES_PLOT, png_bytes(history_figure(rows)))
    print(f"plot: {SCORES_PLOT} (public score and validation accuracy per submission)")
    return 0
