// matmul with torch.matmul's semantics, on the GEMM kernels (gemm_cpu per matrix, gemm_cuda
// with batch strides). A 1-D a is read as a row [1,m], a 1-D b as a column [m,1], and the
// added dimension is removed after; the dimensions before the last two are batch dimensions
// and broadcast ([j,1,n,m] x [k,m,p] -> [j,k,n,p]).
// Backward (docs/matmul.md): for each matrix of the batch, dA = dY Bᵀ and dB = Aᵀ dY, both
// GEMMs with a transposed operand (no transposed copy is made); an operand broadcast over the
// batch gets the sum of its gradients over the batch (sum_to, or the GEMM's sum_batches when
// one matrix served the whole batch).
#include <algorithm>
#include <climits>

#include "core/autograd.hpp"
#include "core/broadcast.hpp"
#include "core/creation.hpp"
#include "core/ops.hpp"
#include "core/ops/op_checks.hpp"
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/cuda/kernels_cuda.hpp"

namespace dlcraft {
namespace {

// One side of a batched GEMM: matrix b of the batch starts at p + b * stride (stride 0: the
// same matrix for every b), rows `ld` apart, read transposed when `trans`.
struct Operand {
  const float* p;
  int64_t stride;
  int ld;
  bool trans;
};

// C_b = op(A_b) op(B_b) (m x n, inner size k) for b in [0, batch), C_b at c + b*m*n; or, with
// sum_batches, the sum over b of them into the one m x n C.
void batched_gemm(Device device, int64_t batch, int m, int n, int k, const Operand& a,
                  const Operand& b, float* c, bool sum_batches) {
  if (m == 0 || n == 0) return;
  if (batch == 0 || k == 0) {  // an empty sum: zeros
    const int64_t count = (sum_batches ? 1 : batch) * int64_t(m) * n;
    if (device.is_cuda())
      fill_cuda(count, 0.0f, c);
    else
      fill_cpu(count, 0.0f, c);
    return;
  }
  const int64_t mn = int64_t(m) * n;
  if (device.is_cuda()) {
    // gemm_cuda runs up to 65535 matrices per launch (a grid dimension); longer batches go in
    // chunks, summing chunks add into C (beta = 1).
    constexpr int64_t kChunk = 65535;
    for (int64_t b0 = 0; b0 < batch; b0 += kChunk) {
      GemmBatch g;
      g.batch = int(std::min(kChunk, batch - b0));
      g.stride_a = a.stride;
      g.stride_b = b.stride;
      g.stride_c = mn;
      g.sum_batches = sum_batches;
      gemm_cuda(a.trans, b.trans, m, n, k, 1.0f, a.p + b0 * a.stride, a.ld, b.p + b0 * b.stride,
                b.ld, sum_batches && b0 > 0 ? 1.0f : 0.0f, sum_batches ? c : c + b0 * mn, n, g);
    }
    return;
  }
  for (int64_t i = 0; i < batch; ++i)
    gemm_cpu(a.trans, b.trans, m, n, k, 1.0f, a.p + i * a.stride, a.ld, b.p + i * b.stride, b.ld,
             sum_batches && i > 0 ? 1.0f : 0.0f, sum_batches ? c : c + i * mn, n);
}

// How x (a matrix or a batch of them, `shape` with 1-D already promoted) is read over the
// broadcast `batch`: one matrix for all (stride 0), one per batch element (x itself), or
// else a copy expanded to the whole batch (kept alive in `holder`).
Operand batch_operand(const Tensor& x, const Shape& shape, const Shape& batch, bool trans,
                      Tensor& holder) {
  const int64_t rows = shape[shape.size() - 2], cols = shape.back();
  const int64_t own = numel(Shape(shape.begin(), shape.end() - 2));
  holder = x;
  int64_t stride = rows * cols;
  if (own == 1 && numel(batch) != 1) {
    stride = 0;
  } else if (own != numel(batch)) {
    Shape full = batch;
    full.push_back(rows);
    full.push_back(cols);
    NoGradGuard no_grad;
    holder = expand(reshape(x, shape), full);
  }
  return {holder.data(), stride, int(cols), trans};
}

void check_int(int64_t v, const Shape& a, const Shape& b) {
  if (v > INT_MAX)
    throw ArgumentError("matmul: " + to_string(a) + " x " + to_string(b) +
                        ": a matrix dimension beyond the GEMM's int range");
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul", "a");
  check_defined(b, "matmul", "b");
  check_same_device({a, b}, "matmul");
  if (a.dtype() != DType::Float32 || b.dtype() != DType::Float32)
    throw DTypeError("matmul: a is " + to_string(a.dtype()) + " and b is " + to_string(b.dtype()) +
                     "; it takes float32");
  if (a.dim() == 0 || b.dim() == 0)
    throw ShapeError("matmul: " + to_string(a.shape()) + " x " + to_string(b.shape()) +
                     ": both arguments need at least one dimension");
  Shape as = a.shape(), bs = b.shape();
  if (a.dim() == 1) as.insert(as.begin(), 1);  // a row
  if (b.dim() == 1) bs.push_back(1);            // a column
  const int64_t n = as[as.size() - 2], m = as.back(), p = bs.back();
  if (bs[bs.size() - 2] != m)
    throw ShapeError("matmul: " + to_string(a.shape()) + " x " + to_string(b.shape()) +
                     ": inner sizes " + std::to_string(m) + " and " +
                     std::to_string(bs[bs.size() - 2]) + " differ");
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes({a_batch, b_batch}, "matmul");
  } catch (const ShapeError&) {
    throw ShapeError("matmul: " + to_string(a.shape()) + " x " + to_string(b.shape()) +
                     ": batch dimensions " + to_string(a_batch) + " and " + to_string(b_batch) +
                     " cannot be broadcast together");
  }
  for (int64_t v : {n, m, p}) check_int(v, a.shape(), b.shape());
  Shape out = batch;
  if (a.dim() > 1) out.push_back(n);
  if (b.dim() > 1) out.push_back(p);
  const int64_t count = numel(batch);

  Tensor y = Tensor::empty(out, a.device());
  if (count > 0) {
    Tensor ha, hb;
    const Operand oa = batch_operand(a, as, batch, false, ha);
    const Operand ob = batch_operand(b, bs, batch, false, hb);
    batched_gemm(a.device(), count, int(n), int(p), int(m), oa, ob, y.data(), false);
  }

  const SavedTensor saved_a(a), saved_b(b);
  return record(y, "matmul", {a, b}, [a, b, saved_a, saved_b, as, bs, batch, count, n, m, p](
                                         const Tensor& dy) {
    // dy is contiguous: read it as [batch..., n, p], one n x p matrix per batch element.
    const Operand ody{dy.data(), n * p, int(p), false};
    // Which gradient a batch of matrices needs: the full [batch..., rows, cols], or (when one
    // matrix served every batch element) their sum straight from the GEMM.
    auto grad = [&](const Tensor& x, const Shape& shape, int rows, int cols, int k,
                    const Operand& left, const Operand& right) {
      const int64_t own = numel(Shape(shape.begin(), shape.end() - 2));
      const bool one = own == 1;
      Shape full = one ? Shape{} : batch;
      full.push_back(rows);
      full.push_back(cols);
      Tensor g = Tensor::empty(full, dy.device());
      batched_gemm(dy.device(), count, rows, cols, k, left, right, g.data(), one);
      // A batch dimension x has as 1 (or lacks) while the batch does not: summed by sum_to.
      if (!one && own != count) g = sum_to(g, shape);
      accumulate_grad(x, reshape(g, x.shape()));
    };
    if (a.requires_grad()) {  // dA_b = dY_b B_bᵀ: (n x p)(p x m)
      Tensor hb;
      const Operand ob = batch_operand(saved_b.get("matmul"), bs, batch, true, hb);
      grad(a, as, int(n), int(m), int(p), ody, ob);
    }
    if (b.requires_grad()) {  // dB_b = A_bᵀ dY_b: (m x n)(n x p)
      Tensor ha;
      const Operand oa = batch_operand(saved_a.get("matmul"), as, batch, true, ha);
      grad(b, bs, int(m), int(p), int(n), oa, ody);
    }
  });
}

}  // namespace dlcraft
