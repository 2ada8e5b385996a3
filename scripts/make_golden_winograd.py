#!/usr/bin/env python3
"""Golden file for the Winograd convolution (docs/winograd.md): 3x3 stride-1 conv2d cases run
by PyTorch, read by tests/ops/test_conv2d_winograd.cpp with each algorithm forced.

    /work/venv-torch/bin/python scripts/make_golden_winograd.py [OUT_DIR]   (default tests/golden)

Same format and helpers as scripts/make_golden.py (which it imports): writes
winograd.safetensors, one case per shape, with the gradients of x, the weight and the bias.
"""
import os
import sys

import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden  # noqa: E402  (torch settings: deterministic, one thread)


def winograd(a):
    # Shapes with partial edge tiles for both tile sizes (odd sizes, 6 and 10 not multiples of
    # 4), padding 0, 1, 2 and per side, channels that are multiples of nothing, and one deep
    # 8x8 layer like the CNN's third block (smaller).
    for name, xs, ws, padding, bias in [
            ("p1_bias", [2, 8, 12, 12], [12, 8, 3, 3], [1, 1], True),
            ("odd_p0", [1, 5, 9, 11], [7, 5, 3, 3], [0, 0], False),
            ("odd_p21", [3, 3, 7, 5], [4, 3, 3, 3], [2, 1], True),
            ("p2_6x10", [1, 6, 6, 10], [5, 6, 3, 3], [2, 2], False),
            ("deep_8x8", [2, 32, 8, 8], [16, 32, 3, 3], [1, 1], True)]:
        def inputs(xs=xs, ws=ws, bias=bias):
            t = [a.uniform(xs, -1, 1), a.uniform(ws, -1, 1)]
            return t + [a.uniform([ws[0]], -1, 1)] if bias else t
        a.case(name, "conv2d", {"padding": padding}, inputs,
               lambda x, w, b=None, padding=padding: F.conv2d(x, w, b, stride=1, padding=tuple(padding)))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
    area = make_golden.Area("winograd")
    winograd(area)
    meta = {"area": area.name, "torch_version": make_golden.torch.__version__,
            "generated_by": "scripts/make_golden_winograd.py",
            "cases": make_golden.json.dumps(area.cases, sort_keys=True, separators=(",", ":"))}
    path = os.path.join(out_dir, "winograd.safetensors")
    make_golden.write_safetensors(path, area.tensors, meta)
    print(f"{path}: {len(area.cases)} cases, {len(area.tensors)} tensors, {os.path.getsize(path)} bytes, "
          f"torch {make_golden.torch.__version__}")


if __name__ == "__main__":
    main()
