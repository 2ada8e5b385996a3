// NCCL on the CPU (kernels/cuda/emu/nccl.h): a communicator is MPI_COMM_WORLD (which
// distributed::init() has started) or, with one rank, nothing at all. The buffers are the
// emulated device memory, which is host memory, so MPI reads and writes them directly.
#include <nccl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifdef DLCRAFT_WITH_MPI
#include <mpi.h>
#endif

struct ncclComm {
  int rank = 0;
  int nranks = 1;
};

namespace {

thread_local std::string t_last_error;

ncclResult_t fail(ncclResult_t code, const std::string& why) {
  t_last_error = "emulated NCCL: " + why;
  return code;
}

size_t type_size(ncclDataType_t type) { return type == ncclFloat32 ? sizeof(float) : 1; }

bool known_type(ncclDataType_t type) { return type == ncclFloat32 || type == ncclChar; }

#ifdef DLCRAFT_WITH_MPI
bool mpi_running() {
  int started = 0, finalized = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&finalized);
  return started && !finalized;
}

// MPI counts are int: longer buffers go in pieces.
constexpr size_t kChunk = size_t(1) << 30;
#endif

}  // namespace

ncclResult_t ncclGetVersion(int* version) {
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
    case ncclSystemError: return "unhandled system error (run with NCCL_DEBUG=INFO for details)";
    case ncclInternalError: return "internal error - please report this issue to the NCCL developers";
    case ncclInvalidArgument: return "invalid argument (run with NCCL_DEBUG=WARN for details)";
    case ncclInvalidUsage: return "invalid usage (run with NCCL_DEBUG=WARN for details)";
    case ncclRemoteError: return "remote process exited or there was a network error";
  }
  return "unknown result code";
}

const char* ncclGetLastError(ncclComm_t) { return t_last_error.c_str(); }

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  // Random bytes, as NCCL's id is (it holds rank 0's address and a random magic number).
  std::memset(id->internal, 0, sizeof id->internal);
  std::random_device rd;
  std::snprintf(id->internal, sizeof id->internal, "dlcraft-emu-nccl %08x%08x", rd(), rd());
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (nranks < 1 || rank < 0 || rank >= nranks)
    return fail(ncclInvalidArgument, "rank " + std::to_string(rank) + " of " + std::to_string(nranks));
  if (std::strncmp(id.internal, "dlcraft-emu-nccl ", 17) != 0)
    return fail(ncclInvalidUsage, "the unique id does not come from ncclGetUniqueId");
  if (nranks > 1) {
#ifdef DLCRAFT_WITH_MPI
    if (!mpi_running()) return fail(ncclSystemError, "MPI is not running (distributed::init() starts it)");
    int mpi_rank = 0, mpi_size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    if (mpi_rank != rank || mpi_size != nranks)
      return fail(ncclInvalidUsage, "rank " + std::to_string(rank) + " of " + std::to_string(nranks) +
                                        ", but MPI has rank " + std::to_string(mpi_rank) + " of " +
                                        std::to_string(mpi_size));
    // Real NCCL would hang or fail to connect when a rank holds another id: every rank must
    // have rank 0's, so check that here (this is what the id's broadcast is for).
    ncclUniqueId root = id;
    MPI_Bcast(root.internal, NCCL_UNIQUE_ID_BYTES, MPI_CHAR, 0, MPI_COMM_WORLD);
    int same = std::memcmp(root.internal, id.internal, NCCL_UNIQUE_ID_BYTES) == 0, all_same = 0;
    MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_same) return fail(ncclInvalidUsage, "the ranks were given different unique ids");
#else
    return fail(ncclSystemError, "built without MPI: one rank only, asked for " + std::to_string(nranks));
#endif
  }
  *comm = new ncclComm{rank, nranks};
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommCount(ncclComm_t comm, int* count) {
  if (!comm) return fail(ncclInvalidArgument, "null communicator");
  *count = comm->nranks;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(ncclComm_t comm, int* rank) {
  if (!comm) return fail(ncclInvalidArgument, "null communicator");
  *rank = comm->rank;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* send, void* recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t) {
  if (!comm) return fail(ncclInvalidArgument, "null communicator");
  if (type != ncclFloat32) return fail(ncclInvalidArgument, "ncclAllReduce: only float32 is emulated");
  if (op != ncclSum && op != ncclAvg) return fail(ncclInvalidArgument, "ncclAllReduce: only sum and avg");
  if (count > 0 && (!send || !recv)) return fail(ncclInvalidArgument, "ncclAllReduce: null buffer");
  if (send != recv && count > 0) std::memmove(recv, send, count * sizeof(float));
  if (comm->nranks == 1) return ncclSuccess;
#ifdef DLCRAFT_WITH_MPI
  float* p = static_cast<float*>(recv);
  for (size_t done = 0; done < count; done += kChunk) {
    const int n = int(std::min(kChunk, count - done));
    if (MPI_Allreduce(MPI_IN_PLACE, p + done, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
      return fail(ncclSystemError, "MPI_Allreduce failed");
  }
  // NCCL's avg: the sum divided by the number of ranks.
  if (op == ncclAvg)
    for (size_t i = 0; i < count; ++i) p[i] /= float(comm->nranks);
#endif
  return ncclSuccess;
}

ncclResult_t ncclBroadcast(const void* send, void* recv, size_t count, ncclDataType_t type, int root,
                           ncclComm_t comm, cudaStream_t) {
  if (!comm) return fail(ncclInvalidArgument, "null communicator");
  if (!known_type(type)) return fail(ncclInvalidArgument, "ncclBroadcast: only float32 and char are emulated");
  if (root < 0 || root >= comm->nranks)
    return fail(ncclInvalidArgument, "ncclBroadcast: root " + std::to_string(root) + " is not a rank");
  const size_t bytes = count * type_size(type);
  if (bytes > 0 && (!recv || (comm->rank == root && !send)))
    return fail(ncclInvalidArgument, "ncclBroadcast: null buffer");
  if (comm->rank == root && send != recv && bytes > 0) std::memmove(recv, send, bytes);
  if (comm->nranks == 1) return ncclSuccess;
#ifdef DLCRAFT_WITH_MPI
  char* p = static_cast<char*>(recv);
  for (size_t done = 0; done < bytes; done += kChunk) {
    const int n = int(std::min(kChunk, bytes - done));
    if (MPI_Bcast(p + done, n, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
      return fail(ncclSystemError, "MPI_Bcast failed");
  }
#endif
  return ncclSuccess;
}
