#!/usr/bin/env bash
# Downloads the official CIFAR-10 binary archive, checks its md5 and unpacks it:
#   bash scripts/download_cifar10.sh [DIR]      -> DIR/cifar-10-batches-bin/ (DIR defaults to data)
# An existing, complete copy is left as it is. A failed download never replaces good data:
# the archive is fetched to a temporary name and only renamed once its md5 matches.
set -euo pipefail
dir=${1:-data}
url=${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}
md5=c32a1d4ab5d03f1284b67883e8d87530
out="$dir/cifar-10-batches-bin"
if [ -f "$out/data_batch_5.bin" ] && [ -f "$out/test_batch.bin" ]; then
  echo "CIFAR-10 already in $out"
  exit 0
fi
mkdir -p "$dir"
archive="$dir/cifar-10-binary.tar.gz"
if [ ! -f "$archive" ] || [ "$(md5sum "$archive" | cut -d' ' -f1)" != "$md5" ]; then
  echo "downloading $url"
  tmp="$archive.part"
  if ! curl -fL --retry 3 -o "$tmp" "$url"; then
    rm -f "$tmp"
    echo "error: could not download $url (no network?). Put cifar-10-binary.tar.gz in $dir and run again." >&2
    exit 1
  fi
  got=$(md5sum "$tmp" | cut -d' ' -f1)
  if [ "$got" != "$md5" ]; then
    rm -f "$tmp"
    echo "error: $url has md5 $got, expected $md5 (corrupt or changed download)" >&2
    exit 1
  fi
  mv "$tmp" "$archive"
fi
tar -xzf "$archive" -C "$dir"
echo "CIFAR-10 unpacked in $out"
