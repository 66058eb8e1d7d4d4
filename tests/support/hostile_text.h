#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace obsforge::testing {

/// `part`, `times` times over.
inline std::string Repeat(std::string_view part, std::size_t times) {
  std::string out;
  out.reserve(part.size() * times);
  for (std::size_t i = 0; i < times; ++i) {
    out += part;
  }
  return out;
}

/// The YAML alias bomb of the security report, a few hundred bytes: `a0` is a list of ten
/// scalars, each next level a list of ten aliases of the level before, and `last_key: *a8`
/// repeats the last level (10^9 scalars once expanded).
inline std::string AliasBomb(const std::string& last_key = "spec") {
  std::string text = "a0: &a0 [" + Repeat("x,", 9) + "x]\n";
  for (int i = 1; i <= 8; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + Repeat(prev + ",", 9) +
            prev + "]\n";
  }
  return text + last_key + ": *a8\n";
}

}  // namespace obsforge::testing
