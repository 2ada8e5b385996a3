// Broadcasting binary ops, comparisons and where on the GPU. CPU reference:
// kernels/cpu/binary.cpp. One thread per output element in a grid-stride loop: thread i writes
// y[i] (neighbouring threads, neighbouring outputs: coalesced stores) and reads each operand at
// ix.offset(i), which is stride 0 along the operand's broadcast dimensions, so a row or column
// repeated across the output is read again and again from cache, never copied. Same shapes
// skip the index arithmetic (the flat kernels). The op is a template parameter: no
// per-element switch. Formulas: kernels/elementwise_ops.hpp. docs/elementwise.md.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/kernels_cuda.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {
namespace {

#define DLCRAFT_GRID_STRIDE(i, n) \
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

template <BinaryOp OP>
__global__ void binary_flat_kernel(int64_t n, const float* a, const float* b, float* y) {
  DLCRAFT_GRID_STRIDE(i, n) y[i] = binary_apply<OP>(a[i], b[i]);
}

template <BinaryOp OP>
__global__ void binary_kernel(StridedIndex ia, StridedIndex ib, int64_t n, const float* a, const float* b, float* y) {
  DLCRAFT_GRID_STRIDE(i, n) y[i] = binary_apply<OP>(a[ia.offset(i)], b[ib.offset(i)]);
}

template <BinaryOp OP, bool SCALAR_FIRST>
__global__ void binary_scalar_kernel(int64_t n, const float* a, float b, float* y) {
  DLCRAFT_GRID_STRIDE(i, n) y[i] = SCALAR_FIRST ? binary_apply<OP>(b, a[i]) : binary_apply<OP>(a[i], b);
}

template <CompareOp OP, class T>
__global__ void compare_kernel(StridedIndex ia, StridedIndex ib, int64_t n, const T* a, const T* b, uint8_t* y) {
  DLCRAFT_GRID_STRIDE(i, n) y[i] = compare_apply<OP, T>(a[ia.offset(i)], b[ib.offset(i)]);
}

template <CompareOp OP, class T>
__global__ void compare_scalar_kernel(int64_t n, const T* a, T b, uint8_t* y) {
  DLCRAFT_GRID_STRIDE(i, n) y[i] = compare_apply<OP, T>(a[i], b);
}

template <class T>
__global__ void where_kernel(StridedIndex ic, StridedIndex ia, StridedIndex ib, int64_t n, const uint8_t* cond,
                             const T* a, const T* b, T* y) {
  DLCRAFT_GRID_STRIDE(i, n) y[i] = cond[ic.offset(i)] ? a[ia.offset(i)] : b[ib.offset(i)];
}

template <class T>
void compare_launch(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const T* a, const T* b, uint8_t* y) {
  const int64_t n = ia.count();
  if (n == 0) return;
  with_compare_op(op, [&](auto tag) {
    launch("compare_cuda", compare_kernel<decltype(tag)::value, T>, grid_for(n), 256, ia, ib, n, a, b, y);
  });
}

template <class T>
void compare_scalar_launch(CompareOp op, int64_t n, const T* a, T b, uint8_t* y) {
  if (n == 0) return;
  with_compare_op(op, [&](auto tag) {
    launch("compare_scalar_cuda", compare_scalar_kernel<decltype(tag)::value, T>, grid_for(n), 256, n, a, b, y);
  });
}

template <class T>
void where_launch(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib, const uint8_t* cond,
                  const T* a, const T* b, T* y) {
  const int64_t n = ic.count();
  if (n == 0) return;
  launch("where_cuda", where_kernel<T>, grid_for(n), 256, ic, ia, ib, n, cond, a, b, y);
}

}  // namespace

void binary_cuda(BinaryOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                 const float* b, float* y) {
  const int64_t n = ia.count();
  if (n == 0) return;
  const bool flat = is_identity(ia) && is_identity(ib);
  with_binary_op(op, [&](auto tag) {
    constexpr BinaryOp OP = decltype(tag)::value;
    if (flat)
      launch("binary_cuda", binary_flat_kernel<OP>, grid_for(n), 256, n, a, b, y);
    else
      launch("binary_cuda", binary_kernel<OP>, grid_for(n), 256, ia, ib, n, a, b, y);
  });
}

void binary_scalar_cuda(BinaryOp op, bool scalar_first, int64_t n, const float* a, float b, float* y) {
  if (n == 0) return;
  with_binary_op(op, [&](auto tag) {
    constexpr BinaryOp OP = decltype(tag)::value;
    if (scalar_first)
      launch("binary_scalar_cuda", binary_scalar_kernel<OP, true>, grid_for(n), 256, n, a, b, y);
    else
      launch("binary_scalar_cuda", binary_scalar_kernel<OP, false>, grid_for(n), 256, n, a, b, y);
  });
}

void compare_cuda(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                  const float* b, uint8_t* y) {
  compare_launch(op, ia, ib, a, b, y);
}
void compare_cuda(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const int64_t* a,
                  const int64_t* b, uint8_t* y) {
  compare_launch(op, ia, ib, a, b, y);
}
void compare_scalar_cuda(CompareOp op, int64_t n, const float* a, float b, uint8_t* y) {
  compare_scalar_launch(op, n, a, b, y);
}
void compare_scalar_cuda(CompareOp op, int64_t n, const int64_t* a, int64_t b, uint8_t* y) {
  compare_scalar_launch(op, n, a, b, y);
}
void where_cuda(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
                const uint8_t* cond, const float* a, const float* b, float* y) {
  where_launch(ic, ia, ib, cond, a, b, y);
}
void where_cuda(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
                const uint8_t* cond, const int64_t* a, const int64_t* b, int64_t* y) {
  where_launch(ic, ia, ib, cond, a, b, y);
}

}  // namespace dlcraft
