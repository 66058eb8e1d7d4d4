#pragma once

#include <cstddef>
#include <functional>

namespace obsforge::provision {

/// Runs fn(0) .. fn(count - 1) on at most `max_parallel` threads (the caller's thread is one of
/// them) and returns when all are done. `fn` must not throw; it is called exactly once per index.
void ParallelFor(std::size_t count, int max_parallel, const std::function<void(std::size_t)>& fn);

}  // namespace obsforge::provision
