#!/usr/bin/env bash
# Copies the header-only dependencies (Eigen, Catch2 v2, CLI11, nlohmann-json) and their
# CMake package files, and libjpeg-turbo, libpng and zlib (headers and shared libraries, found by
# CMake's FindJPEG/FindPNG there), from this Debian machine into .deps/usr (git-ignored, about
# 19 MiB), for a GPU machine that has CUDA and CMake but no Debian packages. Pass ".deps" in the device
# tool's `carry`; scripts/gpu_check.sh adds .deps/usr to CMAKE_PREFIX_PATH when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
rm -rf .deps && mkdir -p .deps/usr/include .deps/usr/share/eigen3 .deps/usr/lib/cmake
cp -r /usr/include/eigen3 /usr/include/catch2 /usr/include/CLI /usr/include/nlohmann .deps/usr/include/
cp -r /usr/share/eigen3/cmake .deps/usr/share/eigen3/
cp -r /usr/lib/cmake/Catch2 .deps/usr/lib/cmake/
cp /usr/lib/libCatch2WithMain.a .deps/usr/lib/  # referenced by Catch2Targets.cmake
multiarch=$(gcc -print-multiarch)
cp /usr/include/{jpeglib.h,jmorecfg.h,jerror.h,png.h,pngconf.h,pnglibconf.h,zlib.h,zconf.h} \
  "/usr/include/$multiarch/jconfig.h" .deps/usr/include/
# Files, not links (libz.so links to an absolute path): the .so name CMake links and the
# versioned name the programs load.
cp -L /usr/lib/"$multiarch"/{libjpeg,libpng16,libz}.so* .deps/usr/lib/
ln -sf libpng16.so .deps/usr/lib/libpng.so
du -sh .deps
