#include "kernels/cuda/emu/worker_pool.hpp"

namespace dlcraft {
namespace emu {

WorkerPool::WorkerPool(int helpers) {
  for (int i = 0; i < helpers; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkerPool::run(const std::function<void()>& job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &job;
    ++generation_;
  }
  wake_.notify_all();
  job();
  std::unique_lock<std::mutex> lock(mutex_);
  job_ = nullptr;  // a helper waking from now on finds nothing left to do
  done_.wait(lock, [this] { return busy_ == 0; });
}

void WorkerPool::work() {
  unsigned long seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || (job_ && generation_ != seen); });
    if (stop_) return;
    seen = generation_;
    const std::function<void()>* job = job_;
    ++busy_;
    lock.unlock();
    (*job)();
    lock.lock();
    if (--busy_ == 0) done_.notify_all();
  }
}

}  // namespace emu
}  // namespace dlcraft
