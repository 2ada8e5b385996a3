#!/usr/bin/env python3
"""Golden files for the tensor library: every op of the contract (core/ops.hpp) run by PyTorch.

    python scripts/make_golden.py [OUT_DIR] [--areas A,B]   (default tests/golden, every area)

Needs torch (any recent version; the files record which one made them). Writes one safetensors
file per area (core, elementwise, reductions, losses, views, matmul, conv_pool). A case named C stores

    C/in0, C/in1, ...   the inputs (float32, int64 or bool)
    C/out, C/out1       the outputs (out1: the indices of max/min along a dim)
    C/w                 a random weight, when some float input requires grad
    C/grad0, ...        d sum(out * w) / d in_k for the inputs listed in the case's "grads"

and the header's __metadata__ holds "cases", a JSON list of {"name", "op", "params",
"inputs", "outputs", "grads"} (the op names and parameters that tests/ops/test_golden_*.cpp
map onto our API), "torch_version" and "area". The tests read the files; no PyTorch is
needed to run them (tests/golden/README.md).

Deterministic: each case draws its inputs from a torch.Generator seeded with the CRC-32 of
its name, the computation is float32 on the CPU, and the files are written here (sorted
names, compact JSON), so running it again gives the same bytes with the same torch.
"""
import json
import math
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)  # summation order independent of the machine's core count

DTYPE_NAMES = {torch.float32: "F32", torch.int64: "I64", torch.bool: "BOOL"}
DTYPE_ARG = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}


def write_safetensors(path, tensors, metadata):
    """The safetensors layout (8-byte header length, JSON header padded with spaces to a
    multiple of 8, raw little-endian data), written by hand so that the bytes do not depend
    on a library's hash-map order. Tensors go in order of element size, then name, so every
    tensor starts aligned to its element size (as the safetensors library does)."""
    size = {torch.int64: 8, torch.float32: 4, torch.bool: 1}
    names = sorted(tensors, key=lambda n: (-size[tensors[n].dtype], n))
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for n in names:
        t = tensors[n].detach().contiguous().cpu()
        data = t.numpy().tobytes() if t.numel() else b""
        header[n] = {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape),
                     "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


class Area:
    """The cases of one file."""

    def __init__(self, name):
        self.name = name
        self.cases = []
        self.tensors = {}
        self.gen = None

    # ---- inputs, drawn from the current case's generator
    def uniform(self, shape, lo=-2.0, hi=2.0):
        return torch.rand(shape, generator=self.gen) * (hi - lo) + lo

    def away(self, shape, point=0.0, margin=0.1, lo=-2.0, hi=2.0):
        """Uniform in [lo, hi) but at least `margin` from `point` (a kink: abs at 0)."""
        x = self.uniform(shape, lo, hi)
        close = (x - point).abs() < margin
        return torch.where(close, x + torch.where(x >= point, margin, -margin) * 2, x)

    def integers(self, shape, lo, hi):
        return torch.randint(lo, hi, shape, generator=self.gen)

    def distinct(self, shape, lo=-2.0, hi=2.0):
        """Values with no two closer than (hi - lo) / (2 numel): no ties for max/argmax."""
        n = max(1, math.prod(shape))
        perm = torch.randperm(n, generator=self.gen).to(torch.float32)
        jitter = torch.rand(n, generator=self.gen) * 0.5
        return ((perm + jitter) / n * (hi - lo) + lo).reshape(shape)

    def case(self, name, op, params, make_inputs, fn, grads=None):
        """make_inputs() draws the inputs; fn(*inputs) returns a tensor or a tuple of them.
        grads: the input indices to differentiate (default: every float input)."""
        full = f"{op}/{name}" if name else op
        assert all(c["name"] != full for c in self.cases), full
        self.gen = torch.Generator().manual_seed(zlib.crc32(full.encode()))
        inputs = make_inputs()
        if not isinstance(inputs, (list, tuple)):
            inputs = [inputs]
        inputs = [t.detach().clone() for t in inputs]
        wanted = grads if grads is not None else [i for i, t in enumerate(inputs) if t.dtype == torch.float32]
        leaves = [t.requires_grad_(True) if i in wanted else t for i, t in enumerate(inputs)]
        outs = fn(*leaves)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        if grads is None:  # by default every float input, when the output is float (not a mask)
            grads = wanted if outs[0].dtype == torch.float32 else []
        for i, t in enumerate(inputs):
            self.tensors[f"{full}/in{i}"] = t.detach()
        for i, t in enumerate(outs):
            self.tensors[f"{full}/out" + (str(i) if i else "")] = t.detach().contiguous()
        if grads:
            out = outs[0]
            assert out.dtype == torch.float32 and out.requires_grad, full
            w = torch.randn(out.shape, generator=self.gen)
            gs = torch.autograd.grad((out * w).sum(), [leaves[i] for i in grads])
            self.tensors[f"{full}/w"] = w
            for i, g in zip(grads, gs):
                self.tensors[f"{full}/grad{i}"] = g
        self.cases.append({"name": full, "op": op, "params": params, "inputs": len(inputs),
                           "outputs": len(outs), "grads": grads})

    def write(self, out_dir):
        meta = {"area": self.name, "torch_version": torch.__version__,
                "generated_by": "scripts/make_golden.py",
                "cases": json.dumps(self.cases, sort_keys=True, separators=(",", ":"))}
        path = os.path.join(out_dir, self.name + ".safetensors")
        write_safetensors(path, self.tensors, meta)
        return path


def reduction_name(r):
    return r  # "none" | "mean" | "sum", as torch spells them


# ------------------------------------------------------------------------------------- core
def core(a):
    for name, shape, dims, keep in [("all", [3, 5], [], False), ("dim0", [4, 3], [0], False),
                                    ("dims02_keep", [2, 3, 5], [0, 2], True),
                                    ("neg", [3, 4, 5], [-1], False), ("neg2_keep", [2, 3, 4], [-2, 0], True),
                                    ("zero_d", [], [], False)]:
        a.case(name, "sum", {"dims": dims, "keepdim": keep}, lambda: a.uniform(shape),
               lambda x: x.sum(dim=dims or None, keepdim=keep) if dims else x.sum())
    a.case("neg_keep", "sum_dim", {"dim": -2, "keepdim": True}, lambda: a.uniform([3, 5, 2]),
           lambda x: x.sum(dim=-2, keepdim=True))
    a.case("", "sum_dim", {"dim": 1, "keepdim": False}, lambda: a.uniform([4, 7]), lambda x: x.sum(dim=1))
    for name, ish, sh in [("col", [3, 1], [2, 3, 4]), ("minus1", [1, 7, 1], [5, -1, 3]),
                          ("zero_d", [], [2, 3]), ("same", [2, 3], [2, 3]), ("lead", [5], [3, 1, 5])]:
        a.case(name, "expand", {"shape": sh}, lambda: a.uniform(ish), lambda x: x.expand(*sh).contiguous())
    for name, ish, sh in [("col", [2, 3, 4], [3, 1]), ("lead", [4, 2, 3], [2, 3]),
                          ("all", [2, 3], []), ("mid", [3, 4, 5], [3, 1, 5]), ("same", [3, 2], [3, 2])]:
        a.case(name, "sum_to", {"shape": sh}, lambda: a.uniform(ish),
               lambda x: x.sum_to_size(*sh) if sh else x.sum())
    for name, start, end, step, dt in [("int", 0, 5, 1, "int64"), ("float_tenth", 0, 1, 0.1, "float32"),
                                       ("float_neg", -3, 3, 0.7, "float32"), ("int_down", 10, 0, -3, "int64"),
                                       ("float_quarter", 1.5, 4.0, 0.25, "float32"),
                                       ("float_down", 2, -1, -0.5, "float32")]:
        a.case(name, "arange", {"start": start, "end": end, "step": step, "dtype": dt}, lambda: [],
               lambda: torch.arange(start, end, step, dtype=DTYPE_ARG[dt]))
    for name, end, dt in [("int", 6, "int64"), ("float", 4, "float32")]:
        a.case(name, "arange_end", {"end": end, "dtype": dt}, lambda: [],
               lambda: torch.arange(end, dtype=DTYPE_ARG[dt]))
    for name, start, end, steps in [("unit5", 0, 1, 5), ("odd7", -2, 3, 7), ("one", 3, 3, 1),
                                    ("down", 1, -1, 4), ("empty", 0, 1, 0), ("thirds", 0, 1, 4),
                                    ("many", -1.5, 2.25, 33)]:
        a.case(name, "linspace", {"start": start, "end": end, "steps": steps}, lambda: [],
               lambda: torch.linspace(start, end, steps))


# ------------------------------------------------------------------------------ element-wise
BCAST = [("same", [3, 5], [3, 5]), ("bcast", [2, 1, 4], [3, 1]), ("zero_d", [], [4]),
         ("row", [5], [2, 5]), ("both_zero_d", [], [])]


def elementwise(a):
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul}
    for op, f in ops.items():
        for name, sa, sb in BCAST:
            a.case(name, op, {}, lambda: [a.uniform(sa), a.uniform(sb)], f)
    for name, sa, sb in BCAST:
        a.case(name, "div", {}, lambda: [a.uniform(sa), a.away(sb, 0, 0.5)], torch.div)
        a.case(name, "pow", {}, lambda: [a.uniform(sa, 0.5, 2.0), a.uniform(sb)], torch.pow)
    for op, f in [("maximum", torch.maximum), ("minimum", torch.minimum)]:
        for name, sa, sb in BCAST[:4]:
            a.case(name, op, {}, lambda: [a.uniform(sa), a.uniform(sb)], f)
        # Ties: torch hands each side half the gradient (the contract says the same).
        a.case("ties", op, {}, lambda: [a.integers([4, 5], -2, 3).float(), a.integers([5], -2, 3).float()], f)

    scalar_ops = {"add_scalar": lambda x, s: x + s, "sub_scalar": lambda x, s: x - s,
                  "rsub_scalar": lambda x, s: s - x, "mul_scalar": lambda x, s: x * s,
                  "div_scalar": lambda x, s: x / s, "rdiv_scalar": lambda x, s: s / x}
    for op, f in scalar_ops.items():
        for name, shape, s in [("", [3, 4], 2.5), ("neg", [5], -1.5), ("zero_d", [], 0.75)]:
            make = (lambda: a.away(shape, 0, 0.5)) if op == "rdiv_scalar" else (lambda: a.uniform(shape))
            a.case(name, op, {"scalar": s}, make, lambda x: f(x, s))
    for name, shape, e, lo in [("square", [3, 4], 2.0, -2.0), ("sqrt", [5], 0.5, 0.5), ("neg", [2, 3], -1.5, 0.5),
                               ("cube", [4], 3.0, -2.0), ("zero_d", [], 2.5, 0.5)]:
        a.case(name, "pow_scalar", {"scalar": e}, lambda: a.uniform(shape, lo, 2.0), lambda x: torch.pow(x, e))
    for name, shape in [("", [3, 4]), ("zero_d", [])]:
        a.case(name, "neg", {}, lambda: a.uniform(shape), torch.neg)

    cmps = {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge}
    for op, f in cmps.items():
        # Small integers (as floats and as int64) so that equal pairs occur.
        a.case("float", op, {}, lambda: [a.integers([3, 4], -2, 3).float(), a.integers([3, 4], -2, 3).float()], f)
        a.case("float_bcast", op, {}, lambda: [a.integers([2, 1, 3], -2, 3).float(), a.integers([4, 1], -2, 3).float()], f)
        a.case("int64_bcast", op, {}, lambda: [a.integers([3, 4], -3, 4), a.integers([4], -3, 4)], f)
        a.case("float", op + "_scalar", {"scalar": 1.0}, lambda: a.integers([3, 5], -2, 3).float(), lambda x: f(x, 1.0))
        a.case("int64", op + "_scalar", {"scalar": -1.0}, lambda: a.integers([6], -3, 3), lambda x: f(x, -1))
        a.case("frac", op + "_scalar", {"scalar": 0.25}, lambda: a.uniform([7]), lambda x: f(x, 0.25))
    for name, sc, sa, sb in [("same", [3, 4], [3, 4], [3, 4]), ("bcast", [3, 1], [3, 4], [4]),
                             ("zero_d_b", [2, 3], [2, 3], []), ("cond_row", [5], [2, 5], [2, 1])]:
        a.case(name, "where", {}, lambda: [a.integers(sc, 0, 2).bool(), a.uniform(sa), a.uniform(sb)], torch.where)

    unary = [("exp", torch.exp, lambda s: a.uniform(s)),
             ("log", torch.log, lambda s: a.uniform(s, 0.1, 4.0)),
             ("sqrt", torch.sqrt, lambda s: a.uniform(s, 0.1, 4.0)),
             ("abs", torch.abs, lambda s: a.away(s, 0.0, 0.1)),
             ("sigmoid", torch.sigmoid, lambda s: a.uniform(s, -5, 5)),
             ("tanh", torch.tanh, lambda s: a.uniform(s, -3, 3))]
    for op, f, make in unary:
        for name, shape in [("", [3, 7]), ("zero_d", [])]:
            a.case(name, op, {}, lambda: make(shape), f)
    for name, slope in [("default", 0.01), ("steep", 0.2)]:
        a.case(name, "leaky_relu", {"negative_slope": slope}, lambda: a.away([4, 5], 0.0, 0.1),
               lambda x: F.leaky_relu(x, slope))
    for name, approx in [("erf", "none"), ("tanh", "tanh")]:
        a.case(name, "gelu", {"approximate": approx}, lambda: a.uniform([4, 6], -4, 4),
               lambda x: F.gelu(x, approximate=approx))
    for name, lo, hi in [("both", -0.5, 1.0), ("min_only", 0.3, None), ("max_only", None, -0.2)]:
        def make_clamp():  # inputs kept 0.05 away from the bounds (the gradient's kinks)
            x = a.uniform([5, 4])
            for b in (lo, hi):
                if b is not None:
                    x = torch.where((x - b).abs() < 0.05, x + 0.1, x)
            return x
        a.case(name, "clamp", {"min": lo, "max": hi}, make_clamp, lambda x: torch.clamp(x, lo, hi))

    casts = [("float_int64", lambda: a.uniform([9], -5, 5), "int64"),
             ("float_bool", lambda: torch.cat([a.uniform([5]), torch.zeros(2), -a.uniform([2], 0.0, 1e-3)]), "bool"),
             ("int64_float", lambda: a.integers([2, 3], -1000, 1000), "float32"),
             ("int64_bool", lambda: a.integers([7], -2, 3), "bool"),
             ("bool_float", lambda: a.integers([6], 0, 2).bool(), "float32"),
             ("bool_int64", lambda: a.integers([2, 2], 0, 2).bool(), "int64"),
             ("float_float", lambda: a.uniform([3]), "float32")]
    for name, make, dt in casts:
        a.case(name, "cast", {"dtype": dt}, make, lambda x: x.to(DTYPE_ARG[dt]), grads=[])
        a.case(name, "to", {"dtype": dt}, make, lambda x: x.to(DTYPE_ARG[dt]), grads=[])

    # In-place arithmetic (not recorded by autograd: forward only).
    for op, f in [("add_", torch.Tensor.add_), ("sub_", torch.Tensor.sub_), ("mul_", torch.Tensor.mul_),
                  ("div_", torch.Tensor.div_)]:
        for name, sx, so in [("same", [3, 4], [3, 4]), ("bcast", [2, 3, 4], [3, 1])]:
            a.case(name, op, {}, lambda: [a.uniform(sx), a.away(so, 0, 0.5)],
                   lambda x, o: f(x.clone(), o), grads=[])
    a.case("", "add_scalar_", {"scalar": -0.5}, lambda: a.uniform([2, 5]), lambda x: x.clone().add_(-0.5), grads=[])
    a.case("", "mul_scalar_", {"scalar": 3.0}, lambda: a.uniform([2, 5]), lambda x: x.clone().mul_(3.0), grads=[])
    a.case("", "zero_", {}, lambda: a.uniform([4]), lambda x: x.clone().zero_(), grads=[])


# ------------------------------------------------------------------------------- reductions
def reductions(a):
    for name, shape, dims, keep in [("all", [3, 5], [], False), ("dim1", [4, 6], [1], False),
                                    ("dims02_keep", [2, 3, 5], [0, 2], True), ("neg", [3, 4, 5], [-1], False),
                                    ("zero_d", [], [], False), ("all_keep", [2, 3], [], True)]:
        a.case(name, "mean", {"dims": dims, "keepdim": keep}, lambda: a.uniform(shape),
               lambda x: x.mean(dim=dims, keepdim=keep) if dims else
               (x.mean().reshape([1] * x.dim()) if keep else x.mean()))
    a.case("neg_keep", "mean_dim", {"dim": -2, "keepdim": True}, lambda: a.uniform([3, 5, 2]),
           lambda x: x.mean(dim=-2, keepdim=True))
    a.case("", "mean_dim", {"dim": 0, "keepdim": False}, lambda: a.uniform([7, 3]), lambda x: x.mean(dim=0))
    for op, f in [("max_dim", torch.max), ("min_dim", torch.min)]:
        for name, shape, dim, keep in [("d1", [4, 7], 1, False), ("d0_keep", [5, 3], 0, True),
                                       ("neg", [2, 3, 5], -1, False), ("mid_keep", [2, 5, 3], 1, True),
                                       ("vec", [9], 0, False)]:
            a.case(name, op, {"dim": dim, "keepdim": keep}, lambda: a.distinct(shape),
                   lambda x: tuple(f(x, dim, keepdim=keep)))
        # Ties: the index is the first of equal extremes, and the gradient goes there alone.
        a.case("ties", op, {"dim": 1, "keepdim": False},
               lambda: torch.tensor([[1., 3., 3., 0.], [2., 2., -1., 2.], [-1., -1., -1., -1.]]),
               lambda x: tuple(f(x, 1)))
    for op, f in [("max_all", torch.max), ("min_all", torch.min)]:
        for name, shape in [("", [4, 5]), ("3d", [2, 3, 3]), ("zero_d", [])]:
            a.case(name, op, {}, lambda: a.distinct(shape), f)
    for op, f in [("argmax_dim", torch.argmax), ("argmin_dim", torch.argmin)]:
        for name, shape, dim, keep in [("d1", [4, 7], 1, False), ("d0_keep", [5, 3], 0, True),
                                       ("neg", [2, 3, 5], -2, False)]:
            a.case(name, op, {"dim": dim, "keepdim": keep}, lambda: a.distinct(shape),
                   lambda x: f(x, dim, keepdim=keep))
        a.case("ties", op, {"dim": 1, "keepdim": False},
               lambda: torch.tensor([[1., 3., 3., 0.], [2., 2., -1., 2.], [-1., -1., -1., -1.]]),
               lambda x: f(x, 1))
    for name, shape in [("", [3, 5]), ("3d", [2, 3, 4]), ("zero_d", [])]:
        a.case(name, "argmax_all", {}, lambda: a.distinct(shape), torch.argmax)
    for op, f in [("var", torch.var), ("std", torch.std)]:
        for name, shape, dims, corr, keep in [("all", [4, 5], [], 1, False), ("dim1", [3, 7], [1], 1, False),
                                              ("pop", [3, 7], [1], 0, False), ("dims_keep", [2, 3, 5], [0, 2], 1, True),
                                              ("neg", [4, 3], [-2], 1, False), ("all_pop_keep", [3, 3], [], 0, True),
                                              ("corr2", [2, 6], [1], 2, False)]:
            a.case(name, op, {"dims": dims, "correction": corr, "keepdim": keep}, lambda: a.uniform(shape),
                   lambda x: f(x, dim=dims or None, correction=corr, keepdim=keep))
    for op, f in [("softmax", torch.softmax), ("log_softmax", torch.log_softmax)]:
        for name, shape, dim in [("rows", [4, 7], 1), ("cols", [5, 3], 0), ("neg", [2, 3, 5], -1),
                                 ("mid", [2, 4, 3], 1), ("large", [3, 4], 1)]:
            lo, hi = (-40.0, 40.0) if name == "large" else (-3.0, 3.0)  # large: needs the max shift
            a.case(name, op, {"dim": dim}, lambda: a.uniform(shape, lo, hi), lambda x: f(x, dim))
    for name, shape, dim, keep in [("rows", [4, 7], 1, False), ("keep", [3, 5], 0, True),
                                   ("neg", [2, 3, 4], -1, False), ("large", [3, 4], 1, False)]:
        lo, hi = (-40.0, 40.0) if name == "large" else (-3.0, 3.0)
        a.case(name, "logsumexp", {"dim": dim, "keepdim": keep}, lambda: a.uniform(shape, lo, hi),
               lambda x: torch.logsumexp(x, dim, keepdim=keep))


# ----------------------------------------------------------------------------------- losses
REDUCTIONS = ["none", "mean", "sum"]


def losses(a):
    for r in REDUCTIONS:
        a.case(r, "mse_loss", {"reduction": r}, lambda: [a.uniform([4, 5]), a.uniform([4, 5])],
               lambda x, t: F.mse_loss(x, t, reduction=r))
        a.case(r, "l1_loss", {"reduction": r},
               lambda: (lambda t: [t + a.away([3, 7], 0.0, 0.1), t])(a.uniform([3, 7])),
               lambda x, t: F.l1_loss(x, t, reduction=r))
        # torch has no gradient for BCE's target: only the probabilities'.
        a.case(r, "binary_cross_entropy", {"reduction": r},
               lambda: [a.uniform([4, 3], 0.05, 0.95), a.uniform([4, 3], 0.0, 1.0)],
               lambda p, t: F.binary_cross_entropy(p, t, reduction=r), grads=[0])
        a.case(r, "binary_cross_entropy_with_logits", {"reduction": r},
               lambda: [a.uniform([5, 3], -4, 4), a.uniform([5, 3], 0.0, 1.0)],
               lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=r))
        a.case(r, "nll_loss", {"reduction": r}, lambda: [a.uniform([6, 5], -4, 0), a.integers([6], 0, 5)],
               lambda x, t: F.nll_loss(x, t, reduction=r))
        for ls in [0.0, 0.1]:
            a.case(f"{r}_ls{ls}", "cross_entropy", {"reduction": r, "label_smoothing": ls},
                   lambda: [a.uniform([7, 4], -3, 3), a.integers([7], 0, 4)],
                   lambda x, t: F.cross_entropy(x, t, reduction=r, label_smoothing=ls))
    a.case("hard_targets", "binary_cross_entropy", {"reduction": "mean"},
           lambda: [a.uniform([2, 5], 0.05, 0.95), a.integers([2, 5], 0, 2).float()],
           lambda p, t: F.binary_cross_entropy(p, t), grads=[0])
    a.case("large", "cross_entropy", {"reduction": "mean", "label_smoothing": 0.0},
           lambda: [a.uniform([3, 10], -50, 50), a.integers([3], 0, 10)], lambda x, t: F.cross_entropy(x, t))
    a.case("one_row", "cross_entropy", {"reduction": "sum", "label_smoothing": 0.25},
           lambda: [a.uniform([1, 6], -3, 3), a.integers([1], 0, 6)],
           lambda x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.25))
    # The training loop's form: int32 labels, mean (ops.hpp's first cross_entropy).
    a.case("", "cross_entropy_int32", {}, lambda: [a.uniform([6, 10], -3, 3), a.integers([6], 0, 10)],
           lambda x, t: F.cross_entropy(x, t))


# ---------------------------------------------------------------------------- views, indexing
def views(a):
    for name, shape, d0, d1 in [("", [3, 5], 0, 1), ("3d", [2, 3, 4], 0, 2), ("neg", [2, 3, 4], -1, 1),
                                ("same", [3, 4], 1, 1)]:
        a.case(name, "transpose", {"dim0": d0, "dim1": d1}, lambda: a.uniform(shape),
               lambda x: x.transpose(d0, d1).contiguous())
    for name, shape, dims in [("", [2, 3, 4], [2, 0, 1]), ("4d", [2, 3, 1, 5], [3, 1, 0, 2]),
                              ("neg", [3, 4, 2], [-1, 0, 1]), ("id", [3, 2], [0, 1])]:
        a.case(name, "permute", {"dims": dims}, lambda: a.uniform(shape),
               lambda x: x.permute(*dims).contiguous())
    for op in ["view", "reshape"]:
        for name, shape, to in [("", [2, 6], [3, 4]), ("infer", [2, 3, 4], [4, -1]), ("to_zero_d", [1, 1], []),
                                ("from_zero_d", [], [1, 1, 1])]:
            a.case(name, op, {"shape": to}, lambda: a.uniform(shape), lambda x: x.reshape(to))
    a.case("int64", "reshape", {"shape": [3, 2]}, lambda: a.integers([6], -5, 5), lambda x: x.reshape(3, 2))
    for name, shape, s, e in [("", [2, 3, 4], 1, 2), ("all", [2, 3, 4], 0, -1), ("neg", [2, 3, 4, 5], -3, -2),
                              ("one", [3, 4], 1, 1)]:
        a.case(name, "flatten", {"start_dim": s, "end_dim": e}, lambda: a.uniform(shape),
               lambda x: torch.flatten(x, s, e))
    for name, shape in [("", [1, 3, 1, 2]), ("none", [2, 3]), ("to_zero_d", [1, 1])]:
        a.case(name, "squeeze", {}, lambda: a.uniform(shape), lambda x: x.squeeze())
    for name, shape, d in [("", [3, 1, 2], 1), ("neg", [3, 2, 1], -1), ("not_one", [3, 2], 0)]:
        a.case(name, "squeeze_dim", {"dim": d}, lambda: a.uniform(shape), lambda x: x.squeeze(d))
    for name, shape, d in [("front", [3, 2], 0), ("mid", [3, 2], 1), ("end", [3, 2], -1), ("neg2", [3, 2], -2),
                           ("zero_d", [], 0)]:
        a.case(name, "unsqueeze", {"dim": d}, lambda: a.uniform(shape), lambda x: x.unsqueeze(d))
    a.case("", "contiguous", {}, lambda: a.uniform([2, 3]), lambda x: x.contiguous())
    for name, shapes, d in [("rows", [[2, 3], [4, 3], [1, 3]], 0), ("cols", [[2, 3], [2, 1], [2, 4]], 1),
                            ("neg", [[2, 2, 3], [2, 2, 2]], -1), ("one", [[3, 2]], 0)]:
        a.case(name, "cat", {"dim": d}, lambda: [a.uniform(s) for s in shapes], lambda *xs: torch.cat(xs, d))
    a.case("int64", "cat", {"dim": 0}, lambda: [a.integers([2, 2], -9, 9), a.integers([3, 2], -9, 9)],
           lambda *xs: torch.cat(xs, 0))
    a.case("bool", "cat", {"dim": 1}, lambda: [a.integers([2, 1], 0, 2).bool(), a.integers([2, 3], 0, 2).bool()],
           lambda *xs: torch.cat(xs, 1))
    for name, shape, k, d in [("front", [3, 4], 3, 0), ("mid", [2, 3], 2, 1), ("end", [2, 3], 4, -1),
                              ("zero_d", [], 3, 0)]:
        a.case(name, "stack", {"dim": d}, lambda: [a.uniform(shape) for _ in range(k)],
               lambda *xs: torch.stack(xs, d))
    a.case("int64", "stack", {"dim": 1}, lambda: [a.integers([3], 0, 9), a.integers([3], 0, 9)],
           lambda *xs: torch.stack(xs, 1))
    for name, shape, d, s, n in [("", [5, 3], 0, 1, 3), ("cols", [3, 6], 1, 2, 4), ("neg", [2, 3, 5], -1, 0, 2),
                                 ("empty", [4, 2], 0, 4, 0)]:
        a.case(name, "narrow", {"dim": d, "start": s, "length": n}, lambda: a.uniform(shape),
               lambda x: x.narrow(d, s, n).contiguous())

    def sl(x, d, s, e, st):
        idx = [slice(None)] * x.dim()
        idx[d] = slice(s, e, st)
        return x[tuple(idx)].contiguous()
    for name, shape, d, s, e, st in [("", [7, 3], 0, 1, 5, 1), ("step2", [3, 8], 1, 0, 8, 2),
                                     ("neg", [3, 8], -1, -5, -1, 1), ("clamped", [6, 2], 0, 2, 100, 3),
                                     ("neg_start_clamped", [5], 0, -100, 3, 1), ("empty", [4, 3], 0, 3, 1, 1),
                                     ("mid_step3", [2, 10, 2], 1, 1, -1, 3)]:
        a.case(name, "slice", {"dim": d, "start": s, "end": e, "step": st}, lambda: a.uniform(shape),
               lambda x: sl(x, d, s, e, st))
    for name, shape, d, i in [("", [4, 3], 0, 2), ("cols", [4, 3], 1, 0), ("neg_index", [2, 5, 3], 1, -1),
                              ("neg_dim", [2, 3, 4], -1, 3), ("vec", [5], 0, 3)]:
        a.case(name, "select", {"dim": d, "index": i}, lambda: a.uniform(shape), lambda x: x.select(d, i))
    for name, shape, d, idx in [("rows", [5, 3], 0, [4, 0, 2]), ("repeats", [4, 3], 0, [1, 1, 3, 1, 0]),
                                ("cols", [3, 6], 1, [5, 0, 5]), ("neg", [2, 4, 3], -2, [3, 1]),
                                ("vec", [6], 0, [2, 2, 5])]:
        a.case(name, "index_select", {"dim": d}, lambda: [a.uniform(shape), torch.tensor(idx)],
               lambda x, i: torch.index_select(x, d, i))
    a.case("int64", "index_select", {"dim": 0}, lambda: [a.integers([4, 2], -9, 9), torch.tensor([3, 0, 3])],
           lambda x, i: torch.index_select(x, 0, i))
    for name, shape, d, ishape in [("d0", [4, 3], 0, [5, 3]), ("d1", [3, 4], 1, [3, 6]),
                                   ("neg", [2, 3, 4], -1, [2, 3, 2]), ("smaller", [4, 5], 0, [2, 3]),
                                   ("d1_3d", [2, 4, 3], 1, [2, 2, 3])]:
        n = shape[d]
        a.case(name, "gather", {"dim": d}, lambda: [a.uniform(shape), a.integers(ishape, 0, n)],
               lambda x, i: torch.gather(x, d, i))


# ----------------------------------------------------------------------------------- matmul
def matmul(a):
    for name, sa, sb in [("dot", [7], [7]), ("mm", [3, 5], [5, 4]), ("vec_mat", [5], [5, 3]),
                         ("mat_vec", [4, 6], [6]), ("odd", [7, 13], [13, 9]), ("batch", [2, 3, 4], [4, 5]),
                         ("batch_both", [3, 2, 4], [3, 4, 2]), ("bcast", [2, 1, 3, 4], [3, 4, 5]),
                         ("bcast_left", [3, 4], [2, 4, 5]), ("vec_batch", [4], [2, 4, 3]),
                         ("batch_vec", [2, 3, 4], [4]), ("one", [1, 1], [1, 1])]:
        a.case(name, "matmul", {}, lambda: [a.uniform(sa, -1, 1), a.uniform(sb, -1, 1)], torch.matmul)


AREAS = {"core": core, "elementwise": elementwise, "reductions": reductions, "losses": losses,
         "views": views, "matmul": matmul}


# ------------------------------------------------------------------------- conv and pooling
# Per-side stride and padding (torch's tuples), padded max/avg pools, adaptive average pooling
# (issue 11). tests/ops/test_golden_conv_pool.cpp maps them onto conv2d, max_pool2d,
# avg_pool2d and adaptive_avg_pool2d.
def conv_pool(a):
    for name, xs, ws, stride, padding, bias in [
            ("k1x3_s21_p12", [2, 2, 9, 8], [3, 2, 1, 3], [2, 1], [1, 2], False),
            ("k3x1_s12_p20", [1, 2, 7, 11], [3, 2, 3, 1], [1, 2], [2, 0], False),
            ("k7_s2_p3", [1, 3, 11, 9], [2, 3, 7, 7], [2, 2], [3, 3], False),
            ("k3x5_s21_p12", [1, 3, 10, 9], [2, 3, 3, 5], [2, 1], [1, 2], False),
            ("pointwise", [2, 5, 5, 3], [6, 5, 1, 1], [1, 1], [0, 0], False),
            ("k1_s2", [1, 6, 9, 7], [4, 6, 1, 1], [2, 2], [0, 0], False),
            ("k3_s2_p1_bias", [1, 3, 8, 7], [4, 3, 3, 3], [2, 2], [1, 1], True)]:
        def inputs(xs=xs, ws=ws, bias=bias):
            t = [a.uniform(xs, -1, 1), a.uniform(ws, -1, 1)]
            return t + [a.uniform([ws[0]], -1, 1)] if bias else t
        a.case(name, "conv2d", {"stride": stride, "padding": padding}, inputs,
               lambda x, w, b=None, stride=stride, padding=padding:
               F.conv2d(x, w, b, stride=tuple(stride), padding=tuple(padding)))
    pools = [("k3_s2_p1", [2, 2, 9, 9], [3, 3], [2, 2], [1, 1]),
             ("k3_s2_p1_even", [1, 2, 8, 7], [3, 3], [2, 2], [1, 1]),
             ("k23_s12_p11", [1, 2, 7, 10], [2, 3], [1, 2], [1, 1]),
             ("k31_s21_p10", [1, 3, 9, 5], [3, 1], [2, 1], [1, 0]),
             ("k13_s13_p01", [3, 1, 6, 6], [1, 3], [1, 3], [0, 1]),
             ("k2_default_stride_p1", [1, 2, 5, 5], [2, 2], [0, 0], [1, 1]),
             ("k2_s2", [1, 3, 6, 7], [2, 2], [2, 2], [0, 0])]
    for name, xs, k, st, pd in pools:
        stride = None if st == [0, 0] else tuple(st)  # 0: torch's default, the kernel
        a.case(name, "max_pool2d", {"kernel": k, "stride": st, "padding": pd},
               lambda xs=xs: a.distinct(xs, -3, -0.5),  # below 0: padding taken as 0 would show
               lambda x, k=k, stride=stride, pd=pd: F.max_pool2d(x, tuple(k), stride, tuple(pd)))
        a.case(name, "avg_pool2d", {"kernel": k, "stride": st, "padding": pd},
               lambda xs=xs: a.uniform(xs),
               lambda x, k=k, stride=stride, pd=pd: F.avg_pool2d(x, tuple(k), stride, tuple(pd)))
    for name, xs, out in [("1x1_from_7x7", [2, 3, 7, 7], [1, 1]), ("1x1_from_5x6", [3, 2, 5, 6], [1, 1]),
                          ("7x7_from_9x11", [1, 2, 9, 11], [7, 7]), ("7x7_from_5x5", [1, 2, 5, 5], [7, 7]),
                          ("7x7_from_14x14", [1, 1, 14, 14], [7, 7]), ("3x2_from_10x9", [1, 3, 10, 9], [3, 2]),
                          ("5x2_from_3x8", [1, 2, 3, 8], [5, 2]), ("4x4_from_2x2", [1, 1, 2, 2], [4, 4])]:
        a.case(name, "adaptive_avg_pool2d", {"output_size": out}, lambda xs=xs: a.uniform(xs),
               lambda x, out=out: F.adaptive_avg_pool2d(x, tuple(out)))


AREAS["conv_pool"] = conv_pool


def main():
    # --areas a,b: regenerate only those files (the others keep their bytes).
    args, only = sys.argv[1:], None
    if "--areas" in args:
        i = args.index("--areas")
        only = args[i + 1].split(",")
        del args[i:i + 2]
        unknown = [n for n in only if n not in AREAS]
        if unknown:
            sys.exit(f"unknown areas {unknown}; known: {sorted(AREAS)}")
    out_dir = args[0] if args else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
    os.makedirs(out_dir, exist_ok=True)
    total = 0
    for name, build in AREAS.items():
        if only is not None and name not in only:
            continue
        area = Area(name)
        build(area)
        path = area.write(out_dir)
        total += os.path.getsize(path)
        print(f"{path}: {len(area.cases)} cases, {len(area.tensors)} tensors, {os.path.getsize(path)} bytes")
        try:  # the safetensors library, where installed, must read the file as we wrote it
            from safetensors.torch import load_file
            back = load_file(path)
            assert set(back) == set(area.tensors)
            for k, t in back.items():
                assert t.dtype == area.tensors[k].dtype and torch.equal(t, area.tensors[k]), k
        except ImportError:
            pass
    print(f"torch {torch.__version__}; {total} bytes in all")


if __name__ == "__main__":
    main()
