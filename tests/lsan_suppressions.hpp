// For test programs that draw plots (cairo): cairo's font lookup leaves fontconfig's one-time
// caches (its parsed configuration, a resolved pattern per font face) allocated at exit; they do
// not grow with the number of plots, but LeakSanitizer reports them in the sanitizer build
// (scripts/sanitize.sh). Not our leak: named here, in the program, where LeakSanitizer looks for
// built-in suppressions. Include it in one source file of the program.
#pragma once
#if defined(__SANITIZE_ADDRESS__)
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif
#endif
