// The OS threads that run a grid's blocks in parallel (DLCRAFT_CUDA=EMU). Idle workers sleep
// (no spinning), and the blocks are handed out one by one, so a worker that the machine is
// slow to wake up delays nothing: the others, the launching thread too, take its blocks.
#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dlcraft {
namespace emu {

class WorkerPool {
 public:
  explicit WorkerPool(int helpers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `job` on this thread and on every helper that wakes up in time, and returns when all
  // of them are done. `job` takes its share of the work itself (from an atomic counter).
  void run(const std::function<void()>& job);
  int helpers() const { return int(threads_.size()); }

 private:
  void work();

  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void()>* job_ = nullptr;  // null: nothing to join
  unsigned long generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
};

}  // namespace emu
}  // namespace dlcraft
