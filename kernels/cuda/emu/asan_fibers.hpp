// Telling AddressSanitizer about our fiber switches (only in a -fsanitize=address build), so
// that it knows which stack is live; without it, exceptions thrown on a fiber stack confuse it.
#pragma once
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace dlcraft {
namespace emu {

struct FiberStack {
  const void* bottom = nullptr;
  size_t size = 0;
};

#if defined(__SANITIZE_ADDRESS__)
inline void asan_start_switch(void** fake_stack, FiberStack to) { __sanitizer_start_switch_fiber(fake_stack, to.bottom, to.size); }
inline void asan_finish_switch(void* fake_stack, FiberStack* from) {
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (from) *from = FiberStack{bottom, size};
}
inline void asan_unpoison(void* p, size_t bytes) { ASAN_UNPOISON_MEMORY_REGION(p, bytes); }
#else
inline void asan_start_switch(void**, FiberStack) {}
inline void asan_finish_switch(void*, FiberStack*) {}
inline void asan_unpoison(void*, size_t) {}
#endif

}  // namespace emu
}  // namespace dlcraft
