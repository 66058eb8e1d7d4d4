#pragma once

#include <cstddef>
#include <functional>

namespace obsforge::provision {

/// Runs fn(0) .. fn(count - 1) on at most `max_parallel` threads (the caller's thread is one of
/// them) and returns when all are done; fn is called at most once per index.
/// When fn throws, indices not started yet are skipped, the calls running finish, and the first
/// exception thrown is rethrown on the caller's thread (later ones are dropped). When a thread
/// cannot be created, the work runs on the threads that could.
void ParallelFor(std::size_t count, int max_parallel, const std::function<void(std::size_t)>& fn);

}  // namespace obsforge::provision
