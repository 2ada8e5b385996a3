#!/usr/bin/env python3
"""Golden numbers for the optimizers (optim/): what PyTorch computes for AdamW, Adam and SGD
(Nesterov, parameter groups), clip_grad_norm_ / clip_grad_value_ and the LR schedulers with two
parameter groups. Read by tests/ops/test_optim_golden.cpp; no PyTorch is needed to run it.

    /work/venv-torch/bin/python scripts/make_optim_golden.py [OUT_DIR]   (default tests/golden/optim)

Writes three small JSON files:

  optimizers.json  {"torch_version", "cases": [{"name", "optimizer": "adam"|"adamw"|"sgd",
                   "options": {...}, "groups": [{"params": [names], "lr": x|null,
                   "weight_decay": x|null}] (null: the optimizer's option),
                   "params": [{"name", "shape", "values"}], "grads": [step][param] values,
                   "after": [step][param] values (torch's parameters after each step),
                   "state": {"exp_avg.<name>": values, ...} (torch's state after the last step)}]}
  clip_grad.json   {"cases": [{"name", "fn": "norm"|"value", "max_norm", "norm_type" ("inf" for
                   infinity), "clip_value", "shapes", "grads" (null: no gradient), "total_norm",
                   "clipped"}]}
  schedulers.json  {"cases": [{"name", "scheduler", "args", "group_lrs", "lrs": [step][group]}]}

Parameters and gradients are float32 values of odd shapes drawn from a torch.Generator seeded
with the CRC-32 of the case's name, so running it again gives the same files with the same torch.
"""
import json
import math
import os
import sys
import zlib

import torch

torch.set_num_threads(1)

SHAPES = [[5, 3], [7], [2, 3, 2], [1]]
NAMES = ["fc.weight", "fc.bias", "conv.weight", "scale"]
STEPS = 4


def gen(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def optimizer_case(name, kind, options, groups):
    g = gen(name)
    params = {n: torch.randn(s, generator=g).requires_grad_() for n, s in zip(NAMES, SHAPES)}
    initial = [{"name": n, "shape": s, "values": flat(params[n])} for n, s in zip(NAMES, SHAPES)]
    torch_groups = []
    for grp in groups:
        tg = {"params": [params[n] for n in grp["params"]]}
        if grp.get("lr") is not None:
            tg["lr"] = grp["lr"]
        if grp.get("weight_decay") is not None:
            tg["weight_decay"] = grp["weight_decay"]
        torch_groups.append(tg)
    if kind == "adam":
        opt = torch.optim.Adam(torch_groups, lr=options["lr"], betas=(options["beta1"], options["beta2"]),
                               eps=options["eps"], weight_decay=options["weight_decay"])
    elif kind == "adamw":
        opt = torch.optim.AdamW(torch_groups, lr=options["lr"], betas=(options["beta1"], options["beta2"]),
                                eps=options["eps"], weight_decay=options["weight_decay"])
    else:
        opt = torch.optim.SGD(torch_groups, lr=options["lr"], momentum=options["momentum"],
                              dampening=options["dampening"], weight_decay=options["weight_decay"],
                              nesterov=options["nesterov"])
    grads, after = [], []
    for _ in range(STEPS):
        step_grads = []
        for n, s in zip(NAMES, SHAPES):
            params[n].grad = torch.randn(s, generator=g)
            step_grads.append(flat(params[n].grad))
        opt.step()
        grads.append(step_grads)
        after.append([flat(params[n]) for n in NAMES])
    state = {}
    for n in NAMES:
        for key, value in opt.state[params[n]].items():
            if key == "step":
                state["step"] = [float(value)]
            else:
                state[key + "." + n] = flat(value)
    return {"name": name, "optimizer": kind, "options": options, "groups": groups, "params": initial,
            "grads": grads, "after": after, "state": state}


def adam_options(lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    return {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay}


def sgd_options(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    return {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov}


ONE_GROUP = [{"params": NAMES, "lr": None, "weight_decay": None}]
# A "backbone" at a lower lr with its own weight decay, and a "head" on the optimizer's options.
TWO_GROUPS = [{"params": ["conv.weight", "scale"], "lr": 0.003, "weight_decay": 0.05},
              {"params": ["fc.weight", "fc.bias"], "lr": None, "weight_decay": None}]


def optimizer_cases():
    return [
        optimizer_case("adamw_default_wd", "adamw", adam_options(0.01, weight_decay=0.01), ONE_GROUP),
        optimizer_case("adamw_strong_wd", "adamw", adam_options(0.05, 0.8, 0.99, 1e-6, 0.3), ONE_GROUP),
        optimizer_case("adamw_no_wd", "adamw", adam_options(0.01, weight_decay=0.0), ONE_GROUP),
        optimizer_case("adamw_two_groups", "adamw", adam_options(0.02, weight_decay=0.01), TWO_GROUPS),
        optimizer_case("adam_two_groups", "adam", adam_options(0.02, 0.8, 0.99, 1e-6, 0.01), TWO_GROUPS),
        optimizer_case("sgd_nesterov", "sgd", sgd_options(0.05, 0.9, nesterov=True), ONE_GROUP),
        optimizer_case("sgd_nesterov_wd", "sgd", sgd_options(0.1, 0.8, weight_decay=0.02, nesterov=True),
                       ONE_GROUP),
        optimizer_case("sgd_nesterov_two_groups", "sgd", sgd_options(0.05, 0.9, weight_decay=0.001, nesterov=True),
                       TWO_GROUPS),
        optimizer_case("sgd_momentum_two_groups", "sgd", sgd_options(0.1, 0.9, 0.1, 0.01), TWO_GROUPS),
        optimizer_case("sgd_plain_two_groups", "sgd", sgd_options(0.1), TWO_GROUPS),
    ]


def clip_case(name, fn, shapes, scale, max_norm=None, norm_type=2.0, clip_value=None, no_grad=()):
    g = gen(name)
    params = [torch.zeros(s, requires_grad=True) for s in shapes]
    for i, p in enumerate(params):
        if i not in no_grad:
            p.grad = torch.randn(shapes[i], generator=g) * scale
    grads = [flat(p.grad) if p.grad is not None else None for p in params]
    case = {"name": name, "fn": fn, "shapes": shapes, "grads": grads}
    if fn == "norm":
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        case.update(max_norm=max_norm, norm_type="inf" if math.isinf(norm_type) else norm_type,
                    total_norm=float(total))
    else:
        torch.nn.utils.clip_grad_value_(params, clip_value)
        case.update(clip_value=clip_value)
    case["clipped"] = [flat(p.grad) if p.grad is not None else None for p in params]
    return case


def clip_cases():
    shapes = [[5, 3], [7], [2, 3, 2], [1], [33]]
    return [
        clip_case("norm2_clipped", "norm", shapes, 1.0, max_norm=1.5),
        clip_case("norm2_not_clipped", "norm", shapes, 0.1, max_norm=5.0),
        clip_case("norm2_skips_no_grad", "norm", shapes, 2.0, max_norm=0.7, no_grad=(1, 3)),
        clip_case("norm_inf_clipped", "norm", shapes, 3.0, max_norm=0.25, norm_type=math.inf),
        clip_case("norm_inf_not_clipped", "norm", shapes, 0.01, max_norm=1.0, norm_type=math.inf),
        clip_case("norm1_clipped", "norm", shapes, 1.0, max_norm=2.0, norm_type=1.0),
        clip_case("norm3_clipped", "norm", shapes, 1.0, max_norm=0.5, norm_type=3.0),
        clip_case("value", "value", shapes, 1.0, clip_value=0.4),
        clip_case("value_skips_no_grad", "value", shapes, 2.0, clip_value=1.1, no_grad=(0,)),
    ]


def scheduler_case(name, make, args, group_lrs, steps=12):
    params = [torch.zeros(1, requires_grad=True) for _ in group_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)], lr=0.5)
    sched = make(opt)
    lrs = [[grp["lr"] for grp in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([grp["lr"] for grp in opt.param_groups])
    return {"name": name, "scheduler": name.split("/")[0], "args": args, "group_lrs": group_lrs, "lrs": lrs}


def scheduler_cases():
    lr_sched = torch.optim.lr_scheduler
    lrs = [0.1, 0.01]
    return [
        scheduler_case("StepLR", lambda o: lr_sched.StepLR(o, 3, 0.5), {"step_size": 3, "gamma": 0.5}, lrs),
        scheduler_case("CosineAnnealingLR", lambda o: lr_sched.CosineAnnealingLR(o, 10, 0.001),
                       {"T_max": 10, "eta_min": 0.001}, lrs),
        scheduler_case("LinearLR", lambda o: lr_sched.LinearLR(o, 0.25, 1.0, 4),
                       {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 4}, lrs),
        scheduler_case("OneCycleLR", lambda o: lr_sched.OneCycleLR(o, 0.1, 13, 0.3, cycle_momentum=False),
                       {"max_lr": 0.1, "total_steps": 13, "pct_start": 0.3}, lrs),
    ]


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), sort_keys=True)
        f.write("\n")
    print(path, os.path.getsize(path), "bytes")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "optim")
    os.makedirs(out, exist_ok=True)
    version = torch.__version__.split("+")[0]
    write(os.path.join(out, "optimizers.json"), {"torch_version": version, "cases": optimizer_cases()})
    write(os.path.join(out, "clip_grad.json"), {"torch_version": version, "cases": clip_cases()})
    write(os.path.join(out, "schedulers.json"), {"torch_version": version, "cases": scheduler_cases()})


if __name__ == "__main__":
    main()
