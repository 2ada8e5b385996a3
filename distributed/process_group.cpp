// The process group (distributed/process_group.hpp) on MPI. Every MPI call is in this file
// (and only compiled with DLCRAFT_WITH_MPI); data_parallel.cpp builds on the functions here.
#include "distributed/process_group.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>

#include "core/autograd.hpp"
#include "distributed/nccl_comm.hpp"

#ifdef DLCRAFT_WITH_MPI
#include <mpi.h>
#endif

namespace dlcraft {
namespace distributed {

namespace {

struct State {
  bool initialized = false;
  LaunchInfo info;
};
State& state() {
  static State s;
  return s;
}
std::mutex init_mutex;

int parse_int(const char* name, const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > INT_MAX)
    throw ArgumentError(std::string("distributed: the launcher's variable ") + name + "=\"" + text +
                        "\" is not a non-negative number");
  return int(v);
}

#ifdef DLCRAFT_WITH_MPI
// MPI's error (its handler is MPI_ERRORS_RETURN) as a DistributedError naming the rank and call.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw DistributedError(rank_name() + ": " + call + " failed: " + std::string(text, size_t(len)));
}

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

// MPI counts are int: longer buffers go in pieces of 2^30 elements.
constexpr int64_t kChunk = int64_t(1) << 30;
#endif

// The tensor a collective works on (host or GPU), with the checks every one makes.
void check_tensor(const Tensor& t, const char* who, bool float_only) {
  if (!t.defined()) throw ArgumentError(rank_name() + ": " + who + ": the tensor is undefined");
  if (float_only && t.dtype() != DType::Float32)
    throw DTypeError(rank_name() + ": " + who + ": tensor " + t.str() + " is " + to_string(t.dtype()) +
                     "; it takes float32");
}

// A CUDA tensor without NCCL: down to host memory, `op` there over MPI, and back up.
template <typename Op>
void through_host(Tensor& t, Op op) {
  Tensor host = t.to(Device::cpu());
  op(host);
  NoGradGuard no_grad;
  t.copy_(host);
}

}  // namespace

LaunchInfo launch_from_environment(const std::function<const char*(const char*)>& getenv) {
  struct Scheme {
    const char *launcher, *rank, *size, *local_rank;
  };
  static const Scheme schemes[] = {
      {"Open MPI", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"PMI", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
      {"Slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
  };
  for (const Scheme& s : schemes) {
    const char* rank = getenv(s.rank);
    const char* size = getenv(s.size);
    if (!rank || !size) continue;
    LaunchInfo info;
    info.launcher = s.launcher;
    info.rank = parse_int(s.rank, rank);
    info.world_size = parse_int(s.size, size);
    if (info.world_size < 1)
      throw ArgumentError(std::string("distributed: ") + s.size + "=" + size + ": the world size must be >= 1");
    if (info.rank >= info.world_size)
      throw ArgumentError(std::string("distributed: ") + s.rank + "=" + rank + " is outside the world of " +
                          s.size + "=" + size);
    const char* local = getenv(s.local_rank);
    info.local_rank = local ? parse_int(s.local_rank, local) : 0;
    return info;
  }
  return LaunchInfo{};
}

LaunchInfo launch_from_environment() {
  return launch_from_environment([](const char* name) -> const char* { return std::getenv(name); });
}

bool built_with_mpi() {
#ifdef DLCRAFT_WITH_MPI
  return true;
#else
  return false;
#endif
}

void init() {
  std::lock_guard<std::mutex> lock(init_mutex);
  State& s = state();
  if (s.initialized) return;
  LaunchInfo info = launch_from_environment();
  if (info.world_size > 1) {
#ifdef DLCRAFT_WITH_MPI
    int already = 0;
    MPI_Initialized(&already);
    if (!already) {
      // Only the thread that called init calls MPI (the loaders' threads never do).
      int provided = 0;
      MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
      std::atexit(finalize_at_exit);
    }
    // Errors come back as codes (check() above) instead of MPI's default abort without a word.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int mpi_rank = 0, mpi_size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    if (mpi_rank != info.rank || mpi_size != info.world_size)
      throw DistributedError("distributed: " + info.launcher + " says rank " + std::to_string(info.rank) +
                             " of " + std::to_string(info.world_size) + " but MPI says rank " +
                             std::to_string(mpi_rank) + " of " + std::to_string(mpi_size) +
                             " (launched by another MPI than the one dlcraft was built with?)");
#else
    throw DistributedError("distributed: the launcher (" + info.launcher + ") started " +
                           std::to_string(info.world_size) +
                           " processes, but dlcraft was built without MPI: install libopenmpi-dev "
                           "openmpi-bin and rebuild (docs/distributed.md), or run one process");
#endif
  }
  s.info = info;
  s.initialized = true;
}

bool initialized() { return state().initialized; }

int rank() {
  init();
  return state().info.rank;
}
int world_size() {
  init();
  return state().info.world_size;
}
int local_rank() {
  init();
  return state().info.local_rank;
}
bool is_main() { return rank() == 0; }

std::string rank_name() {
  // No init() here: the messages of a failed init use it too.
  const LaunchInfo& i = state().initialized ? state().info : LaunchInfo{};
  return "rank " + std::to_string(i.rank) + " of " + std::to_string(i.world_size);
}

void barrier() {
  if (world_size() == 1) return;
#ifdef DLCRAFT_WITH_MPI
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
#endif
}

void all_reduce_sum(Tensor& t) {
  init();
  check_tensor(t, "all_reduce", true);
  if (world_size() == 1) return;
  if (t.device().is_cuda()) {
    if (nccl_enabled())
      nccl_all_reduce(t, NcclOp::kSum);
    else
      through_host(t, [](Tensor& h) { all_reduce_sum(h); });
    return;
  }
#ifdef DLCRAFT_WITH_MPI
  float* p = t.data();
  for (int64_t done = 0, n = t.numel(); done < n; done += kChunk)
    check(MPI_Allreduce(MPI_IN_PLACE, p + done, int(std::min(kChunk, n - done)), MPI_FLOAT, MPI_SUM,
                        MPI_COMM_WORLD),
          "MPI_Allreduce");
  t.bump_version();
#endif
}

void all_reduce_mean(Tensor& t) {
  init();
  check_tensor(t, "all_reduce", true);
  if (world_size() == 1) return;
  if (t.device().is_cuda()) {
    if (nccl_enabled())
      nccl_all_reduce(t, NcclOp::kAvg);
    else
      through_host(t, [](Tensor& h) { all_reduce_mean(h); });
    return;
  }
  all_reduce_sum(t);
  // A multiply by 1/N, as DDP divides the gradients by the world size.
  const float scale = 1.0f / float(world_size());
  float* p = t.data();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] *= scale;
}

void all_reduce_sum(std::vector<double>& values) {
  if (world_size() == 1 || values.empty()) return;
#ifdef DLCRAFT_WITH_MPI
  check(MPI_Allreduce(MPI_IN_PLACE, values.data(), int(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
        "MPI_Allreduce");
#endif
}

int64_t all_reduce_min(int64_t value) {
  if (world_size() == 1) return value;
#ifdef DLCRAFT_WITH_MPI
  long long v = value;
  check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD), "MPI_Allreduce");
  value = v;
#endif
  return value;
}

void broadcast(Tensor& t, int root) {
  init();
  check_tensor(t, "broadcast", false);
  if (root < 0 || root >= world_size())
    throw ArgumentError(rank_name() + ": broadcast: root " + std::to_string(root) + " is not a rank");
  if (world_size() == 1) return;
  if (t.device().is_cuda()) {
    if (nccl_enabled())
      nccl_broadcast(t, root);
    else
      through_host(t, [root](Tensor& h) { broadcast(h, root); });
    return;
  }
#ifdef DLCRAFT_WITH_MPI
  char* p = static_cast<char*>(t.raw_data());
  const int64_t bytes = t.numel() * int64_t(element_size(t.dtype()));
  for (int64_t done = 0; done < bytes; done += kChunk)
    check(MPI_Bcast(p + done, int(std::min(kChunk, bytes - done)), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  t.bump_version();
#endif
}

void broadcast(std::string& s, int root) {
  if (root < 0 || root >= world_size())
    throw ArgumentError(rank_name() + ": broadcast: root " + std::to_string(root) + " is not a rank");
  if (world_size() == 1) return;
#ifdef DLCRAFT_WITH_MPI
  long long n = (long long)s.size();
  check(MPI_Bcast(&n, 1, MPI_LONG_LONG, root, MPI_COMM_WORLD), "MPI_Bcast");
  s.resize(size_t(n));
  for (long long done = 0; done < n; done += kChunk)
    check(MPI_Bcast(&s[size_t(done)], int(std::min<long long>(kChunk, n - done)), MPI_CHAR, root, MPI_COMM_WORLD),
          "MPI_Bcast");
#endif
}

void abort_job(const std::string& message, int exit_code) {
  std::fflush(stdout);
  std::fprintf(stderr, "dlcraft: %s: %s\n", rank_name().c_str(), message.c_str());
  std::fflush(stderr);
#ifdef DLCRAFT_WITH_MPI
  // Also when the program, not init(), started MPI.
  int started = 0, finalized = 0;
  MPI_Initialized(&started);
  MPI_Finalized(&finalized);
  // mpirun ends every other process of the job and exits with this code.
  if (started && !finalized) MPI_Abort(MPI_COMM_WORLD, exit_code);
#endif
  std::_Exit(exit_code);
}

int run_guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    abort_job(e.what());
  } catch (...) {
    abort_job("unknown exception");
  }
}

}  // namespace distributed
}  // namespace dlcraft
