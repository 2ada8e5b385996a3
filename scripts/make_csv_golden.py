#!/usr/bin/env python3
"""Golden files for read_csv (datasets/csv.hpp): a CSV file full of what RFC 4180 allows, and
what Python's own csv module reads from it, as the reference.

    python3 scripts/make_csv_golden.py [OUT_DIR]      (default tests/golden/csv)

Writes tricky.csv and tricky.json. The file has a header, CRLF line ends, blank lines, class
names with commas, doubled quotes and line breaks, the label column in the middle, and numbers
plain, quoted, padded with spaces, with signs and exponents. tricky.json holds what
csv.reader + float() make of it: feature_names, x (row-major, rounded to float32 as numpy
does), classes (sorted) and y (indices). Needs numpy only; deterministic (seed 12).
"""
import csv
import io
import json
import os
import random
import sys

import numpy as np

out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "golden", "csv")
os.makedirs(out_dir, exist_ok=True)
rng = random.Random(12)

names = ["a, b", 'say "hi"', "two\r\nlines", "plain", "ünïcode", " spaced"]
header = ["f0", "width, cm", "species", 'h "in"', "f4"]


def number():
    v = rng.uniform(-1000, 1000) * 10.0 ** rng.randint(-4, 3)
    form = rng.choice(["{!r}", "{:.3e}", "{:.6g}", "{:+.2f}", "{:.0f}"]).format(v)
    kind = rng.randrange(4)
    if kind == 1:
        form = '"' + form + '"'
    elif kind == 2:
        form = " " * rng.randint(1, 2) + form + " " * rng.randint(0, 2)
    return form


def quote(s):
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') or s != s.strip() else s


lines = [",".join(quote(h) for h in header)]
for r in range(40):
    cells = [number(), number(), quote(rng.choice(names).strip()), number(), number()]
    lines.append(",".join(cells))
    if rng.random() < 0.15:
        lines.append(rng.choice(["", "  "]))
text = "\r\n".join(lines) + "\r\n"
with open(os.path.join(out_dir, "tricky.csv"), "w", encoding="utf-8", newline="") as f:
    f.write(text)

rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row and any(c.strip() for c in row)]
head, body = rows[0], rows[1:]
label = head.index("species")
features = [k for k in range(len(head)) if k != label]
x = np.array([[float(row[k].strip()) for k in features] for row in body], dtype=np.float32)
targets = [row[label].strip() for row in body]
classes = sorted(set(targets))
golden = {
    "feature_names": [head[k] for k in features],
    "x": [float(v) for v in x.ravel()],
    "rows": len(body),
    "classes": classes,
    "y": [classes.index(t) for t in targets],
}
with open(os.path.join(out_dir, "tricky.json"), "w", encoding="utf-8") as f:
    json.dump(golden, f, ensure_ascii=False, indent=1)
print(f"{out_dir}: {len(body)} rows, {len(classes)} classes")
