"""PyTorch (eager) training step of #9's speed model, to compare statemix with on the same CPU.

The token model of ../../../shared/spec/tasks.md with the BD-LRU mixer (spec layers.md §2):
embedding (V=16, D=128) -> 2 x [x + BDLRU(LN(x)), x + SwiGLU(LN(x))] -> LN -> Linear(D, V),
BD-LRU N=128 blocks of m=2 (W_v: D->N*m, W_g: D->N*m*(m+1) with bias, softmax gates, W_o: N*m->D),
SwiGLU inner width 352; batch 128, L 256, fp32, cross-entropy, AdamW (lr 5e-4, wd 0).

The recurrence in three forms (--scan):
  none  the scan removed: h = a0 * v (projections, gate softmax, input gate kept; no recurrence).
        Any PyTorch implementation of the model does at least this work, so its tokens/s bound
        every such implementation from above.
  assoc a log-depth (Hillis-Steele) associative scan over the pairs (A_t, a0_t*v_t):
        (A2, b2) o (A1, b1) = (A2 A1, A2 b1 + b2), as an associative-scan layer computes it.
  loop  a Python loop over time.
Usage: python torch_token_model.py --scan none|assoc|loop [--steps 6] [--threads 2]
Prints one JSON line: the median step time over the timed steps and tokens/s.
"""
import argparse, json, math, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

V, D, NB, M, B, L = 16, 128, 128, 2, 128, 256
INNER = 16 * math.ceil((8 * D // 3) / 16)


class BDLRU(nn.Module):
    def __init__(self, scan):
        super().__init__()
        self.scan = scan
        self.wv = nn.Linear(D, NB * M, bias=False)
        self.wg = nn.Linear(D, NB * M * (M + 1), bias=True)
        self.wo = nn.Linear(NB * M, D, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        v = self.wv(x).view(b, t, NB, M)
        p = torch.softmax(self.wg(x).view(b, t, NB, M, M + 1), dim=-1)
        A, a0 = p[..., :M], p[..., M]          # A [b,t,n,m,m] (row j = output), a0 [b,t,n,m]
        u = a0 * v
        if self.scan == "none":
            h = u
        elif self.scan == "loop":
            hs, hprev = [], torch.zeros(b, NB, M)
            for s in range(t):
                hprev = torch.einsum("bnjk,bnk->bnj", A[:, s], hprev) + u[:, s]
                hs.append(hprev)
            h = torch.stack(hs, 1)
        else:  # Hillis-Steele: after level d, element s holds the composition of steps s-2^d+1..s
            Acc, bcc = A, u
            d = 1
            while d < t:
                A_prev = F.pad(Acc[:, :-d], (0, 0, 0, 0, 0, 0, d, 0))  # identity-free: zero pad
                b_prev = F.pad(bcc[:, :-d], (0, 0, 0, 0, d, 0))
                eye_mask = torch.zeros(1, t, 1, 1, 1)
                eye_mask[:, :d] = 1.0
                A_prev = A_prev + eye_mask * torch.eye(M)  # steps before 0: the identity
                bcc = torch.einsum("btnjk,btnk->btnj", Acc, b_prev) + bcc
                Acc = Acc @ A_prev
                d *= 2
            h = bcc
        return self.wo(h.reshape(b, t, NB * M))


class SwiGLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = nn.Linear(D, INNER, bias=False)
        self.w2 = nn.Linear(D, INNER, bias=False)
        self.w3 = nn.Linear(INNER, D, bias=False)

    def forward(self, x):
        return self.w3(F.silu(self.w1(x)) * self.w2(x))


class TokenModel(nn.Module):
    def __init__(self, scan):
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.layers = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(2):
            for layer in (BDLRU(scan), SwiGLU()):
                self.layers.append(layer)
                self.norms.append(nn.LayerNorm(D))
        self.lnf = nn.LayerNorm(D)
        self.out = nn.Linear(D, V)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, tok):
        x = self.emb(tok)
        for ln, layer in zip(self.norms, self.layers):
            x = x + layer(ln(x))
        return self.out(self.lnf(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scan", choices=["none", "assoc", "loop"], default="none")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="compare assoc and loop outputs, then exit")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.check:
        m1 = BDLRU("assoc"); m2 = BDLRU("loop"); m2.load_state_dict(m1.state_dict())
        x = torch.randn(2, 37, D)
        print("assoc vs loop max|diff|", (m1(x) - m2(x)).abs().max().item())
        return
    model = TokenModel(a.scan)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.0)
    tok = torch.randint(0, V, (B, L))
    tgt = torch.randint(0, V, (B, L))
    times = []
    for s in range(a.steps + 1):  # step 0 is the warm-up
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(tok).view(-1, V), tgt.view(-1))
        loss.backward()
        opt.step()
        if s:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({"scan": a.scan, "threads": a.threads, "torch": torch.__version__,
                      "steps": a.steps, "step_s_median": round(med, 4), "step_s_min": round(min(times), 4),
                      "tokens_per_s": round(B * L / med)}))


if __name__ == "__main__":
    main()
