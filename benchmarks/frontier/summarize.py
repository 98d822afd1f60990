"""The GPU sweep's results as a table: accuracy against cost (in updates of the 784-512-10 network).

    python benchmarks/frontier/summarize.py benchmarks/frontier/results_round*.jsonl
"""
import json
import sys


def cost(widths):
    """Multiply-adds per row of one update, relative to 784-512-10: forward and weight gradient of every
    layer, plus the gradient passed down through every layer above the first."""
    sizes = [784, *widths, 10]
    macs = lambda s: 2 * s[0] * s[1] + sum(3 * a * b for a, b in zip(s[1:-1], s[2:]))  # noqa: E731
    return macs(sizes) / macs([784, 512, 10])


USUAL = {"rot": 12, "scale": 0.1, "shear": 10, "trans": 2, "sigma": 4, "ls": 0, "wd": 0, "dropout": 0,
         "refit": False, "shift_only": False, "warmup": 0}
rows = [json.loads(line) for path in sys.argv[1:] for line in open(path)]
print("| hidden | updates | cost (512-updates) | groups | lr | elastic α | other | seed | validation | test | test, 9 views |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=lambda r: cost(r["cfg"]["width"]) * r["cfg"]["iters"]):
    c = r["cfg"]
    other = ", ".join(f"{k} {c[k]}" for k, usual in USUAL.items() if c[k] != usual)
    print(f"| {c['width']} | {c['iters']} | {cost(c['width']) * c['iters']:.0f} | {c['groups']} | {c['lr']} | "
          f"{c['alpha']} | {other} | {c['seed']} | {r['val']:.2%} | {r['test']:.2%} | {r['test_tta9']:.2%} |")
