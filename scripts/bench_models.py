#!/usr/bin/env python3
"""Model inference speed, dlcraft beside PyTorch on the same machine, in one run.

    python scripts/bench_models.py [--bench build-cpu/apps/bench] [--model resnet50]
                                   [--batch-sizes 1,32] [--threads 2] [--device cpu]
                                   [--warmup 2] [--repeats 10] [--image-size 224]

Runs `bench --model M --model-only` (our kernels) and the same model from torchvision
(weights=None: random weights, the speed does not depend on them) in eval mode under
torch.no_grad(), with the same threads, warm-up and median of the same number of runs, and
prints images/s for both and the ratio. Without torch/torchvision it prints ours alone.
"""
import argparse
import re
import statistics
import subprocess
import sys
import time


def ours(args):
    cmd = [args.bench, "--device", args.device, "--threads", str(args.threads), "--model", args.model,
           "--model-batch-sizes", args.batch_sizes, "--image-size", str(args.image_size), "--model-only",
           "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    sys.stdout.write(out)
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^%s\s+(\d+)\s+([\d.]+)\s+([\d.]+)$" % re.escape(args.model), line.strip())
        if m:
            rows[int(m.group(1))] = float(m.group(3))
    return rows


def theirs(args):
    try:
        import torch
        import torchvision
    except ImportError:
        return None, None
    torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "cuda" else "cpu"
    model = getattr(torchvision.models, args.model)(weights=None).to(device).eval()
    rows = {}
    for b in [int(x) for x in args.batch_sizes.split(",")]:
        x = torch.randn(b, 3, args.image_size, args.image_size, device=device)
        times = []
        with torch.no_grad():
            for i in range(args.warmup + args.repeats):
                t0 = time.perf_counter()
                model(x)
                if device == "cuda":
                    torch.cuda.synchronize()
                if i >= args.warmup:
                    times.append(time.perf_counter() - t0)
        rows[b] = b / statistics.median(times)
    return rows, "PyTorch %s, torchvision %s" % (torch.__version__, torchvision.__version__)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", default="build-cpu/apps/bench")
    p.add_argument("--model", default="resnet50")
    p.add_argument("--batch-sizes", default="1,32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--image-size", type=int, default=224)
    args = p.parse_args()
    mine = ours(args)
    peer, version = theirs(args)
    print("\n%s inference, %s, %d threads, %dx%d, median of %d" % (args.model, args.device, args.threads,
                                                                  args.image_size, args.image_size, args.repeats))
    if peer is None:
        print("(torch/torchvision not importable: dlcraft only)")
    else:
        print("peer: " + version)
    print("%6s %14s %14s %8s" % ("batch", "dlcraft img/s", "torch img/s", "ratio"))
    for b in sorted(mine):
        if peer is None:
            print("%6d %14.2f %14s %8s" % (b, mine[b], "-", "-"))
        else:
            print("%6d %14.2f %14.2f %7.2fx" % (b, mine[b], peer[b], mine[b] / peer[b]))


if __name__ == "__main__":
    main()
