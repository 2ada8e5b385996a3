#!/usr/bin/env python3
"""Reads a TensorBoard log directory written by dlcraft (train/tensorboard.cpp) with
TensorBoard's own reader and prints every scalar: the check that `tensorboard --logdir` will
show what we wrote (docs/curves.md).

    /work/venv-torch/bin/python scripts/check_tensorboard.py LOGDIR
    /work/venv-torch/bin/python scripts/check_tensorboard.py --crc-vectors

The reader (tensorboard.backend.event_processing.event_accumulator) checks the length and both
masked CRC-32Cs of every record and parses the Event messages with TensorFlow's event.proto.
--crc-vectors prints CRC-32C and masked CRC-32C of the test inputs of
tests/train/test_tensorboard.cpp, computed by TensorBoard's own CRC code (the golden numbers
pasted into that test). Needs `pip install tensorboard` (not needed by the C++ tests).
"""
import argparse
import glob
import os
import struct
import sys


def crc_vectors():
    from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import crc32c, masked_crc32c

    inputs = [
        ("123456789", b"123456789"),
        ("empty", b""),
        ("32 zeros", bytes(32)),
        ("32 x 0xff", b"\xff" * 32),
        ("0..31", bytes(range(32))),
        ("31..0", bytes(range(31, -1, -1))),
        ("uint64 LE 13", struct.pack("<Q", 13)),
        ("brain.Event:2", b"brain.Event:2"),
    ]
    for name, data in inputs:
        print(f"{name:>14}: crc32c 0x{crc32c(data):08X}  masked 0x{masked_crc32c(data):08X}")


def print_scalars(logdir):
    from tensorboard.backend.event_processing import event_accumulator

    files = sorted(glob.glob(os.path.join(logdir, "*tfevents*")))
    if not files:
        sys.exit(f"error: {logdir}: no event files (events.out.tfevents.*)")
    for f in files:
        print(f"file {os.path.basename(f)} ({os.path.getsize(f)} bytes)")
    acc = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    if not tags:
        sys.exit(f"error: {logdir}: TensorBoard found no scalars")
    print(f"file_version: {acc.file_version}")
    for tag in sorted(tags):
        events = acc.Scalars(tag)
        values = ", ".join(f"{e.step}: {e.value:.6g}" for e in events)
        print(f"{tag} ({len(events)} points) {values}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("logdir", nargs="?")
    p.add_argument("--crc-vectors", action="store_true", help="print the CRC test vectors and exit")
    a = p.parse_args()
    if a.crc_vectors:
        crc_vectors()
    elif a.logdir:
        print_scalars(a.logdir)
    else:
        p.error("give LOGDIR or --crc-vectors")


if __name__ == "__main__":
    main()
