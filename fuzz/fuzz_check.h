#pragma once

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "spec/document.h"

/// Aborts (a crash libFuzzer records) when `condition` is false.
#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (false)

namespace obsforge::fuzz {

/// The readers' limits scaled to fuzz inputs (at most 4 KiB): the same checks, reached in
/// thousands of values rather than 250,000, so an alias bomb costs microseconds, not seconds.
/// Nesting keeps its real limit: it is what bounds the recursion.
inline constexpr spec::DocumentLimits kLimits{.max_depth = 128,
                                              .max_nodes = 4000,
                                              .max_string_bytes = 2048,
                                              .max_key_bytes = 256,
                                              .max_total_bytes = 256U << 10U};

/// A parsed document must serialise and read back the same (as the store and every API answer
/// need): dump() throws on invalid UTF-8 and writes null for a number that is not finite.
template <class Json>
void CheckSerialisable(const Json& document) {
  FUZZ_CHECK(Json::parse(document.dump()) == document);
}

}  // namespace obsforge::fuzz
