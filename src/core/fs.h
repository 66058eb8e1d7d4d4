#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <sys/types.h>

namespace obsforge::core {

/// Reads a whole file. Throws std::runtime_error naming the path when it cannot.
std::string ReadFile(const std::filesystem::path& path);

/// Writes `content` to `path` so that no reader ever sees a partial file: a temporary file in the
/// same directory, fsync, rename over `path`, fsync of the directory. Creates missing parent
/// directories. Throws std::runtime_error (with the path and errno text) on failure, leaving
/// `path` as it was.
void WriteFileAtomic(const std::filesystem::path& path,
                     std::string_view content,
                     mode_t mode = 0644);

/// fsyncs a directory so a rename inside it is durable. Throws on failure.
void SyncDirectory(const std::filesystem::path& dir);

}  // namespace obsforge::core
