// fuzz_target.h: what every fuzz target in fuzz/ shares. Each target defines the libFuzzer entry
// point LLVMFuzzerTestOneInput; the clang build (scripts/fuzz.sh) links it with libFuzzer, the
// normal build links it with regression_main.cpp, which feeds it the saved inputs of
// tests/fuzz/<target>/ under ctest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

// A broken property: print it and abort, so that libFuzzer (and the regression runner) see a
// crash and keep the input.
#define FUZZ_CHECK(condition, ...)                                              \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, \
                   #condition);                                                 \
      std::fprintf(stderr, __VA_ARGS__);                                        \
      std::fprintf(stderr, "\n");                                               \
      std::abort();                                                             \
    }                                                                           \
  } while (false)
