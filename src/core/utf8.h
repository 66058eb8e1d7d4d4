#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace obsforge::core {

/// Length (1 to 4) of the well-formed UTF-8 sequence at the start of `s`, or 0 when `s` is empty
/// or does not start with one. Well-formed is RFC 3629's table: no overlong forms, no UTF-16
/// surrogates, nothing above U+10FFFF. A NUL byte is a sequence of length 1. Never throws.
std::size_t Utf8SequenceLength(std::string_view s);

/// Offset of the first byte of `text` that is not part of well-formed UTF-8 (as
/// Utf8SequenceLength), or std::nullopt when all of it is. Never throws.
std::optional<std::size_t> FindInvalidUtf8(std::string_view text);

}  // namespace obsforge::core
