#include "provision/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace obsforge::provision {

void ParallelFor(std::size_t count, int max_parallel, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::exception_ptr first;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        fn(i);
      } catch (...) {
        // An exception escaping a std::thread would end the process: keep the first for the
        // caller and stop handing out indices.
        std::lock_guard lock(mu);
        if (!first) {
          first = std::current_exception();
        }
        next = count;
      }
    }
  };
  const std::size_t threads =
      std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, max_parallel)));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error&) {
      break;  // fewer threads: the ones running share the work
    }
  }
  worker();
  for (auto& thread : pool) {
    thread.join();
  }
  if (first) {
    std::rethrow_exception(first);
  }
}

}  // namespace obsforge::provision
