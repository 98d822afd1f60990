"""Command ``score``: the accuracy of a submission file against an answer key."""

from pipeline.submissions.format import accuracy


def add_arguments(parser) -> None:
    parser.add_argument("submission", help="a submission file (ImageId,Label)")
    parser.add_argument("--solution", required=True, help="the answer key (ImageId,Label), e.g. data/raw/solution.csv")


def run(args) -> int:
    value, rows = accuracy(args.submission, args.solution)
    print(f"accuracy {value:.5f} ({round(value * rows)}/{rows} rows correct)")
    return 0
