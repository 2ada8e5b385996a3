#include "distributed/local_resources.hpp"

#include <cstdlib>
#include <string>

#include "distributed/process_group.hpp"

namespace dlcraft {
namespace distributed {

namespace {
// A positive whole number, or 0 for anything else (unset, empty, "2(x3)" from Slurm).
int positive_int(const char* text) {
  if (!text || !*text) return 0;
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  return (*end == '\0' && v > 0 && v < 1 << 20) ? int(v) : 0;
}
}  // namespace

int local_process_count(const std::function<const char*(const char*)>& getenv) {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"})
    if (const int n = positive_int(getenv(name))) return n;
  return 1;
}

int local_process_count() {
  return local_process_count([](const char* name) { return std::getenv(name); });
}

void use_local_gpu() {
  if (world_size() <= 1 || std::getenv("CUDA_VISIBLE_DEVICES")) return;
  setenv("CUDA_VISIBLE_DEVICES", std::to_string(local_rank()).c_str(), 1);
}

}  // namespace distributed
}  // namespace dlcraft
