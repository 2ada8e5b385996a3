// The processes of a data-parallel job (docs/distributed.md): who am I (rank), how many are we
// (world size), which GPU is mine (local rank), and the collective operations that keep the
// model replicas equal: all-reduce (sum or mean) and broadcast. One process per replica,
// started by a launcher: `mpirun -np 4 prog`, `srun -n 4 prog`, or a plain `prog` (one process).
//
// The tensor's device picks the backend:
//   CPU tensors   MPI (Open MPI, when the build found it: built_with_mpi())
//   CUDA tensors  NCCL on the GPU when the build has it (nccl_enabled(),
//                 distributed/nccl_comm.hpp); otherwise through host memory over MPI (copy
//                 down, reduce, copy up), so a CUDA build without NCCL still trains on N ranks.
// Every rank must pass its tensor on the same kind of device (one rank on NCCL and another on
// MPI would wait for each other forever).
// Without MPI everything works for one process, and init() refuses a launch of more with a
// DistributedError that says so (NCCL needs MPI too, to hand its id to the other ranks).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/tensor.hpp"

namespace dlcraft {
namespace distributed {

// A collective that failed or cannot run; the message starts with "rank R of N:".
class DistributedError : public Error { using Error::Error; };

// Where this process stands, as the launcher's environment says.
struct LaunchInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;    // the index among the processes on this machine (picks the GPU)
  std::string launcher;  // "Open MPI", "PMI", "Slurm", or "" for a plain single process
};

// Reads the launcher's variables, first set wins: OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK (Open
// MPI's mpirun), PMI_RANK/PMI_SIZE (MPICH, Intel MPI; local rank from MPI_LOCALRANKID),
// SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID (srun). None: one process. ArgumentError naming the
// variable for a value that is not a number, a size < 1 or a rank outside [0, size).
// `getenv` is std::getenv except in tests.
LaunchInfo launch_from_environment(const std::function<const char*(const char*)>& getenv);
LaunchInfo launch_from_environment();

bool built_with_mpi();

// Joins the job: with more than one process, initialises MPI (once; MPI_Finalize runs at exit).
// Called by every function below, so calling it first is optional; a second call does nothing.
// DistributedError when the launcher asks for more than one process and the build has no MPI,
// or when MPI's rank and size disagree with the launcher's.
void init();
bool initialized();

int rank();
int world_size();
int local_rank();
bool is_main();  // rank 0: the process that logs and writes checkpoints
// "rank R of N" for messages.
std::string rank_name();

// Waits until every process has reached it.
void barrier();

// In place, over all processes. The tensors must be defined float32, in host memory or on the
// GPU, with the same number of elements on every rank (DTypeError, ArgumentError;
// ranks that disagree on the size get a DistributedError or MPI's error). Mean divides the sum
// by world_size().
void all_reduce_sum(Tensor& t);
void all_reduce_mean(Tensor& t);
// Sums of a few numbers (evaluation: correct answers, loss sums, counts), in place.
void all_reduce_sum(std::vector<double>& values);
// The smallest value over all processes (agreement: 0 if any rank says no).
int64_t all_reduce_min(int64_t value);
// Copies root's tensor into the others' (any dtype, host or GPU, same size on every rank).
void broadcast(Tensor& t, int root = 0);
// Copies root's string into the others' (any length).
void broadcast(std::string& s, int root = 0);

// For a fatal error in one process of a job: prints "dlcraft: rank R of N: <message>" to stderr
// and ends the whole job with `exit_code` (MPI_Abort), so the other ranks, which may be waiting
// in a collective for this one, do not hang. With one process: prints and exits.
[[noreturn]] void abort_job(const std::string& message, int exit_code = 1);

// Runs `body` (a program's main) and returns its exit code; an exception that escapes it goes
// to abort_job with its what(). The apps wrap their main in it:
//   int main(int argc, char** argv) { return distributed::run_guarded([&] { ...; return 0; }); }
int run_guarded(const std::function<int()>& body);

}  // namespace distributed
}  // namespace dlcraft
