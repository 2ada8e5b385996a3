#!/usr/bin/env python3
"""Writes examples/data/moons.csv: two interleaving half circles ("two moons"), 300 points with
Gaussian noise, a header, and the class as a name ("upper"/"lower") in the middle column, the
way a table read with pandas looks in the notes. Standard library only; fixed seed, so the file
is the same every time.
usage: scripts/make_example_csv.py [OUT]"""
import math
import random
import sys

out = sys.argv[1] if len(sys.argv) > 1 else "examples/data/moons.csv"
rng = random.Random(7)
rows = []
for i in range(300):
    t = math.pi * rng.random()
    if i % 2 == 0:
        x, y, name = math.cos(t), math.sin(t), "upper"
    else:
        x, y, name = 1 - math.cos(t), 0.5 - math.sin(t), "lower"
    rows.append((x + rng.gauss(0, 0.1), name, y + rng.gauss(0, 0.1)))
with open(out, "w", newline="") as f:
    f.write("x,class,y\n")
    for x, name, y in rows:
        f.write(f"{x:.4f},{name},{y:.4f}\n")
print(f"wrote {out}: {len(rows)} rows")
