"""Print the mutation score of each module after ``mutmut run`` (docs/testing.md, "Mutation testing").

    python tests/mutation_score.py            # a table: killed / mutants per module, and the total
    python tests/mutation_score.py --left     # and every mutant that was not killed, by name

It reads mutmut's own record of each mutant's outcome (``mutants/**/*.py.meta``) through mutmut's own
table of outcomes, so it counts as ``mutmut results`` does. A mutant no selected test reaches ("no tests")
counts as not killed. Not a test: pytest does not collect it.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code


def outcomes(root: Path = Path("mutants")) -> dict[str, dict[str, str]]:
    """{module path: {mutant name: status}} for every module mutmut has run."""
    found = {}
    for meta in sorted(root.glob("pipeline/**/*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        checked = {name: status_by_exit_code[code] for name, code in codes.items() if code is not None}
        if checked:
            found[meta.relative_to(root).as_posix().removesuffix(".meta")] = checked
    return found


def main(argv: list[str]) -> int:
    results = outcomes()
    if not results:
        print("no mutmut results under mutants/: run `mutmut run` first", file=sys.stderr)
        return 1
    total = Counter()
    print(f"{'module':40} {'killed':>7} {'of':>5} {'score':>7}  not killed")
    for module, statuses in results.items():
        counts = Counter(statuses.values())
        killed = counts["killed"] + counts["timeout"] + counts["caught by type check"]
        total.update(killed=killed, all=len(statuses))
        rest = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in ("killed", "timeout"))
        print(f"{module:40} {killed:7} {len(statuses):5} {killed / len(statuses):7.1%}  {rest}")
        if "--left" in argv:
            for name, status in statuses.items():
                if status not in ("killed", "timeout", "caught by type check"):
                    print(f"    {status:10} {name}")
    print(f"{'all':40} {total['killed']:7} {total['all']:5} {total['killed'] / total['all']:7.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
