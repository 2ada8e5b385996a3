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

// u = G g G^T (a x a) for one 3x3 filter g.
template <class F>
void filter_transform(const float g[3][3], float u[F::a][F::a]) {
  float t[F::a][3];  // G g
  for (int i = 0; i < F::a; ++i)
    for (int j = 0; j < 3; ++j) t[i][j] = F::G[i][0] * g[0][j] + F::G[i][1] * g[1][j] + F::G[i][2] * g[2][j];
  for (int i = 0; i < F::a; ++i)
    for (int j = 0; j < F::a; ++j) u[i][j] = t[i][0] * F::G[j][0] + t[i][1] * F::G[j][1] + t[i][2] * F::G[j][2];
}

// v = B^T d B (a x a) for one input tile d.
template <class F>
void input_transform(const float d[F::a][F::a], float v[F::a][F::a]) {
  float t[F::a][F::a];  // B^T d
  for (int i = 0; i < F::a; ++i)
    for (int j = 0; j < F::a; ++j) {
      float acc = 0;
      for (int l = 0; l < F::a; ++l) acc += F::BT[i][l] * d[l][j];
      t[i][j] = acc;
    }
  for (int i = 0; i < F::a; ++i)
    for (int j = 0; j < F::a; ++j) {
      float acc = 0;
      for (int l = 0; l < F::a; ++l) acc += t[i][l] * F::BT[j][l];
      v[i][j] = acc;
    }
}

// y = A^T mt A (m x m) for one transformed output tile mt.
template <class F>
void output_transform(const float mt[F::a][F::a], float y[F::m][F::m]) {
  float t[F::m][F::a];  // A^T mt
  for (int i = 0; i < F::m; ++i)
    for (int j = 0; j < F::a; ++j) {
      float acc = 0;
      for (int l = 0; l < F::a; ++l) acc += F::AT[i][l] * mt[l][j];
      t[i][j] = acc;
    }
  for (int i = 0; i < F::m; ++i)
    for (int j = 0; j < F::m; ++j) {
      float acc = 0;
      for (int l = 0; l < F::a; ++l) acc += t[i][l] * F::AT[j][l];
      y[i][j] = acc;
    }
}

// z = A dy A^T (a x a) for one m x m tile of dy: the adjoint of output_transform.
template <class F>
void output_gradient_transform(const float dy[F::m][F::m], float z[F::a][F::a]) {
  float t[F::a][F::m];  // A dy
  for (int i = 0; i < F::a; ++i)
    for (int j = 0; j < F::m; ++j) {
      float acc = 0;
      for (int l = 0; l < F::m; ++l) acc += F::AT[l][i] * dy[l][j];
      t[i][j] = acc;
    }
  for (int i = 0; i < F::a; ++i)
    for (int j = 0; j < F::a; ++j) {
      float acc = 0;
      for (int l = 0; l < F::m; ++l) acc += t[i][l] * F::AT[l][j];
      z[i][j] = acc;
    }
}

// dg = G^T s G (3 x 3): the adjoint of filter_transform.
template <class F>
void filter_gradient_transform(const float s[F::a][F::a], float dg[3][3]) {
  float t[3][F::a];  // G^T s
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < F::a; ++j) {
      float acc = 0;
      for (int l = 0; l < F::a; ++l) acc += F::G[l][i] * s[l][j];
      t[i][j] = acc;
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      float acc = 0;
      for (int l = 0; l < F::a; ++l) acc += t[i][l] * F::G[l][j];
      dg[i][j] = acc;
    }
}

// ---------------------------------------------------------------- tiles and scratch
int max_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Per-thread scratch reused across calls (as in conv2d.cpp): slot 0 the transformed input
// tiles, slot 1 the GEMM outputs (or dy tiles), slot 2 the weight gradient's private sums.
float* scratch(size_t count, int slot) {
  thread_local std::vector<float> buf[3];
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

// Tile t's image and its position in tiles.
struct TilePos {
  int n, ty, tx;
};
TilePos tile_at(const Tiling& tl, int64_t t) {
  return {int(t / (int64_t(tl.th) * tl.tw)), int(t / tl.tw % tl.th), int(t % tl.tw)};
}

// v[e][c][b] (stride nb per channel, c_count*nb per element e) = B^T d B for the tiles
// first..first+nb-1 of the image planes in `x` (n, c_count, h, w); d reads zeros outside.
// The tiles are the inner loop, so that v and the GEMM outputs are written and read along
// rows of nb floats, not a*a rows apart for every tile.
template <class F>
void transform_input_block(const Conv2dShape& s, const Tiling& tl, const float* x, int64_t first, int nb,
                           float* v) {
  const int64_t estride = int64_t(s.c) * nb;
  for (int c = 0; c < s.c; ++c)
    for (int b = 0; b < nb; ++b) {
      const TilePos tp = tile_at(tl, first + b);
      const int row0 = tp.ty * F::m - s.pad_h, col0 = tp.tx * F::m - s.pad_w;
      const float* plane = x + (int64_t(tp.n) * s.c + c) * s.h * s.w;
      float d[F::a][F::a], vt[F::a][F::a];
      for (int i = 0; i < F::a; ++i)
        for (int j = 0; j < F::a; ++j) {
          const int hi = row0 + i, wi = col0 + j;
          d[i][j] = (hi >= 0 && hi < s.h && wi >= 0 && wi < s.w) ? plane[hi * s.w + wi] : 0.0f;
        }
      input_transform<F>(d, vt);
      for (int e = 0; e < F::a * F::a; ++e) v[e * estride + int64_t(c) * nb + b] = vt[e / F::a][e % F::a];
    }
}

// u[e][ko][ci] = (G g G^T)[e] of the filter w[ko, ci] (k x c x 3 x 3); with `flip`, of the
// filter w[ci, ko] turned by 180° (the backward-input conv: k and c swap roles).
template <class F>
std::vector<float> transform_filters(const float* w, int k, int c, bool flip) {
  const int ko_count = flip ? c : k, ci_count = flip ? k : c;
  std::vector<float> u(size_t(F::a) * F::a * ko_count * ci_count);
  const int64_t estride = int64_t(ko_count) * ci_count;
#pragma omp parallel for schedule(static)
  for (int ko = 0; ko < ko_count; ++ko)
    for (int ci = 0; ci < ci_count; ++ci) {
      const float* src = flip ? w + (int64_t(ci) * c + ko) * 9 : w + (int64_t(ko) * c + ci) * 9;
      float g[3][3], ut[F::a][F::a];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) g[i][j] = flip ? src[(2 - i) * 3 + (2 - j)] : src[i * 3 + j];
      filter_transform<F>(g, ut);
      for (int e = 0; e < F::a * F::a; ++e) u[e * estride + int64_t(ko) * ci_count + ci] = ut[e / F::a][e % F::a];
    }
  return u;
}

// y = conv(x, the filters whose transforms are u) + b, for a 3x3 stride-1 shape s (whose
// padding may be negative: the backward-input conv with padding > 2 crops instead).
template <class F>
void forward_transformed(const Conv2dShape& s, const float* x, const std::vector<float>& u, const float* bias,
                         float* y) {
  constexpr int E = F::a * F::a;
  const Tiling tl = make_tiling(s, F::m);
  const int oh = s.out_h(), ow = s.out_w();
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < tl.blocks; ++blk) {
    const int64_t first = blk * tl.block;
    const int nb = int(std::min<int64_t>(tl.block, tl.count - first));
    float* v = scratch(size_t(E) * s.c * nb, 0);
    float* mo = scratch(size_t(E) * s.k * nb, 1);
    transform_input_block<F>(s, tl, x, first, nb, v);
    // The a*a independent products, one per tile element: M[e] (k x nb) = U[e] (k x c) V[e] (c x nb).
    for (int e = 0; e < E; ++e)
      gemm_cpu(false, false, s.k, nb, s.c, 1.0f, u.data() + int64_t(e) * s.k * s.c, s.c,
               v + int64_t(e) * s.c * nb, nb, 0.0f, mo + int64_t(e) * s.k * nb, nb);
    for (int k = 0; k < s.k; ++k)
      for (int b = 0; b < nb; ++b) {
        const TilePos tp = tile_at(tl, first + b);
        const int n = tp.n, ty = tp.ty, tx = tp.tx;
        float mt[F::a][F::a], yt[F::m][F::m];
        for (int e = 0; e < E; ++e) mt[e / F::a][e % F::a] = mo[(int64_t(e) * s.k + k) * nb + b];
        output_transform<F>(mt, yt);
        const float bk = bias ? bias[k] : 0.0f;
        float* plane = y + (int64_t(n) * s.k + k) * oh * ow;
        // A tile past the bottom or right edge computed outputs that do not exist: drop them.
        for (int i = 0; i < F::m && ty * F::m + i < oh; ++i)
          for (int j = 0; j < F::m && tx * F::m + j < ow; ++j)
            plane[(ty * F::m + i) * ow + tx * F::m + j] = yt[i][j] + bk;
      }
  }
}

template <class F>
void forward(const Conv2dShape& s, const float* x, const float* w, const float* b, float* y) {
  forward_transformed<F>(s, x, transform_filters<F>(w, s.k, s.c, /*flip=*/false), b, y);
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
  std::vector<float> sum(size_t(ssize), 0.0f);
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
      for (int k = 0; k < s.k; ++k)
        for (int b = 0; b < nb; ++b) {
          const TilePos tp = tile_at(tl, first + b);
          const int n = tp.n, ty = tp.ty, tx = tp.tx;
          const float* plane = dy + (int64_t(n) * s.k + k) * oh * ow;
          float dt[F::m][F::m], zt[F::a][F::a];
          // dy is zero past the edge: the outputs that the forward dropped get no gradient.
          for (int i = 0; i < F::m; ++i)
            for (int j = 0; j < F::m; ++j) {
              const int p = ty * F::m + i, q = tx * F::m + j;
              dt[i][j] = (p < oh && q < ow) ? plane[p * ow + q] : 0.0f;
            }
          output_gradient_transform<F>(dt, zt);
          for (int e = 0; e < E; ++e) z[(int64_t(e) * s.k + k) * nb + b] = zt[e / F::a][e % F::a];
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
      for (int64_t i = 0; i < ssize; ++i) sum[size_t(i)] += s_local[i];
    }
  }
  const int64_t kc = int64_t(s.k) * s.c;
#pragma omp parallel for schedule(static)
  for (int64_t f = 0; f < kc; ++f) {
    float st[F::a][F::a], g[3][3];
    for (int e = 0; e < E; ++e) st[e / F::a][e % F::a] = sum[size_t(e * kc + f)];
    filter_gradient_transform<F>(st, g);
    for (int i = 0; i < 9; ++i) dw[f * 9 + i] = g[i / 3][i % 3];
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
                                 float* y) {
  check_tile(tile, "conv2d_forward_winograd_cpu");
  check_shape(s, "conv2d_forward_winograd_cpu");
  (tile == 2 ? forward<F2> : forward<F4>)(s, x, w, b, y);
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
