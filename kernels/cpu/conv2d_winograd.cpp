// conv2d by Winograd's minimal filtering on the CPU: 3x3 kernels, stride 1, any padding.
// docs/winograd.md derives the transforms; in short, for F(m x m, 3x3) with tiles of
// a = m + 2 pixels:
//   forward:         Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A      per tile and (k, c), summed over c
//   backward-input:  the same forward on dy with the kernel turned 180° and k <-> c swapped
//   backward-weight: dg = G^T [ (A dY A^T) ⊙ (B^T d B) ] G   summed over tiles, then over c
// The sum over c (and over tiles for dg) is taken in the transformed domain, so each of the
// a*a tile elements e is one GEMM: (k x c) x (c x tiles), or (k x tiles) x (tiles x c).
// Layout: the tiles of the whole batch are numbered t = (n*tiles_h + ty)*tiles_w + tx and
// handled in blocks of `block` tiles, one block per thread at a time.
#include <algorithm>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cpu/parallel.hpp"

namespace dlcraft {
namespace {

// ---------------------------------------------------------------- the transforms
// F(2x2, 3x3): 4x4 input tiles, 2x2 outputs (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015; interpolation points 0, 1, -1, infinity).
struct F2 {
  static constexpr int m = 2, a = 4;
  static constexpr float BT[a][a] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr float G[a][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  static constexpr float AT[m][a] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
};

// F(4x4, 3x3): 6x6 input tiles, 4x4 outputs (points 0, 1, -1, 2, -2, infinity): larger
// constants, so more rounding (docs/winograd.md, "Accuracy").
struct F4 {
  static constexpr int m = 4, a = 6;
  static constexpr float BT[a][a] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                     {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr float G[a][3] = {{1.0f / 4, 0, 0},
                                    {-1.0f / 6, -1.0f / 6, -1.0f / 6},
                                    {-1.0f / 6, 1.0f / 6, -1.0f / 6},
                                    {1.0f / 24, 1.0f / 12, 1.0f / 6},
                                    {1.0f / 24, -1.0f / 12, 1.0f / 6},
                                    {0, 0, 1}};
  static constexpr float AT[m][a] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
};

// Every transform is a "sandwich" out = X in Y^T with small constant matrices X and Y. It
// runs on L tiles (or filters) at once, the lane index l innermost, so that the compiler turns
// the lane loops into vector instructions. The matrices' zero entries are skipped.
constexpr int L = 16;

// out[i][j][l] = sum over p, q of x(i, p) in[p][q][l] y(j, q); x and y give the entries.
template <int R, int P, int Q, int S, class X, class Y>
void sandwich(X x, Y y, const float in[P][Q][L], float out[R][S][L]) {
  // The zero entries of the (constant) transform matrices are skipped: each row's nonzero
  // coefficients are listed first, so the lane loops below have no branch inside. (A branch
  // there was miscompiled by GCC 12 with -O3 -march=native on AVX-512: wrong weight gradients.)
  float t[R][Q][L];  // X in
  for (int i = 0; i < R; ++i) {
    float cs[P];
    int ps[P], nz = 0;
    for (int p = 0; p < P; ++p)
      if (x(i, p) != 0) cs[nz] = x(i, p), ps[nz++] = p;
    for (int q = 0; q < Q; ++q) {
      float acc[L] = {};
      for (int k = 0; k < nz; ++k)
        for (int l = 0; l < L; ++l) acc[l] += cs[k] * in[ps[k]][q][l];
      for (int l = 0; l < L; ++l) t[i][q][l] = acc[l];
    }
  }
  for (int j = 0; j < S; ++j) {
    float cs[Q];
    int qs[Q], nz = 0;
    for (int q = 0; q < Q; ++q)
      if (y(j, q) != 0) cs[nz] = y(j, q), qs[nz++] = q;
    for (int i = 0; i < R; ++i) {
      float acc[L] = {};
      for (int k = 0; k < nz; ++k)
        for (int l = 0; l < L; ++l) acc[l] += cs[k] * t[i][qs[k]][l];
      for (int l = 0; l < L; ++l) out[i][j][l] = acc[l];
    }
  }
}

// u = G g G^T (a x a) for 3x3 filters g.
template <class F>
void filter_transform(const float g[3][3][L], float u[F::a][F::a][L]) {
  auto G = [](int i, int p) { return F::G[i][p]; };
  sandwich<F::a, 3, 3, F::a>(G, G, g, u);
}

// v = B^T d B (a x a) for input tiles d.
template <class F>
void input_transform(const float d[F::a][F::a][L], float v[F::a][F::a][L]) {
  auto BT = [](int i, int p) { return F::BT[i][p]; };
  sandwich<F::a, F::a, F::a, F::a>(BT, BT, d, v);
}

// y = A^T mt A (m x m) for transformed output tiles mt.
template <class F>
void output_transform(const float mt[F::a][F::a][L], float y[F::m][F::m][L]) {
  auto AT = [](int i, int p) { return F::AT[i][p]; };
  sandwich<F::m, F::a, F::a, F::m>(AT, AT, mt, y);
}

// z = A dy A^T (a x a) for m x m tiles of dy: the adjoint of output_transform.
template <class F>
void output_gradient_transform(const float dy[F::m][F::m][L], float z[F::a][F::a][L]) {
  auto A = [](int i, int p) { return F::AT[p][i]; };
  sandwich<F::a, F::m, F::m, F::a>(A, A, dy, z);
}

// dg = G^T s G (3 x 3): the adjoint of filter_transform.
template <class F>
void filter_gradient_transform(const float s[F::a][F::a][L], float dg[3][3][L]) {
  auto GT = [](int i, int p) { return F::G[p][i]; };
  sandwich<3, F::a, F::a, 3>(GT, GT, s, dg);
}

// ---------------------------------------------------------------- tiles and scratch
int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Per-thread scratch that grows to the largest layer once and is then reused (as in
// conv2d.cpp), so steady-state training steps do not allocate. Inside the parallel loops:
// slot 0 the transformed input tiles, 1 the GEMM outputs (or dy tiles), 2 the weight
// gradient's private sums. On the calling thread: 3 the transformed filters, 4 the weight
// gradient's total, which every thread reads.
float* scratch(size_t count, int slot) {
  thread_local std::vector<float> buf[5];
  if (buf[slot].size() < count) buf[slot].resize(count);
  return buf[slot].data();
}

// The output tiles of a conv and how they are cut into blocks.
struct Tiling {
  int th, tw;        // tiles per image, down and across (the last ones may hang over the edge)
  int64_t count;     // n * th * tw
  int block;         // tiles per block
  int64_t blocks;
};

Tiling make_tiling(const Conv2dShape& s, int m) {
  Tiling t;
  t.th = (s.out_h() + m - 1) / m;
  t.tw = (s.out_w() + m - 1) / m;
  t.count = int64_t(s.n) * t.th * t.tw;
  // Enough blocks to keep every thread busy, and at most 64 tiles so that one block's
  // transformed tiles (a*a * channels * 64 floats: 256 KB for 64 channels with a = 4) stay
  // near the core's cache between the transform and the GEMMs.
  const int64_t per_thread = (t.count + max_threads() - 1) / max_threads();
  t.block = int(std::max<int64_t>(1, std::min<int64_t>(64, per_thread)));
  t.blocks = (t.count + t.block - 1) / t.block;
  return t;
}

// Tile t: its image n and its place (ty, tx). Its first output pixel is (ty*m, tx*m), its
// first input pixel (ty*m - pad_h, tx*m - pad_w).
struct TilePos {
  int n, ty, tx;
};
TilePos tile_at(const Tiling& tl, int64_t t) {
  return {int(t / (int64_t(tl.th) * tl.tw)), int(t / tl.tw % tl.th), int(t % tl.tw)};
}

// The positions of the (up to L) tiles first..first+lanes-1; missing lanes repeat the last
// tile, whose results are then not stored.
void lane_tiles(const Tiling& tl, int64_t first, int lanes, TilePos pos[L]) {
  for (int l = 0; l < L; ++l) pos[l] = tile_at(tl, first + std::min(l, lanes - 1));
}

// v[e][c][b] (stride nb per channel, c*nb per element e) = B^T d B for the tiles
// first..first+nb-1 of the image planes in `x` (n, c, h, w); d reads zeros outside.
template <class F>
void transform_input_block(const Conv2dShape& s, const Tiling& tl, const float* x, int64_t first, int nb,
                           float* v) {
  const int64_t estride = int64_t(s.c) * nb;
  for (int b0 = 0; b0 < nb; b0 += L) {
    const int lanes = std::min(L, nb - b0);
    TilePos pos[L];
    lane_tiles(tl, first + b0, lanes, pos);
    for (int c = 0; c < s.c; ++c) {
      float d[F::a][F::a][L], vt[F::a][F::a][L];
      for (int l = 0; l < L; ++l) {
        const float* plane = x + (int64_t(pos[l].n) * s.c + c) * s.h * s.w;
        const int row0 = pos[l].ty * F::m - s.pad_h, col0 = pos[l].tx * F::m - s.pad_w;
        for (int i = 0; i < F::a; ++i)
          for (int j = 0; j < F::a; ++j) {
            const int hi = row0 + i, wi = col0 + j;
            d[i][j][l] = (hi >= 0 && hi < s.h && wi >= 0 && wi < s.w) ? plane[hi * s.w + wi] : 0.0f;
          }
      }
      input_transform<F>(d, vt);
      for (int e = 0; e < F::a * F::a; ++e)
        std::copy(vt[e / F::a][e % F::a], vt[e / F::a][e % F::a] + lanes, v + e * estride + int64_t(c) * nb + b0);
    }
  }
}

// u[e][ko][ci] = (G g G^T)[e] of the filter w[ko, ci] (k x c x 3 x 3); with `flip`, of the
// filter w[ci, ko] turned by 180° (the backward-input conv: k and c swap roles).
template <class F>
const float* transform_filters(const float* w, int k, int c, bool flip) {
  const int ko_count = flip ? c : k, ci_count = flip ? k : c;
  float* u = scratch(size_t(F::a) * F::a * ko_count * ci_count, 3);
  const int64_t estride = int64_t(ko_count) * ci_count;
#pragma omp parallel for schedule(static)
  for (int ko = 0; ko < ko_count; ++ko)
    for (int ci0 = 0; ci0 < ci_count; ci0 += L) {
      const int lanes = std::min(L, ci_count - ci0);
      float g[3][3][L], ut[F::a][F::a][L];
      for (int l = 0; l < L; ++l) {
        const int ci = ci0 + std::min(l, lanes - 1);
        const float* src = flip ? w + (int64_t(ci) * c + ko) * 9 : w + (int64_t(ko) * c + ci) * 9;
        for (int i = 0; i < 3; ++i)
          for (int j = 0; j < 3; ++j) g[i][j][l] = flip ? src[(2 - i) * 3 + (2 - j)] : src[i * 3 + j];
      }
      filter_transform<F>(g, ut);
      for (int e = 0; e < F::a * F::a; ++e)
        std::copy(ut[e / F::a][e % F::a], ut[e / F::a][e % F::a] + lanes,
                  u + e * estride + int64_t(ko) * ci_count + ci0);
    }
  return u;
}

// y = conv(x, the filters whose transforms are u) + b, for a 3x3 stride-1 shape s (whose
// padding may be negative: the backward-input conv with padding > 2 crops instead).
template <class F>
void forward_transformed(const Conv2dShape& s, const float* x, const float* u, const float* bias,
                         float* y, bool relu = false) {
  constexpr int E = F::a * F::a;
  const Tiling tl = make_tiling(s, F::m);
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < tl.blocks; ++blk) {
    const int64_t first = blk * tl.block;
    const int nb = int(std::min<int64_t>(tl.block, tl.count - first));
    float* v = scratch(size_t(E) * s.c * nb, 0);
    float* mo = scratch(size_t(E) * s.k * nb + L, 1);  // + L: the last lanes read past nb
    transform_input_block<F>(s, tl, x, first, nb, v);
    // The a*a independent products, one per tile element: M[e] (k x nb) = U[e] (k x c) V[e] (c x nb).
    for (int e = 0; e < E; ++e)
      gemm_cpu(false, false, s.k, nb, s.c, 1.0f, u + int64_t(e) * s.k * s.c, s.c,
               v + int64_t(e) * s.c * nb, nb, 0.0f, mo + int64_t(e) * s.k * nb, nb);
    for (int b0 = 0; b0 < nb; b0 += L) {
      const int lanes = std::min(L, nb - b0);
      TilePos pos[L];
      lane_tiles(tl, first + b0, lanes, pos);
      for (int k = 0; k < s.k; ++k) {
        float mt[F::a][F::a][L], yt[F::m][F::m][L];
        for (int e = 0; e < E; ++e) std::copy_n(mo + (int64_t(e) * s.k + k) * nb + b0, L, mt[e / F::a][e % F::a]);
        output_transform<F>(mt, yt);
        const float bk = bias ? bias[k] : 0.0f;
        for (int l = 0; l < lanes; ++l) {
          const int p0 = pos[l].ty * F::m, q0 = pos[l].tx * F::m;
          float* plane = y + (int64_t(pos[l].n) * s.k + k) * oh * ow;
          // A tile past the bottom or right edge computed outputs that do not exist: drop them.
          for (int i = 0; i < F::m && p0 + i < oh; ++i)
            for (int j = 0; j < F::m && q0 + j < ow; ++j) {
              // relu: the fused epilogue (docs/fused_epilogues.md), kernels/cpu/relu.cpp's formula.
              const float v = yt[i][j][l] + bk;
              plane[(p0 + i) * ow + q0 + j] = relu && v < 0.0f ? 0.0f : v;
            }
        }
      }
    }
  }
}

template <class F>
void forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y, bool relu) {
  forward_transformed<F>(s, x, transform_filters<F>(w, s.k, s.c, /*flip=*/false), b, y, relu);
}

// dx = the "full" correlation of dy with the flipped kernel (docs/convolution.md, Backward):
// for stride 1 that is again a 3x3 stride-1 conv, from k channels to c, padding 2 - pad.
template <class F>
void backward_input(const Conv2dShape& s, const float* dy, const float* w, float* dx) {
  const Conv2dShape t{s.n, s.k, s.out_h(), s.out_w(), s.c, 3, 3, 1, 1, 2 - s.pad_h, 2 - s.pad_w};
  forward_transformed<F>(t, dy, transform_filters<F>(w, s.k, s.c, /*flip=*/true), nullptr, dx);
}

// dw[k,c] = G^T [ sum over tiles of (A dY A^T) ⊙ (B^T d B) ] G, the sums over tiles being
// the GEMMs S[e] (k x c) += Z[e] (k x nb) V[e]^T (nb x c).
template <class F>
void backward_weight(const Conv2dShape& s, const float* x, const float* dy, float* dw, float* db) {
  constexpr int E = F::a * F::a;
  const Tiling tl = make_tiling(s, F::m);
  const int oh = s.out_h(), ow = s.out_w();
  const int64_t ssize = int64_t(E) * s.k * s.c;
  float* sum = scratch(size_t(ssize), 4);
  std::fill(sum, sum + ssize, 0.0f);
#pragma omp parallel
  {
    float* s_local = scratch(size_t(ssize), 2);
    std::fill(s_local, s_local + ssize, 0.0f);
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < tl.blocks; ++blk) {
      const int64_t first = blk * tl.block;
      const int nb = int(std::min<int64_t>(tl.block, tl.count - first));
      float* v = scratch(size_t(E) * s.c * nb, 0);
      float* z = scratch(size_t(E) * s.k * nb, 1);
      transform_input_block<F>(s, tl, x, first, nb, v);
      for (int b0 = 0; b0 < nb; b0 += L) {
        const int lanes = std::min(L, nb - b0);
        TilePos pos[L];
        lane_tiles(tl, first + b0, lanes, pos);
        for (int k = 0; k < s.k; ++k) {
          float dt[F::m][F::m][L], zt[F::a][F::a][L];
          for (int l = 0; l < L; ++l) {
            const int p0 = pos[l].ty * F::m, q0 = pos[l].tx * F::m;
            const float* plane = dy + (int64_t(pos[l].n) * s.k + k) * oh * ow;
            // dy is zero past the edge: the outputs that the forward dropped get no gradient.
            for (int i = 0; i < F::m; ++i)
              for (int j = 0; j < F::m; ++j)
                dt[i][j][l] = (p0 + i < oh && q0 + j < ow) ? plane[(p0 + i) * ow + q0 + j] : 0.0f;
          }
          output_gradient_transform<F>(dt, zt);
          for (int e = 0; e < E; ++e)
            std::copy(zt[e / F::a][e % F::a], zt[e / F::a][e % F::a] + lanes, z + (int64_t(e) * s.k + k) * nb + b0);
        }
      }
      for (int e = 0; e < E; ++e)
        gemm_cpu(false, true, s.k, s.c, nb, 1.0f, z + int64_t(e) * s.k * nb, nb, v + int64_t(e) * s.c * nb, nb,
                 1.0f, s_local + int64_t(e) * s.k * s.c, s.c);
    }
    // The private sums are added in thread order 0, 1, 2... (as in conv2d.cpp), so the
    // result repeats run to run.
    const int threads = team_size();
#pragma omp for ordered schedule(static, 1)
    for (int t = 0; t < threads; ++t) {
#pragma omp ordered
      for (int64_t i = 0; i < ssize; ++i) sum[i] += s_local[i];
    }
  }
  const int64_t kc = int64_t(s.k) * s.c;
#pragma omp parallel for schedule(static)
  for (int64_t f0 = 0; f0 < kc; f0 += L) {
    const int lanes = int(std::min<int64_t>(L, kc - f0));
    float st[F::a][F::a][L], g[3][3][L];
    for (int e = 0; e < E; ++e)
      for (int l = 0; l < L; ++l) st[e / F::a][e % F::a][l] = l < lanes ? sum[e * kc + f0 + l] : 0.0f;
    filter_gradient_transform<F>(st, g);
    for (int l = 0; l < lanes; ++l)
      for (int i = 0; i < 9; ++i) dw[(f0 + l) * 9 + i] = g[i / 3][i % 3][l];
  }
  if (db) {
#pragma omp parallel for schedule(static)
    for (int k = 0; k < s.k; ++k) {
      float acc = 0.0f;
      for (int n = 0; n < s.n; ++n) {
        const float* plane = dy + (int64_t(n) * s.k + k) * oh * ow;
        for (int p = 0; p < oh * ow; ++p) acc += plane[p];
      }
      db[k] = acc;
    }
  }
}

void check_tile(int tile, const char* who) {
  if (tile != 2 && tile != 4)
    throw ArgumentError(std::string(who) + ": Winograd output tile must be 2 or 4, got " + std::to_string(tile));
}

void check_shape(const Conv2dShape& s, const char* who) {
  if (!conv2d_winograd_eligible(s))
    throw ArgumentError(std::string(who) + ": Winograd needs a 3x3 kernel with stride 1, got " + std::to_string(s.r) +
                        "x" + std::to_string(s.s) + " stride (" + std::to_string(s.stride_h) + ", " +
                        std::to_string(s.stride_w) + ")");
}

}  // namespace

bool conv2d_winograd_eligible(const Conv2dShape& s) {
  return s.r == 3 && s.s == 3 && s.stride_h == 1 && s.stride_w == 1;
}

void conv2d_forward_winograd_cpu(int tile, const Conv2dShape& s, const float* x, const float* w, const float* b,
                                 float* y, bool relu) {
  check_tile(tile, "conv2d_forward_winograd_cpu");
  check_shape(s, "conv2d_forward_winograd_cpu");
  (tile == 2 ? forward<F2> : forward<F4>)(s, x, w, b, y, relu);
}

void conv2d_backward_input_winograd_cpu(int tile, const Conv2dShape& s, const float* dy, const float* w,
                                        float* dx) {
  check_tile(tile, "conv2d_backward_input_winograd_cpu");
  check_shape(s, "conv2d_backward_input_winograd_cpu");
  (tile == 2 ? backward_input<F2> : backward_input<F4>)(s, dy, w, dx);
}

void conv2d_backward_weight_winograd_cpu(int tile, const Conv2dShape& s, const float* x, const float* dy, float* dw,
                                         float* db) {
  check_tile(tile, "conv2d_backward_weight_winograd_cpu");
  check_shape(s, "conv2d_backward_weight_winograd_cpu");
  (tile == 2 ? backward_weight<F2> : backward_weight<F4>)(s, x, dy, dw, db);
}

}  // namespace dlcraft
