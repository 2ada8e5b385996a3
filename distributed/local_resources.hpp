// What one process of a data-parallel job may use on its machine: its GPU and its share of the
// CPU cores. The launcher says how many processes share the machine (docs/distributed.md).
#pragma once
#include <functional>

namespace dlcraft {
namespace distributed {

// The processes of the job on this machine: OMPI_COMM_WORLD_LOCAL_SIZE (Open MPI),
// MPI_LOCALNRANKS (MPICH), SLURM_NTASKS_PER_NODE (srun, when a plain number), else 1.
// `getenv` is std::getenv except in tests.
int local_process_count(const std::function<const char*(const char*)>& getenv);
int local_process_count();

// One GPU per process: with several processes on this machine, shows this process only the GPU
// of its local rank (CUDA_VISIBLE_DEVICES = local rank), which dlcraft then calls cuda:0. Must
// run before anything touches CUDA. Leaves a CUDA_VISIBLE_DEVICES the launcher set (Slurm's
// --gpus-per-task sets one per task) and does nothing for a single process.
void use_local_gpu();

}  // namespace distributed
}  // namespace dlcraft
