#!/usr/bin/env python3
"""Exports torchvision's pretrained ImageNet weights as a safetensors file dlcraft loads.

    python scripts/export_torchvision.py NAME OUT.safetensors [--labels OUT_LABELS.txt]
                                         [--dtype f32|f16|bf16] [--random [--seed S]]

NAME: resnet18, resnet34, resnet50, resnet101, resnet152, vgg16 or vgg16_bn. Needs torch and
torchvision, and internet for the download (torchvision caches it under ~/.cache/torch). The
weights are torchvision's DEFAULT enum for NAME (ResNet50_Weights.IMAGENET1K_V2, ...).

Writes the model's state_dict under torchvision's names (what layers/resnet.hpp and vgg.hpp
build): float tensors as F32 (or F16 / BF16 with --dtype: half the size; dlcraft widens them
to float32 on load, so what it computes with is the rounded weights), BatchNorm's
num_batches_tracked as I64 0-d tensors. The header's __metadata__ names the model, the weights
enum, the torch and torchvision versions and the preprocessing the weights expect (resize,
crop, normalize_mean, normalize_std: the names train_cifar's checkpoints use), and holds the
1000 ImageNet class names as a JSON list ("classes"). --labels also writes those names, one
per line, in class-index order.

--random builds the model with weights=None (torchvision's own random init, seeded) and
downloads nothing: for machines without internet and for the tests. The class names come
from the weights enum's meta, which torchvision ships, so --labels works offline too.

The file is written here byte by byte (sorted names, compact JSON, tensors in order of
element size then name), so the same weights give the same bytes.
"""
import argparse
import json
import os
import struct
import sys

import torch

MODELS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg16_bn"]
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
FORMAT_NAMES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
                torch.bool: "BOOL"}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.numel() == 0:
        return b""
    if t.dtype in (torch.float16, torch.bfloat16):  # numpy has no bfloat16: the raw 16-bit words
        t = t.view(torch.int16)
    assert sys.byteorder == "little", "safetensors data is little-endian"
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata):
    """The safetensors layout (8-byte header length, JSON header padded with spaces to a
    multiple of 8, raw little-endian data), as scripts/make_golden.py writes it, for the dtypes
    F32, F16, BF16, I64 and BOOL. Tensors go in order of element size, then name, so each
    starts aligned to its element size. Written to PATH.tmp, then renamed."""
    names = sorted(tensors, key=lambda n: (-tensors[n].element_size(), n))
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for n in names:
        t = tensors[n]
        data = tensor_bytes(t)
        header[n] = {"dtype": FORMAT_NAMES[t.dtype], "shape": list(t.shape),
                     "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def check_with_library(path, tensors):
    """Where the safetensors library is installed, it must read the file back as written."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        return False
    back = load_file(path)
    assert set(back) == set(tensors), path
    for k, t in back.items():
        assert t.dtype == tensors[k].dtype and torch.equal(t, tensors[k]), k
    return True


def cast(state, dtype):
    """Float tensors to `dtype`; int64 (num_batches_tracked) and bool stay as they are."""
    return {k: (v.to(dtype) if v.is_floating_point() else v).detach().contiguous() for k, v in state.items()}


def export(name, out, labels=None, dtype="f32", random=False, seed=0):
    import torchvision
    from torchvision.models import get_model, get_model_weights

    if name not in MODELS:
        raise SystemExit(f"export_torchvision: unknown model '{name}'; one of {', '.join(MODELS)}")
    weights = get_model_weights(name).DEFAULT
    if random:
        torch.manual_seed(seed)
        model = get_model(name, weights=None)
        weights_name = f"none (random init, torch.manual_seed({seed}))"
    else:
        try:
            model = get_model(name, weights=weights)  # downloads (or reads the cache)
        except OSError as e:  # URLError is one: no network, proxy, disk full
            raise SystemExit(f"export_torchvision: could not fetch {type(weights).__name__}.{weights.name} "
                             f"from {weights.url}: {e}\n(no internet here? --random exports random weights "
                             "for testing; or copy the .pth into ~/.cache/torch/hub/checkpoints/)")
        weights_name = f"{type(weights).__name__}.{weights.name}"
    # Through the model, not the raw checkpoint: the old .pth files predate
    # num_batches_tracked, which BatchNorm fills in (0) on load, as our models expect it.
    state = cast(model.state_dict(), DTYPES[dtype])
    categories = list(weights.meta["categories"])
    tf = weights.transforms()
    meta = {
        "format": "torchvision",
        "model": name,
        "weights": weights_name,
        "weights_url": "" if random else weights.url,
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "dtype": FORMAT_NAMES[DTYPES[dtype]],
        "num_classes": str(len(categories)),
        "classes": json.dumps(categories, ensure_ascii=False, separators=(",", ":")),
        "resize_size": str(tf.resize_size[0]),
        "crop_size": str(tf.crop_size[0]),
        "interpolation": tf.interpolation.value,
        "normalize_mean": ",".join(f"{v:.9g}" for v in tf.mean),
        "normalize_std": ",".join(f"{v:.9g}" for v in tf.std),
        "generated_by": "scripts/export_torchvision.py",
    }
    write_safetensors(out, state, meta)
    checked = check_with_library(out, state)
    if labels:
        with open(labels, "w", encoding="utf-8") as f:
            for c in categories:
                assert "\n" not in c and c, c
                f.write(c + "\n")
    n = sum(v.numel() for v in state.values())
    print(f"{out}: {name} ({weights_name}), {len(state)} tensors, {n} values as {meta['dtype']}, "
          f"{os.path.getsize(out)} bytes" + ("; read back by safetensors" if checked else ""))
    if labels:
        print(f"{labels}: {len(categories)} class names")
    return state, meta


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("name", choices=MODELS)
    p.add_argument("out", help="the safetensors file to write")
    p.add_argument("--labels", help="also write the 1000 ImageNet class names here, one per line")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="f32", help="float tensors' dtype in the file")
    p.add_argument("--random", action="store_true", help="random init (weights=None), no download")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed for --random")
    a = p.parse_args(argv)
    export(a.name, a.out, a.labels, a.dtype, a.random, a.seed)


if __name__ == "__main__":
    main()
