#!/usr/bin/env python3
"""dlcraft against PyTorch on the CPU, one run, same model, same threads (issue 14).

Runs `bench --json` (training img/s and allocations per step, per-layer forward/backward
times, peak RSS) and then the same measurements with PyTorch on the same CNN (the notes' model:
BasicBlock x3 and fc 4096-2048-256-10, Adam, cross-entropy) in a separate process, so each
peak RSS is its own. Prints one table per part with the ratio dlcraft / PyTorch (> 1: dlcraft
is faster). Nothing passes or fails; without torch it prints dlcraft's figures alone.

usage: scripts/bench_cpu_vs_torch.py [--bench build/apps/bench] [--threads 2]
                                     [--batch-sizes 1,32,128] [--warmup 2] [--repeats 10]
                                     [--conv auto|im2col|winograd2|winograd4|benchmark]
       (PyTorch: a venv with torch, e.g. /work/venv-torch/bin/python scripts/bench_cpu_vs_torch.py)
"""
import argparse, json, os, platform, resource, statistics, subprocess, sys, tempfile, time


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def torch_worker(args):
    """The PyTorch side, in its own process: prints one JSON object like bench --json."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, hidden):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, hidden, 3, padding=1)
            self.conv2 = nn.Conv2d(hidden, cout, 3, padding=1)
            self.pool = nn.MaxPool2d(2, 2)

        def forward(self, x):
            return self.pool(F.relu(self.conv2(F.relu(self.conv1(x)))))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1, self.block2 = BasicBlock(3, 32, 16), BasicBlock(32, 128, 64)
            self.block3 = BasicBlock(128, 256, 128)
            self.fc1, self.fc2, self.fc3 = nn.Linear(4096, 2048), nn.Linear(2048, 256), nn.Linear(256, 10)

        def forward(self, x):
            x = torch.flatten(self.block3(self.block2(self.block1(x))), 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    def median_ms(fn):
        for _ in range(args.warmup):
            fn()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000)
        return statistics.median(times)

    out = {"program": "pytorch", "version": torch.__version__, "threads": args.threads, "train": [], "ops": {}}
    for b in args.batch_sizes:
        model = CNN()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        x = torch.randn(b, 3, 32, 32)
        y = torch.arange(b) % 10

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        ms = median_ms(step)
        out["train"].append({"batch": b, "ms": ms, "images_per_second": b / (ms / 1000)})
    # The same per-op cases as bench's table: forward under no_grad; backward = fwd+bwd - fwd.
    convs = [("block1.conv1", 3, 16, 32), ("block1.conv2", 16, 32, 32), ("block2.conv1", 32, 64, 16),
             ("block2.conv2", 64, 128, 16), ("block3.conv1", 128, 128, 8), ("block3.conv2", 128, 256, 8)]
    for b in args.batch_sizes:
        rows = []

        def timed(name, fwd, fwd_bwd):
            def fwd_only():
                with torch.no_grad():
                    fwd()
            f = median_ms(fwd_only)
            fb = median_ms(fwd_bwd)
            rows.append({"name": name, "fwd_ms": f, "bwd_ms": fb - f})

        for name, c, k, hw in convs:
            x = torch.randn(b, c, hw, hw, requires_grad=True)
            w = torch.randn(k, c, 3, 3, requires_grad=True)
            bias = torch.randn(k, requires_grad=True)
            gy = torch.randn(b, k, hw, hw)
            timed(name, lambda: F.conv2d(x, w, bias, padding=1),
                  lambda: F.conv2d(x, w, bias, padding=1).backward(gy))
        for i, (fin, fout) in enumerate([(4096, 2048), (2048, 256), (256, 10)]):
            x = torch.randn(b, fin, requires_grad=True)
            w = torch.randn(fout, fin, requires_grad=True)
            bias = torch.randn(fout, requires_grad=True)
            gy = torch.randn(b, fout)
            timed("fc%d" % (i + 1), lambda: F.linear(x, w, bias), lambda: F.linear(x, w, bias).backward(gy))
        x = torch.randn(b, 32, 32, 32, requires_grad=True)
        gp, gr = torch.randn(b, 32, 16, 16), torch.randn(b, 32, 32, 32)
        timed("block1.pool", lambda: F.max_pool2d(x, 2, 2), lambda: F.max_pool2d(x, 2, 2).backward(gp))
        timed("relu", lambda: F.relu(x), lambda: F.relu(x).backward(gr))
        z = torch.randn(b, 10, requires_grad=True)
        labels = torch.full((b,), 3)
        timed("cross_entropy", lambda: F.cross_entropy(z, labels), lambda: F.cross_entropy(z, labels).backward())
        out["ops"][str(b)] = rows
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default=os.path.join(here, "..", "build", "apps", "bench"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch-sizes", default="1,32,128")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--conv", default="auto", choices=["auto", "im2col", "winograd2", "winograd4", "benchmark"],
                   help="dlcraft's CPU algorithm for the 3x3 convs (docs/winograd.md)")
    p.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    try:
        args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
        if not args.batch_sizes or min(args.batch_sizes) < 1:
            raise ValueError
    except ValueError:
        sys.exit("bench_cpu_vs_torch: --batch-sizes must be positive integers like 1,32,128, got %r" % args.batch_sizes)
    if args.threads < 1 or args.repeats < 1 or args.warmup < 0:
        sys.exit("bench_cpu_vs_torch: --threads and --repeats must be >= 1, --warmup >= 0")
    if args.torch_worker:
        return torch_worker(args)
    if not os.access(args.bench, os.X_OK):
        sys.exit("bench_cpu_vs_torch: no bench program at %s (build it, or give --bench)" % args.bench)

    common = ["--threads", str(args.threads), "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dlcraft.json")
        r = subprocess.run([args.bench, "--device", "cpu", "--batch-sizes", ",".join(map(str, args.batch_sizes)),
                            "--conv", args.conv, "--json", path] + common, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("bench_cpu_vs_torch: bench failed (exit %d):\n%s" % (r.returncode, r.stderr))
        with open(path) as f:
            ours = json.load(f)
    theirs = None
    r = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-worker", "--threads", str(args.threads),
                        "--batch-sizes", ",".join(map(str, args.batch_sizes)), "--warmup", str(args.warmup),
                        "--repeats", str(args.repeats)], capture_output=True, text=True)
    if r.returncode == 0:
        theirs = json.loads(r.stdout.strip().splitlines()[-1])
    else:
        reason = "torch is not importable" if "No module named 'torch'" in r.stderr else r.stderr.strip()[-300:]
        print("PyTorch: not run (%s)" % reason)

    print("CPU: %s, %d threads; %s (conv %s) vs %s; median of %d after %d warm-up" % (
        cpu_model(), args.threads, ours["version"], args.conv, "PyTorch " + theirs["version"] if theirs else "-",
        args.repeats, args.warmup))
    print("\ntraining step (forward, cross-entropy, backward, Adam), images/s:")
    print("%6s %12s %12s %8s %16s" % ("batch", "dlcraft", "PyTorch", "ratio", "dlcraft allocs"))
    for row in ours["train"]:
        t = next((x for x in theirs["train"] if x["batch"] == row["batch"]), None) if theirs else None
        print("%6d %12.1f %12s %8s %9.1f sys %5.0f cached" % (
            row["batch"], row["images_per_second"], "%.1f" % t["images_per_second"] if t else "-",
            "%.2fx" % (row["images_per_second"] / t["images_per_second"]) if t else "-",
            row.get("system_allocs_per_step", 0), row.get("cached_allocs_per_step", 0)))
    for b in map(str, args.batch_sizes):
        print("\nper layer at batch %s (ms; ratio = PyTorch time / dlcraft time):" % b)
        print("%-15s %10s %10s %7s %10s %10s %7s" % ("layer", "fwd ours", "fwd torch", "ratio", "bwd ours", "bwd torch", "ratio"))
        torch_rows = {x["name"]: x for x in theirs["ops"].get(b, [])} if theirs else {}
        for row in ours["ops"].get(b, []):
            t = torch_rows.get(row["name"])
            ratio = lambda a, c: "%.2fx" % (c / a) if t and a > 0 else "-"
            print("%-15s %10.3f %10s %7s %10.3f %10s %7s" % (
                row["name"], row["fwd_ms"], "%.3f" % t["fwd_ms"] if t else "-", ratio(row["fwd_ms"], t["fwd_ms"] if t else 0),
                row["bwd_ms"], "%.3f" % t["bwd_ms"] if t else "-", ratio(row["bwd_ms"], t["bwd_ms"] if t else 0)))
    print("\npeak RSS: dlcraft %.0f MB, PyTorch %s" % (
        ours["peak_rss_mb"], "%.0f MB" % theirs["peak_rss_mb"] if theirs else "-"))


if __name__ == "__main__":
    main()
