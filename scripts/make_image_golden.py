#!/usr/bin/env python3
"""Golden files for the image pipeline (datasets/image_transforms.hpp), made with torchvision.

    python scripts/make_image_golden.py [OUT_DIR]        (default tests/golden)

Needs torch, torchvision and Pillow. Writes

    image_pipeline.png           a 23x17 RGB image (smooth shading, a sharp edge, noise)
    image_pipeline.jpg           the same pattern at 48x37, JPEG quality 90 (4:2:0)
    image_pipeline.safetensors   what torchvision makes of it:
      crop/HxW          CenterCrop((H, W)) + ToTensor + Normalize(ImageNet), (3, H, W) float32
                        (crops inside the image at even and odd offsets, and larger ones that
                        torchvision pads with zeros)
      resize/S          Resize(S) with PIL's antialiased bilinear, the 0..255 values as
                        (3, h, w) float32 (resize_antialiased must give the same bytes)
      resized_crop/...  F.resized_crop(top, left, box h, box w, (h, w)): RandomResizedCrop
                        once its box is drawn
      decode/jpg        Pillow's pixels of the JPEG, (3, h, w) float32 0..255
      eval/FILE         Resize + CenterCrop + ToTensor + Normalize(ImageNet) of the file
      resize_sizes      int64 rows (width, height, size, new width, new height) of Resize(size)
                        on images of many shapes: torchvision's truncation of the longer side

The header's __metadata__ holds "torch_version", "torchvision_version" and "cases" (a JSON
list of {"name", "op", "params"}). Deterministic: the image's noise comes from a fixed LCG.
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import write_safetensors  # noqa: E402  (the same byte-exact writer)

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def make_image(width=23, height=17):
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    state, noise = 12345, np.zeros((height, width))
    for i in range(height * width):  # an LCG: the same bytes on every numpy
        state = (state * 1103515245 + 12345) % (1 << 31)
        noise.flat[i] = (state >> 16) % 21 - 10
    r = 128 + 90 * np.sin(x / 3.1) * np.cos(y / 4.3) + noise
    g = 255 * x / (width - 1)
    b = np.where(x + 0.5 * y < 14, 40.0, 210.0) + noise
    rgb = np.stack([r, g, b], axis=-1)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
    os.makedirs(out_dir, exist_ok=True)
    png = os.path.join(out_dir, "image_pipeline.png")
    Image.fromarray(make_image(), "RGB").save(png, optimize=False)
    img = Image.open(png).convert("RGB")  # what the test decodes

    tensors, cases = {}, []
    normalize = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    # (H, W): inside at even/odd offsets (17-12=5: top round(2.5)=2; 23-22=1: left round(0.5)=0),
    # the whole image, and padded in one or both sides.
    for h, w in [(16, 16), (17, 23), (10, 7), (12, 22), (14, 20), (25, 9), (20, 30)]:
        name = f"crop/{h}x{w}"
        tensors[name] = normalize(T.CenterCrop((h, w))(img))
        cases.append({"name": name, "op": "center_crop_normalize", "params": {"height": h, "width": w}})
    def pixels(pil):  # (3, h, w) float32 of the 0..255 values
        return torch.from_numpy(np.asarray(pil, dtype=np.float32).copy()).permute(2, 0, 1).contiguous()

    for s in [12, 9, 3, 30]:  # shrink by 1.4, 1.9, 5.7; enlarge
        name = f"resize/{s}"
        tensors[name] = pixels(T.Resize(s)(img))
        cases.append({"name": name, "op": "resize_shorter", "params": {"size": s}})
    # RandomResizedCrop's second half for given boxes: crop, then resize to (h, w); shrinking
    # one side while enlarging the other, and the whole image to a square.
    for top, left, bh, bw, h, w in [(2, 3, 11, 15, 8, 9), (0, 0, 17, 23, 24, 20), (5, 1, 7, 20, 16, 6),
                                    (0, 0, 17, 23, 5, 5)]:
        name = f"resized_crop/{top}_{left}_{bh}_{bw}_to_{h}_{w}"
        tensors[name] = pixels(F.resized_crop(img, top, left, bh, bw, [h, w]))
        cases.append({"name": name, "op": "resized_crop",
                      "params": {"top": top, "left": left, "box_height": bh, "box_width": bw, "height": h, "width": w}})
    # From file to tensor: a JPEG (Pillow's encoder, quality 90, 4:2:0 chroma) decoded, and the
    # whole eval pipeline on it and on the PNG.
    jpg = os.path.join(out_dir, "image_pipeline.jpg")
    Image.fromarray(make_image(48, 37), "RGB").save(jpg, quality=90)
    jimg = Image.open(jpg).convert("RGB")
    tensors["decode/jpg"] = pixels(jimg)
    cases.append({"name": "decode/jpg", "op": "decode", "params": {"file": "image_pipeline.jpg"}})
    for file, pil, r, c in [("image_pipeline.jpg", jimg, 30, 24), ("image_pipeline.png", img, 12, 10)]:
        name = f"eval/{file}"
        tensors[name] = T.Compose([T.Resize(r), T.CenterCrop(c), T.ToTensor(), T.Normalize(MEAN, STD)])(pil)
        cases.append({"name": name, "op": "eval_transform", "params": {"file": file, "resize": r, "crop": c}})
    rows = []
    for w, h in [(50, 37), (300, 200), (31, 64), (500, 375), (375, 500), (640, 480), (100, 100), (10, 3),
                 (3, 7), (333, 500), (1, 1), (17, 23), (257, 256), (256, 257), (1000, 999), (999, 1000)]:
        for s in [1, 7, 32, 224, 256]:
            nw, nh = T.Resize(s)(Image.new("RGB", (w, h))).size
            rows.append([w, h, s, nw, nh])
    tensors["resize_sizes"] = torch.tensor(rows, dtype=torch.int64)
    cases.append({"name": "resize_sizes", "op": "resize_sizes", "params": {}})

    meta = {"area": "image_pipeline", "torch_version": torch.__version__,
            "torchvision_version": torchvision.__version__, "generated_by": "scripts/make_image_golden.py",
            "cases": json.dumps(cases, sort_keys=True, separators=(",", ":"))}
    path = os.path.join(out_dir, "image_pipeline.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"{png}: {os.path.getsize(png)} bytes; {jpg}: {os.path.getsize(jpg)} bytes; {path}: {len(cases)} cases, {os.path.getsize(path)} bytes; "
          f"torch {torch.__version__}, torchvision {torchvision.__version__}")


if __name__ == "__main__":
    main()
