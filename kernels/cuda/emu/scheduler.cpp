// Runs a kernel's grid on the CPU (DLCRAFT_CUDA=EMU). See docs/cuda.md, "Running the kernels
// without a GPU".
//   Block 0 runs first, each CUDA thread a fiber with its own small stack (Boost.Context):
//   a thread runs until it reaches __syncthreads or a shuffle, then the next one runs. When no
//   thread can go on, the waiting barrier (or warp) is checked and released.
//   If block 0 used no barrier, no shuffle and no __shared__ memory, the kernel is "plain":
//   the other blocks run as simple loops over their threads. Otherwise every block runs as
//   fibers, its __shared__ memory poisoned first. Either way the blocks are spread over
//   worker threads (worker_pool.hpp).
// What it checks: launch limits, every barrier reached by all live threads at the same line,
// every shuffle's lanes present; missing barriers show as NaN read from poisoned __shared__
// memory, or as results that change with DLCRAFT_EMU_ORDER.
#include "kernels/cuda/emu/scheduler.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/context/fiber.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "kernels/cuda/emu/asan_fibers.hpp"
#include "kernels/cuda/emu/shared_memory.hpp"
#include "kernels/cuda/emu/worker_pool.hpp"

namespace dlcraft {
namespace emu {

thread_local const ThreadCoords* current = nullptr;

namespace ctx = boost::context;

namespace {

constexpr size_t kStackBytes = 64 << 10;  // per CUDA thread; a guard page below catches overflow
constexpr unsigned kMaxThreads = 1024, kMaxBlockZ = 64, kMaxGridYZ = 65535;
// Grids worth spreading over workers: plain kernels by their CUDA threads, others by blocks.
constexpr int64_t kParallelThreads = 1 << 16, kParallelBlocks = 8;

// ---------------------------------------------------------------- options

Options read_options() {
  Options o;
  if (const char* s = std::getenv("DLCRAFT_EMU_ORDER")) {
    const std::string v = s;
    if (v == "reverse") o.order = ThreadOrder::Reverse;
    if (v.rfind("random", 0) == 0) {
      o.order = ThreadOrder::Random;
      if (v.size() > 7) o.seed = std::strtoull(v.c_str() + 7, nullptr, 10);
    }
  }
  if (const char* s = std::getenv("DLCRAFT_EMU_WORKERS")) o.workers = std::atoi(s);
  return o;
}

// ---------------------------------------------------------------- messages

std::string str(Dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

// "kernels/cuda/conv2d.cu:73 in conv_bias_grad_kernel": the path from the project's folders on.
std::string str(Site s) {
  std::string file = s.file;
  for (const char* top : {"/kernels/", "/tests/"}) {
    const size_t at = file.rfind(top);
    if (at != std::string::npos) {
      file = file.substr(at + 1);
      break;
    }
  }
  return file + ":" + std::to_string(s.line) + " in " + s.function;
}

bool same_site(Site a, Site b) { return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0); }

// ---------------------------------------------------------------- stacks

// Fiber stacks, reused from block to block: mmap'd once, with a PROT_NONE page below.
class StackPool {
 public:
  ~StackPool() {
    for (char* base : free_) munmap(base, kStackBytes + page());
  }
  char* take() {
    if (!free_.empty()) {
      char* base = free_.back();
      free_.pop_back();
      return base;
    }
    void* p = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    mprotect(p, page(), PROT_NONE);
    return static_cast<char*>(p);
  }
  void give_back(char* base) {
    asan_unpoison(base + page(), kStackBytes);  // a fiber unwound mid-frame leaves shadow behind
    free_.push_back(base);
  }
  static size_t page() {
    static const size_t bytes = size_t(sysconf(_SC_PAGESIZE));
    return bytes;
  }

 private:
  std::vector<char*> free_;
};

thread_local StackPool t_stacks;

// ---------------------------------------------------------------- one block as fibers

enum class State { Runnable, AtBarrier, AtShuffle, Exited };

// Thrown out of __syncthreads or a shuffle in the threads of a block that failed, so that each
// unwinds its own stack (Boost's forced unwind would do it too, unseen by AddressSanitizer).
struct GiveUp : std::exception {};

struct Thread {
  ThreadCoords coords;
  int linear = 0;  // x + y*bx + z*bx*by
  State state = State::Runnable;
  Site site{};          // where it waits
  int barriers = 0;     // __syncthreads passed
  unsigned mask = 0;    // the shuffle it waits in
  int src_lane = 0;
  uint64_t value = 0, result = 0;
  bool started = false;  // has run; stopping it then means unwinding its stack
  bool give_up = false;  // the block failed: leave the barrier by throwing GiveUp
  ctx::fiber fiber;      // the CUDA thread
  ctx::fiber scheduler;  // where it returns to when it waits
  FiberStack stack;      // for AddressSanitizer
};

// Boost.Context's stack allocator interface, on the pool.
struct PooledStack {
  Thread* thread;
  ctx::stack_context allocate() {
    char* base = t_stacks.take();
    ctx::stack_context sc;
    sc.size = kStackBytes;
    sc.sp = base + StackPool::page() + kStackBytes;  // stacks grow down from here
    thread->stack = FiberStack{base + StackPool::page(), kStackBytes};
    return sc;
  }
  void deallocate(ctx::stack_context& sc) {
    t_stacks.give_back(static_cast<char*>(sc.sp) - kStackBytes - StackPool::page());
  }
};

thread_local Thread* t_running = nullptr;  // the fiber now running; null in a plain loop
thread_local FiberStack t_scheduler_stack;

struct Kernel {
  Dim3 grid, block;
  const std::function<void()>* body;
  int threads;
};

Dim3 unflatten(int64_t i, Dim3 d) {
  return Dim3{unsigned(i % d.x), unsigned(i / d.x % d.y), unsigned(i / (int64_t(d.x) * d.y))};
}

// The order in which the threads of a block take their turns (DLCRAFT_EMU_ORDER).
void order_threads(std::vector<int>& order, int n, int64_t block, int round) {
  order.resize(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  const Options& o = options();
  if (o.order == ThreadOrder::Reverse) std::reverse(order.begin(), order.end());
  if (o.order == ThreadOrder::Random) {
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + uint64_t(block) * 1000003u + uint64_t(round));
    std::shuffle(order.begin(), order.end(), rng);
  }
}

class FiberBlock {
 public:
  FiberBlock(const Kernel& k, int64_t block_linear) : k_(k), block_(block_linear) {}

  // Runs the block to the end; "" or what went wrong. *switched: a barrier or shuffle was met.
  std::string run(bool* switched) {
    threads_.resize(k_.threads);
    const Dim3 block_idx = unflatten(block_, k_.grid);
    for (int i = 0; i < k_.threads; ++i) {
      Thread& t = threads_[i];
      t.coords = ThreadCoords{unflatten(i, k_.block), block_idx, k_.block, k_.grid};
      t.linear = i;
      t.state = State::Runnable;
      t.barriers = 0;
      t.started = t.give_up = false;
      t.fiber = ctx::fiber(std::allocator_arg, PooledStack{&t}, [this, &t](ctx::fiber&& back) { return body(t, std::move(back)); });
    }
    std::vector<int> order;
    for (int round = 0;; ++round) {
      order_threads(order, k_.threads, block_, round);
      for (int i : order)
        if (threads_[i].state == State::Runnable) resume(threads_[i]);
      if (!error_.empty()) return abandon();
      bool all_done = true;
      for (const Thread& t : threads_) all_done &= t.state == State::Exited;
      if (all_done) return "";
      *switched = true;
      std::string what = release_shuffles();
      if (what.empty() && !any_runnable()) what = release_barrier();
      if (!what.empty()) {
        error_ = what;
        return abandon();
      }
    }
  }

 private:
  ctx::fiber body(Thread& t, ctx::fiber&& back) {
    asan_finish_switch(nullptr, &t_scheduler_stack);
    t.scheduler = std::move(back);
    t.started = true;
    try {
      (*k_.body)();
    } catch (const GiveUp&) {
    } catch (const std::exception& e) {  // Boost's forced unwind is no std::exception: it passes
      error_ = "thread " + str(t.coords.thread_idx) + " threw: " + e.what();
    }
    t.state = State::Exited;
    asan_start_switch(nullptr, t_scheduler_stack);  // this stack is done
    return std::move(t.scheduler);
  }

  void resume(Thread& t) {
    current = &t.coords;
    t_running = &t;
    void* fake = nullptr;
    asan_start_switch(&fake, t.stack);
    t.fiber = std::move(t.fiber).resume();
    asan_finish_switch(fake, nullptr);
    t_running = nullptr;
    current = nullptr;
  }

  bool any_runnable() const {
    for (const Thread& t : threads_)
      if (t.state == State::Runnable) return true;
    return false;
  }

  std::string where() const { return "block " + str(unflatten(block_, k_.grid)); }

  std::string thread_name(const Thread& t) const {
    return k_.block.y == 1 && k_.block.z == 1 ? "thread " + std::to_string(t.linear) : "thread " + str(t.coords.thread_idx);
  }

  std::string doing(const Thread& t) const {
    switch (t.state) {
      case State::Exited: return "has returned";
      case State::AtBarrier: return "waits at __syncthreads() at " + str(t.site);
      case State::AtShuffle: return "waits at a shuffle at " + str(t.site);
      case State::Runnable: break;
    }
    return "runs";
  }

  // Every warp whose lanes wait at a shuffle: all lanes of the mask must be there, at the same
  // line, each reading a lane of the mask. Then every lane gets its value.
  std::string release_shuffles() {
    for (int w = 0; w * 32 < k_.threads; ++w) {
      Thread* first = nullptr;
      for (int l = 0; l < 32 && w * 32 + l < k_.threads && !first; ++l)
        if (threads_[w * 32 + l].state == State::AtShuffle) first = &threads_[w * 32 + l];
      if (!first) continue;
      const std::string head = "shuffle at " + str(first->site) + " (" + where() + ", warp " + std::to_string(w) + ", mask 0x";
      char mask_hex[16];
      std::snprintf(mask_hex, sizeof mask_hex, "%08x", first->mask);
      const std::string intro = head + mask_hex + "): ";
      for (int l = 0; l < 32; ++l) {
        const bool in_mask = (first->mask >> l) & 1u;
        const int i = w * 32 + l;
        if (i >= k_.threads) {
          if (in_mask) return intro + "lane " + std::to_string(l) + " is in the mask but the block has only " + std::to_string(k_.threads) + " threads (an inactive lane)";
          continue;
        }
        const Thread& t = threads_[i];
        if (in_mask && t.state != State::AtShuffle)
          return intro + "lane " + std::to_string(l) + " (" + thread_name(t) + ") " + doing(t) + " (an inactive lane)";
        if (t.state == State::AtShuffle && (!same_site(t.site, first->site) || t.mask != first->mask))
          return intro + "lane " + std::to_string(l) + " waits at another shuffle, at " + str(t.site) + " with another mask";
        if (in_mask && !((first->mask >> t.src_lane) & 1u))
          return intro + "lane " + std::to_string(l) + " reads lane " + std::to_string(t.src_lane) + ", which is not in the mask";
      }
      for (int l = 0; l < 32 && w * 32 + l < k_.threads; ++l) {
        Thread& t = threads_[w * 32 + l];
        if (t.state != State::AtShuffle) continue;
        t.result = threads_[w * 32 + t.src_lane].value;
        t.state = State::Runnable;
      }
    }
    return "";
  }

  // Every live thread waits at a __syncthreads: the same one, and no thread that passed an
  // earlier barrier has returned instead (a barrier inside a condition some threads skip).
  std::string release_barrier() {
    const Thread* first = nullptr;
    for (const Thread& t : threads_)
      if (t.state == State::AtBarrier) {
        first = &t;
        break;
      }
    if (!first) return "no thread can go on (" + where() + ")";
    const std::string intro = "__syncthreads() at " + str(first->site) + " (" + where() + "): ";
    for (const Thread& t : threads_) {
      if (t.state == State::AtShuffle)
        return intro + thread_name(*first) + " waits there while " + thread_name(t) + " " + doing(t);
      if (t.state == State::AtBarrier && !same_site(t.site, first->site))
        return intro + "not reached by all threads: " + thread_name(*first) + " waits there while " + thread_name(t) + " " +
               doing(t) + " (a divergent barrier)";
      if (t.state == State::Exited && t.barriers > 0)
        return intro + "not reached by all threads: " + thread_name(*first) + " waits there while " + thread_name(t) +
               " has returned after passing " + std::to_string(t.barriers) +
               " barrier(s) (a divergent barrier: one inside a condition that not all threads take)";
    }
    for (Thread& t : threads_)
      if (t.state == State::AtBarrier) {
        t.state = State::Runnable;
        ++t.barriers;
      }
    return "";
  }

  // Every thread still inside the kernel leaves it by an exception; one that never ran is
  // destroyed (Boost unwinds it).
  std::string abandon() {
    for (Thread& t : threads_) {
      if (t.started && t.state != State::Exited) {
        t.give_up = true;
        resume(t);
      }
      t.fiber = ctx::fiber();
    }
    return error_;
  }

  const Kernel& k_;
  int64_t block_;
  std::vector<Thread> threads_;
  std::string error_;
};

// In a thread of a fiber block: wait, as `state`, until the scheduler lets this thread go on.
Thread& waiting_thread(Site where, const char* what) {
  Thread* t = t_running;
  if (!t)
    throw std::runtime_error(std::string(what) + " at " + str(where) +
                             " in a block run as a plain loop: block 0 of this kernel met no barrier or shuffle, so the "
                             "emulator took it for a kernel without any (a barrier reached by some blocks only?)");
  t->site = where;
  return *t;
}

void wait_here(Thread& t) {
  void* fake = nullptr;
  asan_start_switch(&fake, t_scheduler_stack);
  t.scheduler = std::move(t.scheduler).resume();
  asan_finish_switch(fake, &t_scheduler_stack);
  if (t.give_up) throw GiveUp();
}

// ---------------------------------------------------------------- plain blocks

// DLCRAFT_EMU_WORKERS threads run blocks (this one and helpers), by default one per core.
WorkerPool& workers() {
  static WorkerPool pool([] {
    const int n = options().workers > 0 ? options().workers : int(std::thread::hardware_concurrency());
    return n > 1 ? n - 1 : 0;
  }());
  return pool;
}

// Every thread of the block in turn, to the end, on this OS thread's own stack.
void run_plain_block(const Kernel& k, int64_t b, std::vector<int>& order) {
  ThreadCoords c{Dim3{}, unflatten(b, k.grid), k.block, k.grid};
  current = &c;
  order_threads(order, k.threads, b, 0);
  for (int i : order) {
    c.thread_idx = unflatten(i, k.block);
    (*k.body)();
  }
  current = nullptr;
}

std::string check_config(Dim3 grid, Dim3 block) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (threads == 0 || grid.x == 0 || grid.y == 0 || grid.z == 0)
    return "empty launch: grid " + str(grid) + ", block " + str(block);
  if (threads > kMaxThreads || block.x > kMaxThreads || block.y > kMaxThreads || block.z > kMaxBlockZ)
    return "block " + str(block) + " has " + std::to_string(threads) + " threads; a block has at most " +
           std::to_string(kMaxThreads) + " (and z at most 64)";
  if (grid.y > kMaxGridYZ || grid.z > kMaxGridYZ || grid.x > 2147483647u)
    return "grid " + str(grid) + " is too large: y and z are at most 65535, x at most 2^31-1";
  return "";
}

}  // namespace

Options& options() {
  static Options o = read_options();
  return o;
}

int lane_id() {
  const ThreadCoords& c = *current;
  return int((c.thread_idx.x + c.thread_idx.y * c.block_dim.x + c.thread_idx.z * c.block_dim.x * c.block_dim.y) % 32);
}

void syncthreads(Site where) {
  Thread& t = waiting_thread(where, "__syncthreads()");
  t.state = State::AtBarrier;
  wait_here(t);
}

uint64_t shuffle(Site where, unsigned mask, uint64_t value, int src_lane) {
  Thread& t = waiting_thread(where, "a warp shuffle");
  t.state = State::AtShuffle;
  t.mask = mask;
  t.value = value;
  t.src_lane = src_lane;
  wait_here(t);
  return t.result;
}

std::string run_grid(Dim3 grid, Dim3 block, const std::function<void()>& thread_body, bool* invalid_config) {
  *invalid_config = false;
  if (std::string bad = check_config(grid, block); !bad.empty()) {
    *invalid_config = true;
    return bad;
  }
  const Kernel k{grid, block, &thread_body, int(block.x * block.y * block.z)};
  const int64_t blocks = int64_t(grid.x) * grid.y * grid.z;

  // Block 0 as fibers tells which kind of kernel this is.
  poison_shared();
  bool switched = false;
  if (std::string what = FiberBlock(k, 0).run(&switched); !what.empty()) return what;
  const bool plain = !switched && shared_untouched();
  if (blocks == 1) return "";

  // The other blocks, handed out to the workers one (or, plain, 16) at a time. A small grid
  // stays on this thread: waking the workers would cost more than the work.
  const bool small = plain ? blocks * k.threads < kParallelThreads : blocks < kParallelBlocks;
  const int64_t chunk = plain ? 16 : 1;
  std::atomic<int64_t> next{1};
  std::atomic<bool> failed{false};
  std::string first_error;
  std::mutex error_mutex;
  const std::function<void()> job = [&] {
    std::vector<int> order;
    for (int64_t first; !failed && (first = next.fetch_add(chunk)) < blocks;)
      for (int64_t b = first; b < std::min(first + chunk, blocks) && !failed; ++b) {
        std::string what;
        try {
          if (plain) {
            run_plain_block(k, b, order);
          } else {
            poison_shared();
            bool met = false;
            what = FiberBlock(k, b).run(&met);
          }
        } catch (const std::exception& e) {
          what = "block " + str(unflatten(b, grid)) + ": " + e.what();
        }
        if (!what.empty()) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!failed.exchange(true)) first_error = what;
        }
      }
  };
  if (small)
    job();
  else
    workers().run(job);
  return first_error;
}

}  // namespace emu
}  // namespace dlcraft

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer calls this when it finds a bad access: say which CUDA thread made it.
extern "C" void __asan_on_error() {
  using dlcraft::emu::current;
  if (current)
    std::fprintf(stderr, "dlcraft emulator: the bad access was made by CUDA thread %s of block %s (grid %s, block %s)\n",
                 dlcraft::emu::str(current->thread_idx).c_str(), dlcraft::emu::str(current->block_idx).c_str(),
                 dlcraft::emu::str(current->grid_dim).c_str(), dlcraft::emu::str(current->block_dim).c_str());
}
#endif
