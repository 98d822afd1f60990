"""Configurations of one round of the GPU sweep; writes them as JSON: python configs_round2.py OUT.json"""
import sys
import json
W = dict(rot=12, scale=0.1, shear=10, alpha=1.5, sigma=4, trans=2, groups=64)
c = []
def a(**k): c.append({**W, **k})
for s in (0, 1):
    a(width=[512, 512], iters=1500, seed=s); a(width=[512, 256], iters=2000, seed=s); a(width=[384, 384], iters=2300, seed=s)
    a(width=[256, 256], iters=4000, seed=s); a(width=[512, 128], iters=2400, seed=s); a(width=[512, 512, 512], iters=1000, seed=s)
a(width=[512, 512], iters=2000, seed=1); a(width=[512, 512], iters=2000, seed=2); a(width=[512, 512], iters=1000)
a(width=[512, 512], iters=1500, lr=0.002); a(width=[512, 512], iters=1500, lr=0.005)
a(width=[512, 512], iters=1500, groups=16); a(width=[512, 512], iters=1500, groups=128)
a(width=[512, 512], iters=1500, alpha=2.5); a(width=[512, 512], iters=1500, dropout=0.1)
json.dump(c, open(sys.argv[1], "w")); print(len(c))
