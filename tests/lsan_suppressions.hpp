// Leaks that are not ours, for test programs in the sanitizer build (scripts/sanitize.sh).
// Include it in one source file of the program; it does nothing in other builds.
//
// - fontconfig (cairo's font lookup, when a test draws plots) keeps one-time caches (its parsed
//   configuration, a resolved pattern per font face) allocated at exit; they do not grow with
//   the number of plots.
// - Open MPI (tests/dist/) leaves its start-up allocations (component lists, parameter strings,
//   the op table) allocated after MPI_Finalize, in libmpi, libopen-pal/-rte, PMIx, hwloc and the
//   MCA components it loads with dlopen.
//
// LeakSanitizer looks for these built-in suppressions in the program. A leak is suppressed when
// any frame of its stack lies in a named library.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define DLCRAFT_LSAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DLCRAFT_LSAN_BUILD 1
#endif
#endif

#ifdef DLCRAFT_LSAN_BUILD
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n"
         "leak:libmpi.so\n"
         "leak:libopen-pal.so\n"
         "leak:libopen-rte.so\n"
         "leak:libpmix.so\n"
         "leak:libhwloc.so\n"
         "leak:libevent\n"
         "leak:/openmpi/lib/openmpi3/mca_\n"
         "leak:/pmix2/lib/pmix/\n";
}

// Open MPI unloads its MCA components (dlclose) in MPI_Finalize, before LeakSanitizer runs at
// exit; their frames then show as "<unknown module>" and no suppression can name them. A dlclose
// defined in the program comes first in symbol lookup, so the libraries call this one, which
// keeps every loaded library mapped until exit. Sanitizer builds of test programs only.
extern "C" int dlclose(void*) { return 0; }
#endif
