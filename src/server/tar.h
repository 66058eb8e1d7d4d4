#pragma once

#include <map>
#include <string>

namespace obsforge::server {

/// A POSIX ustar archive of `files` (relative path -> bytes), in map order: regular files with
/// mode 0644, mtime 0 and owner 0/0 so equal inputs give equal bytes; parent directories are
/// implied by the paths. Paths longer than 100 bytes are split into prefix/name at a '/'.
/// Throws std::invalid_argument when a path cannot be stored (> 255 bytes or no split point).
std::string WriteUstar(const std::map<std::string, std::string>& files);

}  // namespace obsforge::server
