// NCCL, the collectives of CUDA tensors (docs/distributed.md, "CUDA tensors: NCCL"). One
// communicator per process, on the GPU this process uses, made at the first collective: rank 0
// asks NCCL for a unique id and sends it to the others over MPI (broadcast(std::string&)); with
// one process no MPI is needed. process_group.cpp sends CUDA tensors here when
// built_with_nccl(); the gradient bucketer uses the second stream.
//
// Two streams: kMain is dlcraft's one stream (every kernel runs there, kernels_cuda.hpp) and
// kComm is a second one for the collectives that overlap with backward. An event orders them:
// comm_waits_for_main() makes the comm stream wait for all work queued on the main stream so
// far; main_waits_for_comm() the other way round. No host thread waits in either.
#pragma once
#include <string>

#include "core/tensor.hpp"

namespace dlcraft {
namespace distributed {

// True when the library was built with NCCL (the real one, or the emulated one in the
// DLCRAFT_CUDA=EMU build). Without it, every function below throws DistributedError.
bool built_with_nccl();
// Whether CUDA tensors go over NCCL: built_with_nccl(), unless the environment has
// DLCRAFT_NO_NCCL=1, which sends them through host memory over MPI instead (the path of a build
// without NCCL; a way round a NCCL problem, and how CI tests that path). Read once.
bool nccl_enabled();
// "NCCL 2.28.9" (the library's version at run time), or "no NCCL".
std::string nccl_version();

enum class CudaStream { kMain, kComm };
enum class NcclOp { kSum, kAvg };  // avg: the sum divided by the number of ranks

// In place over all ranks, queued on `stream` (the call returns before the GPU is done, as
// kernels do). `t`: a defined float32 CUDA tensor (ArgumentError, DeviceError,
// DTypeError otherwise); the same number of elements on every rank. Errors of NCCL:
// DistributedError "rank R of N: ncclAllReduce: <ncclGetErrorString>".
// On kComm, call comm_waits_for_main() first when `t` was just written by a kernel, and
// main_waits_for_comm() before the main stream reads the result.
void nccl_all_reduce(Tensor& t, NcclOp op, CudaStream stream = CudaStream::kMain);
// Root's tensor into every rank's (any dtype: bytes), in place, queued on `stream`.
void nccl_broadcast(Tensor& t, int root, CudaStream stream = CudaStream::kMain);

// The event between the streams (see the top of this file).
void comm_waits_for_main();
void main_waits_for_comm();

}  // namespace distributed
}  // namespace dlcraft
