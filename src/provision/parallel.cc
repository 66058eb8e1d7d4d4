#include "provision/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace obsforge::provision {

void ParallelFor(std::size_t count, int max_parallel, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      fn(i);
    }
  };
  const std::size_t threads =
      std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, max_parallel)));
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) {
    pool.emplace_back(worker);
  }
  worker();
  for (auto& thread : pool) {
    thread.join();
  }
}

}  // namespace obsforge::provision
