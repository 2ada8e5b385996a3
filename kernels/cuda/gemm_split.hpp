// How gemm_cuda_ex splits a product whose C has too few 64x64 tiles to fill the GPU
// (docs/gemm.md, "Split-K and split-batch"): host-only arithmetic, in its own header so the
// tests check the page's table on any build, with or without a GPU.
#pragma once
#include <algorithm>
#include <cstdint>

namespace dlcraft {

struct GemmSplit {
  int bsplit = 1;   // slices of the batch being summed
  int ksplit = 1;   // slices of the k loop
  int kchunk = 0;   // length of one k slice (a multiple of 16); 0 when not split
  bool split = false;
  int slices() const { return bsplit * ksplit; }
};

// m x n x k, `batch` matrices (summed into one C when sum_batches), on a GPU of `sm_count`
// SMs. Tiles are 64x64, the k step 16 (gemm.cu's BM, BN, BK).
inline GemmSplit gemm_split_plan(int m, int n, int k, int batch, bool sum_batches, int sm_count) {
  constexpr int kTile = 64, kStep = 16;
  const int64_t tile_count = int64_t((n + kTile - 1) / kTile) * ((m + kTile - 1) / kTile);
  const int64_t want = 2 * int64_t(sm_count);  // blocks that keep every SM busy
  GemmSplit s;
  // Batches first (when summing them), then K; each k slice at least 4 steps (64) long.
  if (sum_batches || (batch == 1 && tile_count < want && k >= 4 * kStep * 8)) {
    const int64_t slices = std::max<int64_t>(1, (want + tile_count - 1) / tile_count);
    s.bsplit = sum_batches ? int(std::min<int64_t>(batch, slices)) : 1;
    const int64_t rest = (slices + s.bsplit - 1) / s.bsplit;
    s.ksplit = int(std::max<int64_t>(1, std::min<int64_t>(rest, k / (4 * kStep))));
  }
  s.split = s.bsplit * s.ksplit > 1 || sum_batches;
  if (!s.split) return s;
  s.kchunk = std::max(kStep, ((k + s.ksplit - 1) / s.ksplit + kStep - 1) / kStep * kStep);
  s.ksplit = std::max(1, (k + s.kchunk - 1) / s.kchunk);  // no empty slice after rounding
  return s;
}

}  // namespace dlcraft
