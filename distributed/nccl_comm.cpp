// The NCCL communicator and the two streams (distributed/nccl_comm.hpp). Every NCCL call is in
// this file, compiled with DLCRAFT_WITH_NCCL (cmake/nccl.cmake); without it the functions throw.
#include "distributed/nccl_comm.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "distributed/process_group.hpp"

#ifdef DLCRAFT_WITH_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#endif

namespace dlcraft {
#ifdef DLCRAFT_WITH_NCCL
cudaStream_t dlcraft_stream();  // kernels/cuda/runtime.cu: the stream every kernel runs on
#endif

namespace distributed {

namespace {

void check_cuda_tensor(const Tensor& t, const char* who, bool float_only) {
  if (!t.defined()) throw ArgumentError(rank_name() + ": " + who + ": the tensor is undefined");
  if (!t.device().is_cuda())
    throw DeviceError(rank_name() + ": " + who + ": tensor " + t.str() + " is not on the GPU");
  if (float_only && t.dtype() != DType::Float32)
    throw DTypeError(rank_name() + ": " + who + ": tensor " + t.str() + " is " + to_string(t.dtype()) +
                     "; it takes float32");
}

#ifdef DLCRAFT_WITH_NCCL

// NCCL's error as a DistributedError naming the rank, the call and, when NCCL says more, why.
void check(ncclResult_t code, const char* call, ncclComm_t comm = nullptr) {
  if (code == ncclSuccess) return;
  std::string why = ncclGetErrorString(code);
  const char* last = ncclGetLastError(comm);
  if (last && *last) why += " (" + std::string(last) + ")";
  throw DistributedError(rank_name() + ": " + call + " failed: " + why);
}

void check_cuda(cudaError_t code, const char* call) {
  if (code == cudaSuccess) return;
  cudaGetLastError();
  throw DistributedError(rank_name() + ": " + call + " failed: " + cudaGetErrorString(code));
}

// The process's communicator, the comm stream and the two events, made once.
struct Comm {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  cudaEvent_t main_done = nullptr, comm_done = nullptr;
};

Comm& comm() {
  static Comm c;
  static std::once_flag once;
  // call_once: a throw leaves it unset, so the next collective tries again (and throws again).
  std::call_once(once, [] {
    const int r = rank(), n = world_size();
    // Rank 0's id, as bytes in a string, to every rank (over MPI; nothing to send for one).
    std::string id_bytes(NCCL_UNIQUE_ID_BYTES, '\0');
    if (r == 0) {
      ncclUniqueId id;
      check(ncclGetUniqueId(&id), "ncclGetUniqueId");
      std::memcpy(&id_bytes[0], id.internal, NCCL_UNIQUE_ID_BYTES);
    }
    broadcast(id_bytes, 0);
    if (id_bytes.size() != NCCL_UNIQUE_ID_BYTES)
      throw DistributedError(rank_name() + ": the NCCL id from rank 0 has " + std::to_string(id_bytes.size()) +
                             " bytes, not " + std::to_string(NCCL_UNIQUE_ID_BYTES));
    ncclUniqueId id;
    std::memcpy(id.internal, id_bytes.data(), NCCL_UNIQUE_ID_BYTES);
    Comm made;
    // On the GPU this process uses (the current device: the one its stream and tensors are on).
    check(ncclCommInitRank(&made.comm, n, id, r), "ncclCommInitRank");
    check_cuda(cudaStreamCreateWithFlags(&made.stream, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    check_cuda(cudaEventCreateWithFlags(&made.main_done, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    check_cuda(cudaEventCreateWithFlags(&made.comm_done, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    // Never destroyed: NCCL's own threads and the CUDA context go away with the process, and a
    // destroy at exit could wait on a rank that has already gone.
    c = made;
  });
  return c;
}

cudaStream_t stream_of(CudaStream s) { return s == CudaStream::kComm ? comm().stream : dlcraft_stream(); }

#endif

#ifndef DLCRAFT_WITH_NCCL
[[noreturn]] void no_nccl(const char* who) {
  throw DistributedError(rank_name() + ": " + who + ": dlcraft was built without NCCL (docs/distributed.md)");
}
#endif

}  // namespace

bool built_with_nccl() {
#ifdef DLCRAFT_WITH_NCCL
  return true;
#else
  return false;
#endif
}

bool nccl_enabled() {
  static const bool enabled = [] {
    const char* off = std::getenv("DLCRAFT_NO_NCCL");
    return built_with_nccl() && !(off && *off && std::strcmp(off, "0") != 0);
  }();
  return enabled;
}

std::string nccl_version() {
#ifdef DLCRAFT_WITH_NCCL
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "NCCL (version unknown)";
  // NCCL >= 2.9: major * 10000 + minor * 100 + patch.
  return "NCCL " + std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
#else
  return "no NCCL";
#endif
}

void nccl_all_reduce(Tensor& t, NcclOp op, CudaStream stream) {
  check_cuda_tensor(t, "nccl_all_reduce", true);
#ifdef DLCRAFT_WITH_NCCL
  Comm& c = comm();
  void* p = t.raw_data();
  check(ncclAllReduce(p, p, size_t(t.numel()), ncclFloat32, op == NcclOp::kAvg ? ncclAvg : ncclSum, c.comm,
                      stream_of(stream)),
        "ncclAllReduce", c.comm);
  t.bump_version();
#else
  (void)op;
  (void)stream;
  no_nccl("nccl_all_reduce");
#endif
}

void nccl_broadcast(Tensor& t, int root, CudaStream stream) {
  check_cuda_tensor(t, "nccl_broadcast", false);
  if (root < 0 || root >= world_size())
    throw ArgumentError(rank_name() + ": nccl_broadcast: root " + std::to_string(root) + " is not a rank");
#ifdef DLCRAFT_WITH_NCCL
  Comm& c = comm();
  void* p = t.raw_data();
  check(ncclBroadcast(p, p, size_t(t.numel()) * element_size(t.dtype()), ncclChar, root, c.comm, stream_of(stream)),
        "ncclBroadcast", c.comm);
  t.bump_version();
#else
  (void)stream;
  no_nccl("nccl_broadcast");
#endif
}

void comm_waits_for_main() {
#ifdef DLCRAFT_WITH_NCCL
  Comm& c = comm();
  check_cuda(cudaEventRecord(c.main_done, dlcraft_stream()), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(c.stream, c.main_done, 0), "cudaStreamWaitEvent");
#else
  no_nccl("comm_waits_for_main");
#endif
}

void main_waits_for_comm() {
#ifdef DLCRAFT_WITH_NCCL
  Comm& c = comm();
  check_cuda(cudaEventRecord(c.comm_done, c.stream), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(dlcraft_stream(), c.comm_done, 0), "cudaStreamWaitEvent");
#else
  no_nccl("main_waits_for_comm");
#endif
}

}  // namespace distributed
}  // namespace dlcraft
