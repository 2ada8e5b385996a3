// Broadcasting binary ops, comparisons and where on the CPU: y[i] = a[ia.offset(i)] op
// b[ib.offset(i)], where ia/ib read each operand as the output's shape with stride 0 along its
// broadcast dimensions (kernels/shapes.hpp, core/broadcast.hpp). The output is walked row by
// row: one offset() per row of the last dimension, then a plain strided inner loop, so the
// index arithmetic costs once per row rather than once per element. Same shapes take a flat
// loop. The formulas are in kernels/elementwise_ops.hpp. docs/elementwise.md.
#include "kernels/cpu/kernels_cpu.hpp"
#include "kernels/elementwise_ops.hpp"

namespace dlcraft {
namespace {

// The last dimension's size and an operand's stride along it (a 0-d output is one row of 1).
inline int64_t row_length(const StridedIndex& ix) { return ix.rank ? ix.sizes[ix.rank - 1] : 1; }
inline int64_t row_stride(const StridedIndex& ix) { return ix.rank ? ix.strides[ix.rank - 1] : 0; }

// y[i] = f(a[.], b[.]) over the output of ia's shape, both operands read through their index.
template <class A, class B, class Y, class F>
void broadcast_loop(const StridedIndex& ia, const StridedIndex& ib, const A* a, const B* b, Y* y, F f) {
  const int64_t n = ia.count();
  if (n == 0) return;
  if (is_identity(ia) && is_identity(ib)) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
    return;
  }
  const int64_t len = row_length(ia), rows = n / len;
  const int64_t sa = row_stride(ia), sb = row_stride(ib);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const A* pa = a + ia.offset(r * len);
    const B* pb = b + ib.offset(r * len);
    Y* py = y + r * len;
    for (int64_t j = 0; j < len; ++j) py[j] = f(pa[j * sa], pb[j * sb]);
  }
}

template <class T>
void compare_impl(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const T* a, const T* b,
                  uint8_t* y) {
  with_compare_op(op, [&](auto tag) {
    constexpr CompareOp OP = decltype(tag)::value;
    broadcast_loop(ia, ib, a, b, y, [](T u, T v) { return compare_apply<OP, T>(u, v); });
  });
}

template <class T>
void compare_scalar_impl(CompareOp op, int64_t n_in, const T* a_in, T b_in, uint8_t* y_in) {
  with_compare_op(op, [=](auto tag) {
    constexpr CompareOp OP = decltype(tag)::value;
    const T b = b_in;  // locals, as in binary_scalar_cpu
    const T* const a = a_in;
    uint8_t* const y = y_in;
    const int64_t n = n_in;
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) y[i] = compare_apply<OP, T>(a[i], b);
  });
}

template <class T>
void where_impl(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
                const uint8_t* cond, const T* a, const T* b, T* y) {
  const int64_t n = ic.count();
  if (n == 0) return;
  const int64_t len = row_length(ic), rows = n / len;
  const int64_t sc = row_stride(ic), sa = row_stride(ia), sb = row_stride(ib);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* pc = cond + ic.offset(r * len);
    const T* pa = a + ia.offset(r * len);
    const T* pb = b + ib.offset(r * len);
    T* py = y + r * len;
    for (int64_t j = 0; j < len; ++j) py[j] = pc[j * sc] ? pa[j * sa] : pb[j * sb];
  }
}

}  // namespace

void binary_cpu(BinaryOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                const float* b, float* y) {
  with_binary_op(op, [&](auto tag) {
    constexpr BinaryOp OP = decltype(tag)::value;
    broadcast_loop(ia, ib, a, b, y, [](float u, float v) { return binary_apply<OP>(u, v); });
  });
}

void binary_scalar_cpu(BinaryOp op, bool scalar_first, int64_t n_in, const float* a_in, float scalar,
                       float* y_in) {
  with_binary_op(op, [=](auto tag) {
    constexpr BinaryOp OP = decltype(tag)::value;
    // Locals, not the closure's captures: a store to y could alias a captured pointer or the
    // scalar, and the loop would reload them each element (a gather, 10x slower).
    const float b = scalar;
    const float* const a = a_in;
    float* const y = y_in;
    const int64_t n = n_in;
    if (scalar_first) {
#pragma omp parallel for simd schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) y[i] = binary_apply<OP>(b, a[i]);
    } else {
#pragma omp parallel for simd schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) y[i] = binary_apply<OP>(a[i], b);
    }
  });
}

void compare_cpu(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const float* a,
                 const float* b, uint8_t* y) {
  compare_impl(op, ia, ib, a, b, y);
}
void compare_cpu(CompareOp op, const StridedIndex& ia, const StridedIndex& ib, const int64_t* a,
                 const int64_t* b, uint8_t* y) {
  compare_impl(op, ia, ib, a, b, y);
}
void compare_scalar_cpu(CompareOp op, int64_t n, const float* a, float b, uint8_t* y) {
  compare_scalar_impl(op, n, a, b, y);
}
void compare_scalar_cpu(CompareOp op, int64_t n, const int64_t* a, int64_t b, uint8_t* y) {
  compare_scalar_impl(op, n, a, b, y);
}

void where_cpu(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
               const uint8_t* cond, const float* a, const float* b, float* y) {
  where_impl(ic, ia, ib, cond, a, b, y);
}
void where_cpu(const StridedIndex& ic, const StridedIndex& ia, const StridedIndex& ib,
               const uint8_t* cond, const int64_t* a, const int64_t* b, int64_t* y) {
  where_impl(ic, ia, ib, cond, a, b, y);
}

}  // namespace dlcraft
