"""Stage ``fetch``: put the checked competition zip in data/raw (Kaggle, a local file, or the sample)."""

from pipeline.core import paths
from pipeline.core.config import load_params
from pipeline.data.sources import fetch


def run(args) -> int:
    params = load_params(paths.PARAMS)
    fetched = fetch(params.fetch, paths.COMPETITION_ZIP, paths.RAW_SOLUTION, paths.RAW_SOURCE)
    extra = " (with an answer key for local scoring)" if fetched.has_solution else ""
    print(f"fetch: {paths.COMPETITION_ZIP} from {fetched.kind} ({fetched.origin}), sha256 {fetched.sha256[:12]}{extra}")
    return 0
