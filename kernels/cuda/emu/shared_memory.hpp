// __shared__ memory in the emulated build (DLCRAFT_CUDA=EMU). kernel_language.hpp makes every
// __shared__ variable a thread_local static in the section "dlcraft_emu_shared", so each OS
// thread running blocks has its own copy of all of them; these find and poison that copy.
#pragma once

namespace dlcraft {
namespace emu {

// Fills this OS thread's __shared__ memory with 0xFF bytes (NaN as float, -1 as int), before a
// block: a read before any write of the block then shows.
void poison_shared();
// True while this OS thread's __shared__ memory still holds nothing but the poison.
bool shared_untouched();

}  // namespace emu
}  // namespace dlcraft
