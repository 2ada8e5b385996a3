#!/usr/bin/env python3
"""Golden file for Keras-style Dense layers (layers/dense.hpp): torch.nn.Linear followed by each
activation, alone and stacked as the notes' XOR model, forward and gradients.

    /work/venv-torch/bin/python scripts/make_golden_dense.py [OUT_DIR]   (default tests/golden/dense)

Writes dense.safetensors in the layout of scripts/make_golden.py (tests/golden/README.md): a
case C has C/in0 (the input x), C/in1, C/in2, ... (the model's parameters, in the order of the
case's params.state, named as dlcraft's Sequential of Dense names them: "0.weight", "0.bias",
"1.weight"...), C/out (torch's output), C/w and C/grad<k> (d sum(out * w) / d in_k for x and
every parameter). params.layers lists each Dense (units, activation, input_dim);
tests/train/test_dense.cpp builds the same Sequential, loads the parameters and compares.

torch runs an nn.Sequential of nn.Linear and activation modules through
torch.func.functional_call, so the parameters are the case's leaf tensors and their gradients
are torch.nn.Linear's own. Deterministic: each case seeds its generator from the CRC-32 of its
name (make_golden.py's Area.case), float32 on one CPU thread.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import Area, write_safetensors  # noqa: E402 (the shared golden-file layout)

# dlcraft's activation names (activation_from_name) -> the torch module.
ACTIVATIONS = {
    "linear": nn.Identity,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=-1),
    "gelu": nn.GELU,                       # exact erf form
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
}
KINKED = {"relu", "leaky_relu"}


def dense_case(a, name, x_shape, layers, x_values=None):
    """layers: [(units, activation)]; the first layer's input_dim is x_shape[-1]."""
    torch_layers, state, dims = [], [], []
    in_dim = x_shape[-1]
    for k, (units, act) in enumerate(layers):
        torch_layers += [nn.Linear(in_dim, units), ACTIVATIONS[act]()]
        state += [f"{k}.weight", f"{k}.bias"]
        dims.append({"units": units, "activation": act, "input_dim": in_dim})
        in_dim = units
    model = nn.Sequential(*torch_layers)
    torch_name = {f"{k}.{p}": f"{2 * k}.{p}" for k in range(len(layers)) for p in ("weight", "bias")}

    def make_inputs():
        x = a.uniform(x_shape) if x_values is None else torch.tensor(x_values, dtype=torch.float32)
        params = []
        for d in dims:
            bound = (6.0 / (d["input_dim"] + d["units"])) ** 0.5  # Glorot's scale
            params += [a.uniform([d["units"], d["input_dim"]], -bound, bound), a.uniform([d["units"]], -0.5, 0.5)]
        return [x] + params

    def forward(x, *params):
        y = torch.func.functional_call(model, {torch_name[n]: p for n, p in zip(state, params)}, (x,))
        # No pre-activation of a ReLU-like layer may sit near its kink, where float rounding
        # could put ours on the other side.
        h = x
        for k, d in enumerate(dims):
            h = torch.nn.functional.linear(h, params[2 * k], params[2 * k + 1])
            if d["activation"] in KINKED:
                assert h.abs().min() > 1e-3, f"{name}: pre-activation {h.abs().min()} near the kink"
            h = ACTIVATIONS[d["activation"]]()(h)
        return y

    a.case(name, "dense", {"layers": dims, "state": state}, make_inputs, forward)


def build(a):
    # One Dense per activation, odd sizes.
    for i, act in enumerate(ACTIVATIONS):
        dense_case(a, act, [5 + i % 3, 7 + i], [(3 + 2 * i % 5, act)])
    # (N, T, in): the same weights at every position, softmax over the units.
    dense_case(a, "rank3_softmax", [2, 3, 5], [(4, "softmax")])
    dense_case(a, "rank3_tanh", [3, 2, 6], [(5, "tanh")])
    # The notes' XOR model: Dense(10, input_dim=2, sigmoid) -> Dense(1, sigmoid), on the four points.
    dense_case(a, "xor_mlp", [4, 2], [(10, "sigmoid"), (1, "sigmoid")],
               x_values=[[0, 0], [0, 1], [1, 0], [1, 1]])
    # A deeper stack mixing activations.
    dense_case(a, "mlp_relu_tanh_softmax", [6, 9], [(11, "relu"), (7, "tanh"), (4, "softmax")])


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "dense")
    os.makedirs(out_dir, exist_ok=True)
    a = Area("dense")
    build(a)
    meta = {"area": "dense", "torch_version": torch.__version__, "generated_by": "scripts/make_golden_dense.py",
            "cases": json.dumps(a.cases, sort_keys=True, separators=(",", ":"))}
    path = os.path.join(out_dir, "dense.safetensors")
    write_safetensors(path, a.tensors, meta)
    print(f"{path}: {len(a.cases)} cases, {len(a.tensors)} tensors, {os.path.getsize(path)} bytes; torch {torch.__version__}")


if __name__ == "__main__":
    main()
