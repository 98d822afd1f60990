"""Configurations of one round of the GPU sweep; writes them as JSON: python configs_round1.py OUT.json"""
import sys
import json
W = dict(rot=12, scale=0.1, shear=10, alpha=1.5, sigma=4, trans=2)
c = []
def a(**k): c.append({**W, **k})
a(iters=2000, groups=64); a(iters=3000, groups=64); a(iters=1000, groups=64); a(iters=2000, groups=16)
a(iters=3000, groups=16); a(iters=1000, groups=16); a(iters=3000, groups=256); a(iters=2000, groups=128)
a(iters=2000, groups=64, lr=0.002); a(iters=2000, groups=64, lr=0.005); a(iters=2000, groups=64, lr=0.008)
a(iters=2000, groups=64, alpha=0); a(iters=2000, groups=64, alpha=2.5); a(iters=2000, groups=64, alpha=3.5, sigma=5); a(iters=2000, groups=64, alpha=2, sigma=3)
a(iters=2000, groups=64, rot=8); a(iters=2000, groups=64, rot=16); a(iters=2000, groups=64, scale=0.15, shear=15)
a(iters=2000, groups=64, trans=1); a(iters=2000, groups=64, trans=3)
a(iters=2000, groups=64, ls=0.1); a(iters=2000, groups=64, wd=1e-4); a(iters=2000, groups=64, dropout=0.2)
a(iters=2000, groups=64, width=[1024]); a(iters=2000, groups=64, width=[800]); a(iters=2000, groups=64, width=[512, 512])
a(iters=2000, groups=64, refit=True); a(iters=2000, groups=64, shift_only=True, trans=2)
a(iters=3000, groups=64, seed=1); a(iters=3000, groups=64, seed=2); a(iters=4000, groups=64); a(iters=1500, groups=64)
a(iters=4000, groups=64, width=[256]); a(iters=2000, groups=64, warmup=50, lr=0.005)
json.dump(c, open(sys.argv[1], "w"))
print(len(c))
