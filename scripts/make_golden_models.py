#!/usr/bin/env python3
"""Golden files for the model zoo (layers/resnet.hpp, layers/vgg.hpp), made with torchvision.

    python scripts/make_golden_models.py [OUT_DIR]        (default tests/golden/models)

Needs torch and torchvision (no weights: nothing is downloaded). Writes

  <name>_keys.txt for resnet18, resnet34, resnet50, resnet101, resnet152, vgg16, vgg16_bn:
      torchvision's state_dict, one line per entry, "name dtype shape" in state_dict order
      ("layer1.0.bn1.num_batches_tracked I64 []", "fc.weight F32 [1000,512]");

  <case>.safetensors for tiny models built from torchvision's own classes (BasicBlock,
      Bottleneck, ResNet's _make_layer and forward; VGG's make_layers and forward) with a
      `width` (and VGG's classifier `hidden`) instead of 64 / 4096, same names and init. Each
      holds, for one seeded model and input:
        state/<name>        every parameter and buffer (BN's weight, bias, running stats and
                            num_batches_tracked redrawn away from their 1/0 init, so that a
                            swapped or ignored one shows)
        input               the input batch
        out_eval            eval-mode output (BN uses the running stats)
        out_train           train-mode output (BN uses the batch's statistics; dropout 0)
        after_train/<name>  BN's running_mean, running_var, num_batches_tracked after that one
                            train-mode forward
        w, grad/<name>      a random weight and the gradients of sum(out_train * w) for the
                            parameters listed in the metadata's "grads" (and the input)
      and __metadata__: "config" (JSON: arch, block, layers, width, hidden, num_classes,
      input shape), "grads", torch_version, torchvision_version, and "f64_rel_diff" (JSON: how
      far torch's own float32 results are from float64 ones, per recorded tensor: the rounding
      noise of the case, which the test's tolerance must exceed);

  <case>_f16.safetensors, <case>_bf16.safetensors for one case: its state/ with the float
      tensors rounded to F16 / BF16, and out_eval of the model with those rounded weights
      (computed in float32), so that a reader of 16-bit files can be checked exactly.

Deterministic: every case seeds torch from the CRC-32 of its name, one CPU thread, and the
files are written byte by byte (make_golden.py's writer), so a rerun with the same torch gives
the same bytes.
"""
import json
import os
import sys
import zlib

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden  # noqa: E402  (its writer; it also sets one thread and deterministic algorithms)
from export_torchvision import FORMAT_NAMES, write_safetensors as write_any  # noqa: E402

import torchvision  # noqa: E402
from torchvision.models import get_model  # noqa: E402
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet  # noqa: E402
from torchvision.models.vgg import VGG, cfgs, make_layers  # noqa: E402

FULL_MODELS = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "vgg16", "vgg16_bn"]


class WidthResNet(ResNet):
    """torchvision's ResNet.__init__ with `width` where it hard-codes 64 (stem and layer1
    planes; the stages width * 1, 2, 4, 8). Same module names, same init; forward and
    _make_layer are torchvision's."""

    def __init__(self, block, layers, num_classes=1000, width=64):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # Bottleneck's inner width = planes * base_width / 64 = planes
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)


class WidthVGG(VGG):
    """torchvision's VGG-16 with conv channels width * (1, 2, 4, 8, 8) and a classifier of
    width `hidden` (64 and 4096 in torchvision). Same names, init and forward."""

    def __init__(self, batch_norm, num_classes=1000, dropout=0.5, width=64, hidden=4096):
        nn.Module.__init__(self)
        cfg = [v if v == "M" else v * width // 64 for v in cfgs["D"]]
        self.features = make_layers(cfg, batch_norm=batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(8 * width * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(hidden, num_classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)


def signature(model):
    return [(k, v.dtype, tuple(v.shape)) for k, v in model.state_dict().items()]


def check_width_classes():
    """At width 64 (and hidden 4096) the width classes are torchvision's models, name for name
    and shape for shape: what the tiny cases test is what the full models are."""
    with torch.device("meta"):
        pairs = [(WidthResNet(BasicBlock, [2, 2, 2, 2]), get_model("resnet18")),
                 (WidthResNet(Bottleneck, [3, 4, 6, 3]), get_model("resnet50")),
                 (WidthVGG(False), get_model("vgg16")), (WidthVGG(True), get_model("vgg16_bn"))]
    for ours, tv in pairs:
        assert signature(ours) == signature(tv), type(tv).__name__


def keys_file(name, out_dir):
    with torch.device("meta"):  # shapes only: no memory, no init time
        model = get_model(name, weights=None)
    lines = []
    for k, v in model.state_dict().items():
        lines.append(f"{k} {FORMAT_NAMES[v.dtype]} [{','.join(str(d) for d in v.shape)}]")
    path = os.path.join(out_dir, f"{name}_keys.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path, len(lines)


def randomize(model, gen):
    """Moves BN and Linear away from their init (BN 1/0, running stats 0/1, Linear biases 0,
    VGG's linears N(0, 0.01)), so that every value matters and the outputs are of order 1."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=gen) + 0.5
            m.bias.data = torch.rand(c, generator=gen) - 0.5
            m.running_mean.data = (torch.rand(c, generator=gen) - 0.5) * 0.4
            m.running_var.data = torch.rand(c, generator=gen) * 1.5 + 0.5
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
        elif isinstance(m, nn.Linear):
            bound = 1.0 / m.in_features ** 0.5  # nn.Linear's default init: outputs of order 1
            m.weight.data = (torch.rand(m.weight.shape, generator=gen) * 2 - 1) * bound * 2
            m.bias.data = (torch.rand(m.bias.shape, generator=gen) * 2 - 1) * bound


def run(model, x, w, grad_names):
    """eval output, train output, the BN buffers after the train forward, and the gradients."""
    params = dict(model.named_parameters())
    model.eval()
    with torch.no_grad():
        out_eval = model(x)
    model.train()
    xin = x.clone().requires_grad_(True)
    out_train = model(xin)
    gs = torch.autograd.grad((out_train * w).sum(), [params[n] for n in grad_names] + [xin])
    after = {k: v.detach().clone() for k, v in model.state_dict().items()
             if k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    grads = dict(zip(grad_names + ["input"], gs))
    return out_eval, out_train.detach(), after, grads


def rel_diff(a, b):
    """max |a - b| / max |b|: the size of a's error against the tensor's scale."""
    return float((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-30))


CASES = [
    # name, arch config, input shape, gradients recorded (besides the input's)
    ("resnet_basic_1111_w8", dict(arch="resnet", block="BasicBlock", layers=[1, 1, 1, 1], width=8, num_classes=10),
     [4, 3, 32, 32], ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv2.weight", "layer2.0.downsample.0.weight",
                      "layer2.0.downsample.1.weight", "layer4.0.bn2.bias", "fc.weight", "fc.bias"]),
    ("resnet_basic_2222_w4_37x29", dict(arch="resnet", block="BasicBlock", layers=[2, 2, 2, 2], width=4, num_classes=10),
     [2, 3, 37, 29], ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.1.conv1.weight", "layer3.0.downsample.0.weight",
                      "layer3.1.bn2.weight", "fc.weight"]),
    ("resnet_bottleneck_1211_w4_37x29", dict(arch="resnet", block="Bottleneck", layers=[1, 2, 1, 1], width=4, num_classes=10),
     [2, 3, 37, 29], ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.downsample.0.weight", "layer1.0.conv3.weight",
                      "layer2.1.bn3.weight", "layer4.0.downsample.1.bias", "fc.weight"]),
    ("vgg16_w4_h32", dict(arch="vgg", batch_norm=False, width=4, hidden=32, num_classes=10, dropout=0.0),
     [2, 3, 32, 32], ["features.0.weight", "features.0.bias", "features.28.weight", "classifier.0.bias",
                      "classifier.3.bias", "classifier.6.weight"]),
    ("vgg16_bn_w4_h32", dict(arch="vgg", batch_norm=True, width=4, hidden=32, num_classes=10, dropout=0.0),
     [2, 3, 32, 32], ["features.0.weight", "features.1.weight", "features.1.bias", "features.40.weight",
                      "features.41.bias", "classifier.0.bias", "classifier.6.weight"]),
]
HALF_CASE = "resnet_basic_1111_w8"  # the one with F16 and BF16 copies


def build(cfg):
    if cfg["arch"] == "resnet":
        block = {"BasicBlock": BasicBlock, "Bottleneck": Bottleneck}[cfg["block"]]
        return WidthResNet(block, cfg["layers"], cfg["num_classes"], cfg["width"])
    return WidthVGG(cfg["batch_norm"], cfg["num_classes"], cfg["dropout"], cfg["width"], cfg["hidden"])


def tiny_case(name, cfg, shape, grad_names, out_dir):
    seed = zlib.crc32(name.encode())
    torch.manual_seed(seed)  # the init (kaiming normal) draws from the default generator
    model = build(cfg)
    gen = torch.Generator().manual_seed(seed)
    randomize(model, gen)
    x = torch.randn(shape, generator=gen)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    w = torch.randn([shape[0], cfg["num_classes"]], generator=gen)
    out_eval, out_train, after, grads = run(model, x, w, grad_names)

    # The same in float64, from the same state: the float32 rounding noise of each tensor.
    m64 = build(cfg).double()
    m64.load_state_dict({k: (v.double() if v.is_floating_point() else v) for k, v in state.items()})
    e64, t64, a64, g64 = run(m64, x.double(), w.double(), grad_names)
    noise = {"out_eval": rel_diff(out_eval, e64), "out_train": rel_diff(out_train, t64)}
    noise.update({f"grad/{k}": rel_diff(grads[k], g64[k]) for k in grads})
    noise.update({f"after_train/{k}": rel_diff(after[k].float(), a64[k].float()) for k in after
                  if not k.endswith("num_batches_tracked")})

    tensors = {f"state/{k}": v for k, v in state.items()}
    tensors.update({f"after_train/{k}": v for k, v in after.items()})
    tensors.update({f"grad/{k}": v for k, v in grads.items()})
    tensors.update({"input": x, "out_eval": out_eval, "out_train": out_train, "w": w})
    config = dict(cfg, input=shape)
    meta = {"config": json.dumps(config, sort_keys=True, separators=(",", ":")),
            "grads": json.dumps(grad_names + ["input"], separators=(",", ":")),
            "f64_rel_diff": json.dumps({k: float(f"{v:.3g}") for k, v in sorted(noise.items())}, separators=(",", ":")),
            "torch_version": torch.__version__, "torchvision_version": torchvision.__version__,
            "generated_by": "scripts/make_golden_models.py", "case": name}
    path = os.path.join(out_dir, name + ".safetensors")
    make_golden.write_safetensors(path, tensors, meta)
    written = [(path, len(tensors), max(noise.values()))]

    if name == HALF_CASE:
        for dtype in (torch.float16, torch.bfloat16):
            rounded = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}
            mh = build(cfg)
            mh.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in rounded.items()})
            mh.eval()
            with torch.no_grad():
                out_h = mh(x)
            tag = FORMAT_NAMES[dtype].lower()
            hmeta = dict(meta, dtype=FORMAT_NAMES[dtype],
                         f32_rel_diff=f"{rel_diff(out_h, out_eval):.3g}")  # how far rounding moves the output
            del hmeta["grads"], hmeta["f64_rel_diff"]
            hpath = os.path.join(out_dir, f"{name}_{tag}.safetensors")
            htensors = {f"state/{k}": v for k, v in rounded.items()}
            htensors.update({"input": x, "out_eval": out_h})
            write_any(hpath, htensors, hmeta)
            written.append((hpath, len(htensors), float(hmeta["f32_rel_diff"])))
    return written


def check_library(path):
    """Where the safetensors library is installed, it must read each file."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        return
    load_file(path)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "models")
    os.makedirs(out_dir, exist_ok=True)
    check_width_classes()
    for name in FULL_MODELS:
        path, n = keys_file(name, out_dir)
        print(f"{path}: {n} entries")
    total = 0
    for name, cfg, shape, grads in CASES:
        for path, n, noise in tiny_case(name, cfg, shape, grads, out_dir):
            check_library(path)
            size = os.path.getsize(path)
            total += size
            print(f"{path}: {n} tensors, {size} bytes, float32-vs-float64 (or 16-bit) difference {noise:.2g}")
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}; {total} bytes of tiny cases")


if __name__ == "__main__":
    main()
