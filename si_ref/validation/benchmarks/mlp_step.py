r"""Benchmark 1 of issue 9: one MLP training step, si_ref against PyTorch CPU.

One step is a forward pass, the backward pass and one Adam update of an MLP
with 3 hidden layers of equal width and SiLU activations (si_ref's default),
on the loss

.. math::

    \mathcal L = \frac1m \sum_{i=1}^m \tfrac12 \lvert f(h_i) - y_i\rvert^2

(the loss :meth:`si_ref.MLPField.fit` minimises) against a fixed target y. The
inputs h are what :class:`si_ref.MLPField` feeds its network for d = 2: the
point and its time features (K = 4 frequencies), width d + 1 + 2K = 11.

* **si_ref**: :class:`si_ref.mlp.MLP` (hand-written backprop) and
  :class:`si_ref.mlp.Adam` on the flat parameter vector, as ``fit`` does.
* **PyTorch**: ``torch.nn.Linear`` and ``torch.nn.SiLU`` layers, autograd and
  ``torch.optim.Adam`` with its defaults (what users write) and the same
  hyper-parameters (lr 1e-3, betas (0.9, 0.999), eps 1e-8), with torch's
  default number of threads.

Timing: the two sides alternate in one process, in turns. A turn is a pause of
``settle`` seconds, one untimed step, then ``steps`` timed steps; the reported
time of a side is the median of all its timed steps, and the ratio is the
median, over pairs of turns, of the ratio of the two turns' medians. The pause
and the untimed step are there because in one process the two thread pools get
in each other's way at every switch: after their last call NumPy's OpenBLAS
workers keep spinning for about 0.1 s, and torch's OpenMP workers for a few
milliseconds, on the cores the other side is about to use (measured here: the
first two torch steps after a run of si_ref steps took twice as long at the
large size, and the first si_ref step after torch steps 30% longer). A training
loop runs one library's steps back to back, which is what the turns measure.
The JSON also keeps the plain alternation of single steps
(``_common.paired_timings``, no pause), where both sides pay that cost.

GFLOP/s count the matrix products one step needs, 2 · batch · fan_in · fan_out
flops each: the forward product and ∂L/∂W for every layer, and ∂L/∂h for every
layer but the first (neither side differentiates with respect to the inputs).
The fraction of peak divides that rate by the rate of one large square
``np.matmul`` of the same dtype measured in the same run.

Not timed: starting from the same weights (copied from si_ref into torch), one
step on each side must give the same gradients and the same updated weights up
to rounding; the table reports the largest weight difference, the JSON also the
gradient difference.

The run also records the load average and the share of the CPUs that other
processes used while it ran: on a shared machine every number here moves with
that load (multithreaded BLAS is slowed many times when another process holds
one of its cores).

Run: ``python -m si_ref.validation.benchmarks --only mlp_step [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

from si_ref.mlp import MLP, Adam, time_features

from ._common import TORCH_INSTALL, matmul_peak_gflops, median_time, optional_torch, paired_timings, write_table

NAME = "mlp_step"
TITLE = "MLP training step (forward, backward, Adam): si_ref vs PyTorch CPU"
SKIPPED = f"skipped: torch not installed; install with: {TORCH_INSTALL}"

DIM = 2                        # d, the dimension of x and of the output
N_FREQUENCIES = 4              # MLPField's default K: inputs (x, t, sin 2πkt, cos 2πkt)
DEPTH = 3                      # hidden layers
DTYPES = (np.float32, np.float64)
LR, BETAS, EPS = 1e-3, (0.9, 0.999), 1e-8

#: sizes: (batch, width, timed steps per turn); turns per side; pause before a turn in seconds
FULL = {"sizes": ((256, 64, 21), (4096, 256, 5)), "turns": 11, "settle": 0.15, "single_step_repeats": 11,
        "peak_n": 1024, "peak_repeats": 11}
QUICK = {"sizes": ((64, 16, 2), (256, 32, 2)), "turns": 2, "settle": 0.0, "single_step_repeats": 0,
         "peak_n": 256, "peak_repeats": 3}


def in_dim() -> int:
    return DIM + 1 + 2 * N_FREQUENCIES


def matmul_flops(batch: int, width: int) -> float:
    """Flops of the matrix products of one step: forward and ∂W for every layer, ∂h for all but the first."""
    sizes = (in_dim(), *([width] * DEPTH), DIM)
    per_product = [2.0 * batch * fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    return 2.0 * sum(per_product) + sum(per_product[1:])


def problem(batch: int, dtype, seed: int = 0):
    """Network inputs (x, time features), shape (batch, 11), and targets, shape (batch, 2), in ``dtype``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, DIM))
    t = rng.uniform(size=batch)
    inputs = np.concatenate([x, time_features(t, N_FREQUENCIES)], axis=1).astype(dtype)
    targets = rng.standard_normal((batch, DIM)).astype(dtype)
    return inputs, targets


# --- the two sides ------------------------------------------------------------------------------

def si_ref_model(width: int, dtype, seed: int = 1):
    net = MLP(in_dim(), DIM, widths=(width,) * DEPTH, activation="silu", dtype=dtype,
              rng=np.random.default_rng(seed))
    optimizer = Adam([net.flat_parameters], lr=LR, beta1=BETAS[0], beta2=BETAS[1], eps=EPS)
    return net, optimizer


def si_ref_step(net: MLP, optimizer: Adam, inputs: np.ndarray, targets: np.ndarray):
    """A function doing one training step (what MLPField.fit does per minibatch) and returning the loss."""
    m = inputs.shape[0]
    residual = np.empty_like(targets)

    def step() -> float:
        outputs = net._forward(inputs)                               # the training loop's pass (no copy)
        np.subtract(outputs, targets, out=residual)                 # r = f − y
        loss = 0.5 * float(np.vdot(residual, residual)) / m
        np.multiply(residual, 1.0 / m, out=residual)                # ∂L/∂f = r / m
        net._backward(residual)
        optimizer.step([net.flat_gradients])
        return loss

    return step


def torch_model(torch, width: int, dtype, net: MLP | None = None):
    """The same architecture in torch, and its Adam; with ``net``, the weights are copied from si_ref's."""
    torch_dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]
    sizes = (in_dim(), *([width] * DEPTH), DIM)
    layers = []
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out, dtype=torch_dtype))
        if l < DEPTH:
            layers.append(torch.nn.SiLU())
    model = torch.nn.Sequential(*layers)
    if net is not None:
        with torch.no_grad():
            for linear, ours in zip(torch_linears(torch, model), net.linears):
                linear.weight.copy_(torch.from_numpy(ours.W.T.copy()))    # torch keeps W as (fan_out, fan_in)
                linear.bias.copy_(torch.from_numpy(ours.b.copy()))
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, betas=BETAS, eps=EPS)
    return model, optimizer


def torch_step(torch, model, optimizer, inputs: np.ndarray, targets: np.ndarray):
    h, y = torch.from_numpy(inputs), torch.from_numpy(targets)
    m = inputs.shape[0]

    def step() -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = 0.5 * (model(h) - y).pow(2).sum() / m
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def torch_linears(torch, model) -> list:
    return [layer for layer in model if isinstance(layer, torch.nn.Linear)]


def same_step_differences(torch, batch: int, width: int, dtype) -> dict:
    """One step on each side from the same weights: the largest differences of gradients, weights and loss."""
    inputs, targets = problem(batch, dtype, seed=2)
    net, optimizer = si_ref_model(width, dtype, seed=3)
    model, torch_optimizer = torch_model(torch, width, dtype, net=net)
    start = net.get_flat_parameters()
    loss_si_ref = si_ref_step(net, optimizer, inputs, targets)()
    loss_torch = torch_step(torch, model, torch_optimizer, inputs, targets)()
    linears = torch_linears(torch, model)
    torch_grads = [a.numpy() for linear in linears for a in (linear.weight.grad.T, linear.bias.grad)]
    torch_weights = [a.detach().numpy() for linear in linears for a in (linear.weight.T, linear.bias)]
    grads = net.gradients()
    grad_scale = max(float(np.abs(g).max()) for g in grads)
    return {
        "max |gradient difference| / max |gradient|":
            max(float(np.abs(a - b).max()) for a, b in zip(grads, torch_grads)) / grad_scale,
        "max |weight difference| after one step":
            max(float(np.abs(a - b).max()) for a, b in zip(net.parameters(), torch_weights)),
        "max |weight change| in the step": float(np.abs(net.flat_parameters - start).max()),
        "|loss difference|": abs(loss_si_ref - loss_torch),
    }


def alternating_turns(a, b, *, turns: int, steps: int, settle: float) -> dict:
    """Time ``a`` and ``b`` in alternating turns (see the module docstring): medians, median turn ratio a/b.

    A turn of one side: sleep ``settle`` seconds, one untimed call, then ``steps`` timed calls.
    The side that goes first alternates, as in ``_common.paired_timings``.
    """
    timed: dict = {a: [], b: []}
    ratios = []
    for turn in range(turns):
        medians = {}
        for side in ((a, b) if turn % 2 == 0 else (b, a)):
            time.sleep(settle)
            side()
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                side()
                times.append(time.perf_counter() - start)
            timed[side] += times
            medians[side] = statistics.median(times)
        ratios.append(medians[a] / medians[b])
    return {"a_seconds": statistics.median(timed[a]), "b_seconds": statistics.median(timed[b]),
            "ratio": statistics.median(ratios)}


# --- what else ran on the machine ---------------------------------------------------------------

def _busy_jiffies() -> tuple[int, int] | None:
    """(busy jiffies of all CPUs, jiffies of this process and its children), from /proc; None elsewhere."""
    try:
        cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    busy = sum(cpu) - cpu[3] - cpu[4]                           # all but idle and iowait
    return busy, sum(int(v) for v in own[11:15])                # utime, stime, cutime, cstime


def _others_percent(before, after, seconds: float) -> float | None:
    """Share of all CPUs (per cent) used by other processes between two _busy_jiffies() readings."""
    if before is None or after is None or seconds <= 0:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    others = (after[0] - before[0]) - (after[1] - before[1])
    return max(0.0, 100.0 * others / ticks / seconds / os.cpu_count())


# --- the table ----------------------------------------------------------------------------------

def run(out_dir, *, quick: bool = False) -> str:
    """Time every (dtype, batch, width) row; write ``mlp_step.json`` and ``mlp_step.md``; return the Markdown."""
    settings = QUICK if quick else FULL
    torch = optional_torch()
    load_before, busy_before, start = os.getloadavg(), _busy_jiffies(), time.perf_counter()
    peaks = {np.dtype(dtype).name: matmul_peak_gflops(dtype, settings["peak_n"], repeats=settings["peak_repeats"])
             for dtype in DTYPES}
    rows, checks, single_step = [], {}, {}
    for dtype in DTYPES:
        name = np.dtype(dtype).name
        for batch, width, k in settings["sizes"]:
            inputs, targets = problem(batch, dtype)
            net, optimizer = si_ref_model(width, dtype)
            ours = si_ref_step(net, optimizer, inputs, targets)
            row = {"dtype": name, "batch": batch, "width": width}
            if torch is None:
                seconds = median_time(ours, repeats=settings["turns"] * k, warmup=1)
                row.update({"si_ref ms": 1e3 * seconds, "torch ms": SKIPPED, "si_ref/torch": SKIPPED})
            else:
                model, torch_optimizer = torch_model(torch, width, dtype)
                theirs = torch_step(torch, model, torch_optimizer, inputs, targets)
                timing = alternating_turns(ours, theirs, turns=settings["turns"], steps=k, settle=settings["settle"])
                seconds = timing["a_seconds"]
                if settings["single_step_repeats"]:
                    single = paired_timings(ours, theirs, repeats=settings["single_step_repeats"], warmup=1)
                    single_step[f"{name} {batch}x{width}"] = {
                        "si_ref ms": 1e3 * single["a_seconds"], "torch ms": 1e3 * single["b_seconds"],
                        "si_ref/torch": single["ratio"]}
                check = same_step_differences(torch, batch, width, dtype)
                checks[f"{name} {batch}x{width}"] = check
                row.update({"si_ref ms": 1e3 * seconds, "torch ms": 1e3 * timing["b_seconds"],
                            "si_ref/torch": timing["ratio"]})
            gflops = matmul_flops(batch, width) / seconds / 1e9
            row.update({"si_ref GFLOP/s": gflops, "% of matmul peak": 100.0 * gflops / peaks[name],
                        "max abs weight diff after 1 step": SKIPPED if torch is None else
                        checks[f"{name} {batch}x{width}"]["max |weight difference| after one step"]})
            rows.append(row)
    seconds = time.perf_counter() - start
    others = _others_percent(busy_before, _busy_jiffies(), seconds)
    extra = {
        "skipped": SKIPPED if torch is None else None,
        "matmul_peak_gflops": peaks, "peak_matrix_size": settings["peak_n"],
        "turns": settings["turns"], "timed_steps_per_turn": {f"{b}x{w}": k for b, w, k in settings["sizes"]},
        "settle_seconds": settings["settle"], "quick": quick,
        "same_step_checks": checks, "single_step_pairs": single_step,
        "architecture": {"in_dim": in_dim(), "hidden": [w for _, w, _ in settings["sizes"]], "hidden_layers": DEPTH,
                         "out_dim": DIM, "activation": "silu", "loss": "mean over points of 0.5 |f - y|^2",
                         "adam": {"lr": LR, "betas": list(BETAS), "eps": EPS}},
        "matmul_flops_per_step": {f"{b}x{w}": matmul_flops(b, w) for b, w, _ in settings["sizes"]},
        "thread_settings": {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                            "MKL_NUM_THREADS")},
        "load_average_before": list(load_before), "load_average_after": list(os.getloadavg()),
        "other_processes_cpu_percent": others, "seconds": seconds,
    }
    command = "python -m si_ref.validation.benchmarks --only mlp_step" + (" --quick" if quick else "")
    text = write_table(out_dir, NAME, TITLE, rows, command=command, extra=extra)
    note = ("\nMatmul peak measured in this run (square np.matmul, n = {n}): {peaks}. "
            "Load average before/after: {before:.2f}/{after:.2f}; other processes used {others} of the CPUs.\n"
            ).format(n=settings["peak_n"], peaks=", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in peaks.items()),
                     before=load_before[0], after=extra["load_average_after"][0],
                     others="an unknown share" if others is None else f"{others:.0f}%")
    if single_step:
        note += "Plain alternation of single steps (paired_timings, no pause): " + "; ".join(
            f"{key} si_ref/torch {v['si_ref/torch']:.2f}" for key, v in single_step.items()) + ".\n"
    if torch is None:
        note += f"\n{SKIPPED}\n"
    with open(Path(out_dir) / f"{NAME}.md", "a", encoding="utf-8") as markdown:
        markdown.write(note)
    return text + note
