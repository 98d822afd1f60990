"""A GPU stand-in for the NumPy full-batch trainer, to map accuracy against updates quickly (exploration only;
the product trains with NumPy). Same split, He init, Adam (bias-corrected as pipeline.model.optim), cosine
schedule, and per-group random warps drawn every update with the distributions of pipeline.model.warps
(affine + smoothed elastic field, bilinear, zero outside), applied to the images rather than the weights
(the same function). float32 with TF32 off. Each result also scores averaged shifted copies (tta5, tta9).

    python sweep_torch.py OUT.jsonl CONFIGS.json WORKER_INDEX N_WORKERS DATA.npz
"""
import json, math, sys, time
import numpy as np, torch
import torch.nn.functional as F

dev = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
D = np.load(sys.argv[5] if len(sys.argv) > 5 else ".explore/data.npz")
H = W = 28
BASE = dict(width=[512], iters=1000, groups=16, lr=0.003, rot=0.0, scale=0.0, shear=0.0, trans=2.0, alpha=0.0,
            sigma=4.0, ls=0.0, wd=0.0, seed=0, refit=False, dropout=0.0, rows=None, warmup=0, shift_only=False)


def gauss(n, s):
    i = torch.arange(n, dtype=torch.float64, device=dev)
    g = torch.exp(-0.5 * ((i[:, None] - i[None, :]) / s) ** 2)
    return (g / g.sum(1, keepdim=True)).float()


def draw(gen, G, c, GR, GC, grid):
    u = lambda *s: torch.rand(*s, generator=gen, device=dev) * 2 - 1
    ang, sh = u(G) * math.radians(c["rot"]), u(G) * math.radians(c["shear"])
    sc = 1 + u(G) * c["scale"]
    tr = u(G, 2) * c["trans"]
    cos, sin = torch.cos(ang), torch.sin(ang)
    rot = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    shm = torch.zeros(G, 2, 2, device=dev); shm[:, 0, 0] = shm[:, 1, 1] = 1; shm[:, 0, 1] = torch.tan(sh)
    M = rot @ shm / sc[:, None, None]
    cen = torch.tensor([(H - 1) / 2, (W - 1) / 2], device=dev)
    off = cen - (M @ cen) + tr
    src = M @ grid + off[:, :, None]  # (G, 2, d)
    if c["alpha"] > 0:
        f = GR @ u(G, 2, H, W) @ GC.T
        m = f.reshape(G, -1).abs().amax(1).clamp_min(1e-12)[:, None, None, None]
        src = src + (f * (c["alpha"] / m)).reshape(G, 2, -1)
    r, cc = src[:, 0], src[:, 1]
    r0, c0 = torch.floor(r), torch.floor(cc)
    fr, fc = r - r0, cc - c0
    r0, c0 = r0.long(), c0.long()
    rr = torch.stack([r0, r0, r0 + 1, r0 + 1], -1); ccs = torch.stack([c0, c0 + 1, c0, c0 + 1], -1)
    w = torch.stack([(1 - fr) * (1 - fc), (1 - fr) * fc, fr * (1 - fc), fr * fc], -1)
    inside = (rr >= 0) & (rr < H) & (ccs >= 0) & (ccs < W)
    cols = torch.where(inside, rr * W + ccs, 0).reshape(G, -1)
    return cols, torch.where(inside, w, 0.0).reshape(G, -1)


def shift_imgs(x, dy, dx):
    img = x.view(-1, H, W)
    out = torch.zeros_like(img)
    ys, yd = slice(max(0, -dy), H - max(0, dy)), slice(max(0, dy), H + min(0, dy))
    xs, xd = slice(max(0, -dx), W - max(0, dx)), slice(max(0, dx), W + min(0, dx))
    out[:, yd, xd] = img[:, ys, xs]
    return out.view(-1, H * W)


def forward(params, x, drop=0.0, gen=None):
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i < len(params) - 2:
            h = torch.relu(h)
            if drop > 0 and gen is not None:
                h = h * (torch.rand(h.shape, generator=gen, device=dev) >= drop) / (1 - drop)
    return h


def run(c):
    c = {**BASE, **c}
    X = D["Xall"] if c["refit"] else D["Xtr"]; y = D["yall"] if c["refit"] else D["ytr"]
    if c["rows"]:
        X, y = X[:c["rows"]], y[:c["rows"]]
    rng = np.random.default_rng(c["seed"])
    order = rng.permutation(len(X))
    x = torch.tensor(X[order], dtype=torch.float32, device=dev) / 255.0
    t = torch.tensor(y[order].astype(np.int64), device=dev)
    n, d = x.shape
    sizes = [d, *c["width"], 10]
    params = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        wgt = rng.standard_normal((a, b)) * np.sqrt(2.0 / a)
        params += [torch.tensor(wgt, dtype=torch.float32, device=dev).requires_grad_(),
                   torch.zeros(b, device=dev, requires_grad=True)]
    m = [torch.zeros_like(p) for p in params]; v = [torch.zeros_like(p) for p in params]
    G = c["groups"]
    bounds = np.linspace(0, n, min(G, n) + 1).astype(int)
    gid = torch.tensor(np.repeat(np.arange(G), np.diff(bounds)), device=dev)
    gen = torch.Generator(device=dev); gen.manual_seed(c["seed"] + 12345)
    grid = torch.tensor(np.indices((H, W)).reshape(2, -1), dtype=torch.float32, device=dev)
    GR, GC = gauss(H, c["sigma"]), gauss(W, c["sigma"])
    warping = any(c[k] > 0 for k in ("rot", "scale", "shear", "alpha")) and not c["shift_only"]
    xv = torch.tensor(D["Xva"], dtype=torch.float32, device=dev) / 255.0; yv = torch.tensor(D["yva"].astype(np.int64), device=dev)
    xt = torch.tensor(D["Xte"], dtype=torch.float32, device=dev) / 255.0; yt = torch.tensor(D["yte"].astype(np.int64), device=dev)
    t0 = time.time(); curve = []
    for step in range(c["iters"]):
        if warping:
            cols, wts = draw(gen, G, c, GR, GC, grid)
            xa = (torch.gather(x, 1, cols[gid]) * wts[gid]).view(n, d, 4).sum(-1)
        elif c["trans"] > 0:
            s = int(c["trans"])
            sh = torch.randint(-s, s + 1, (G, 2), generator=gen, device=dev).tolist()
            xa = torch.cat([shift_imgs(x[bounds[g]:bounds[g + 1]], *sh[g]) for g in range(G)])
        else:
            xa = x
        logits = forward(params, xa, c["dropout"], gen)
        loss = F.cross_entropy(logits, t, label_smoothing=c["ls"])
        grads = torch.autograd.grad(loss, params)
        if c["warmup"] and step < c["warmup"]:
            lr = c["lr"] * (step + 1) / c["warmup"]
        else:
            prog = (step - c["warmup"]) / max(1, c["iters"] - c["warmup"])
            lr = c["lr"] * 0.5 * (1 + math.cos(math.pi * prog))
        tt = step + 1
        ss = lr * math.sqrt(1 - 0.999 ** tt) / (1 - 0.9 ** tt)
        with torch.no_grad():
            for p, g, mm, vv in zip(params, grads, m, v):
                if c["wd"] and p.dim() == 2:
                    g = g + c["wd"] * p
                mm.mul_(0.9).add_(g, alpha=0.1); vv.mul_(0.999).addcmul_(g, g, value=0.001)
                p.sub_(ss * mm / (vv.sqrt() + 1e-8))
        if (step + 1) % 500 == 0:
            with torch.no_grad():
                curve.append((step + 1, float((forward(params, xv).argmax(1) == yv).float().mean())))
    with torch.no_grad():
        res = dict(cfg=c, secs=round(time.time() - t0, 1), curve=curve,
                   val=float((forward(params, xv).argmax(1) == yv).float().mean()),
                   test=float((forward(params, xt).argmax(1) == yt).float().mean()))
        for name, shifts in (("tta5", [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]),
                             ("tta9", [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)])):
            for split, xx, yy in (("val", xv, yv), ("test", xt, yt)):
                p = sum(torch.softmax(forward(params, shift_imgs(xx, a, b)), 1) for a, b in shifts)
                res[f"{split}_{name}"] = float((p.argmax(1) == yy).float().mean())
    return res


if __name__ == "__main__":
    out, cfgs, k, N = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
    for i, c in enumerate(cfgs):
        if i % N != k:
            continue
        r = run(c); r["i"] = i
        with open(out, "a") as f:
            f.write(json.dumps(r) + "\n")
        print(i, r["secs"], r["val"], r["test"], r["test_tta9"], flush=True)
