// Where this OS thread's copy of the __shared__ section is. The linker marks the section's
// bounds in the program's thread-local storage *image*; each thread's copy sits at the same
// offset in that thread's block of the module's TLS, which glibc's dl_iterate_phdr gives
// (dlpi_tls_data). Linux with glibc and the GNU linker, like the rest of the project.
#include "kernels/cuda/emu/shared_memory.hpp"

#include <link.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

// Weak: a program without any __shared__ variable has no such section.
extern "C" char __start_dlcraft_emu_shared[] __attribute__((weak));
extern "C" char __stop_dlcraft_emu_shared[] __attribute__((weak));

namespace dlcraft {
namespace emu {
namespace {

char* find_my_shared() {
  struct Search {
    uintptr_t image;
    char* mine;
  } search{reinterpret_cast<uintptr_t>(__start_dlcraft_emu_shared), nullptr};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* s = static_cast<Search*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_TLS && s->image >= begin && s->image < begin + ph.p_memsz && info->dlpi_tls_data) {
            s->mine = static_cast<char*>(info->dlpi_tls_data) + (s->image - begin);
            return 1;
          }
        }
        return 0;
      },
      &search);
  if (!search.mine) throw std::runtime_error("dlcraft emulator: cannot find this thread's __shared__ memory");
  return search.mine;
}

struct SharedMemory {
  char* begin = nullptr;
  size_t bytes = 0;
};

SharedMemory my_shared() {
  static thread_local SharedMemory mine = [] {
    if (!__start_dlcraft_emu_shared) return SharedMemory{};
    return SharedMemory{find_my_shared(), size_t(__stop_dlcraft_emu_shared - __start_dlcraft_emu_shared)};
  }();
  return mine;
}

}  // namespace

void poison_shared() {
  const SharedMemory m = my_shared();
  if (m.bytes) std::memset(m.begin, 0xFF, m.bytes);
}

bool shared_untouched() {
  const SharedMemory m = my_shared();
  for (size_t i = 0; i < m.bytes; ++i)
    if (m.begin[i] != char(0xFF)) return false;
  return true;
}

}  // namespace emu
}  // namespace dlcraft
