#!/usr/bin/env bash
# Installs the Debian packages dlcraft builds with, when they are missing:
# a compiler, CMake, Ninja, Eigen, libjpeg-turbo and libpng (image decoding), Catch2 (v2),
# CLI11, nlohmann-json, Boost.Context (for the emulated CUDA build, -DDLCRAFT_CUDA=EMU), cairo
# and the DejaVu fonts (training curves as PNG/SVG), protobuf and protoc (TensorBoard files),
# Open MPI (data-parallel training across processes, distributed/).
# CUDA is optional: with nvcc on PATH the CUDA backend is built too (see README.md).
set -euo pipefail
packages=(g++ cmake ninja-build libeigen3-dev libjpeg62-turbo-dev libpng-dev catch2 libcli11-dev
          nlohmann-json3-dev curl libboost-context-dev libcairo2-dev fonts-dejavu-core
          libprotobuf-dev protobuf-compiler libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all packages present"
  exit 0
fi
echo "install_deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
