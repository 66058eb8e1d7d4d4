// What a stack secret costs: sealing and opening one value with AES-256-GCM (core::Seal), a whole
// lookup as an apply makes it (StackSecrets::Get: a read of the SQLite store, then the open) next
// to the lookup it replaces in the server (a variable of the process environment), and the
// re-sealing of every secret after a key rotation (at start).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <benchmark/benchmark.h>

#include "control/stack_secrets.h"
#include "core/clock.h"
#include "core/seal.h"
#include "store/sqlite_store.h"
#include <unistd.h>

namespace obsforge {
namespace {

namespace fs = std::filesystem;

const core::SealKey& Key() {
  static const core::SealKey key = *core::SealKey::Parse(std::string(64, 'a'));
  return key;
}

void BM_Seal(benchmark::State& state) {
  const std::string value(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::Seal(Key(), value, "obsforge stack secret\nshop\nTOKEN"));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Seal)->Arg(64)->Arg(4096);

void BM_Unseal(benchmark::State& state) {
  const std::string value(static_cast<std::size_t>(state.range(0)), 'x');
  const std::string sealed = core::Seal(Key(), value, "ctx");
  for (auto _ : state) {
    benchmark::DoNotOptimize(core::Unseal(Key(), sealed, "ctx"));
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Unseal)->Arg(64)->Arg(4096);

// The baseline: how the server resolved `{secret: NAME}` before stacks had secrets of their own.
void BM_ProcessEnvLookup(benchmark::State& state) {
  ::setenv("OBS_BENCH_TOKEN", std::string(64, 'x').c_str(), 1);
  const core::EnvLookup env = core::ProcessEnv();
  for (auto _ : state) {
    benchmark::DoNotOptimize(env("OBS_BENCH_TOKEN"));
  }
}
BENCHMARK(BM_ProcessEnvLookup);

// A SQLite store in a folder of its own, removed at the end.
class BenchStore {
 public:
  explicit BenchStore(const std::string& name)
      : dir_(fs::temp_directory_path() /
             ("obs-secrets-bench-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto opened = store::SqliteStore::Open({.path = (dir_ / "obsforge.db").string()}, clock_);
    if (opened.ok()) {
      store_ = std::move(*opened);
    } else {
      error_ = opened.error().message;
    }
  }
  ~BenchStore() {
    store_.reset();
    fs::remove_all(dir_);
  }
  store::SqliteStore* get() { return store_.get(); }
  const std::string& error() const { return error_; }

 private:
  fs::path dir_;
  core::SystemClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
  std::string error_;
};

// One secret looked up as an apply does: store read + open.
void BM_StackSecretGet(benchmark::State& state) {
  BenchStore store("get");
  if (store.get() == nullptr) {
    state.SkipWithError(store.error().c_str());
    return;
  }
  control::StackSecrets secrets({.key = core::Secret(std::string(64, 'a'))}, *store.get());
  (void)secrets.LoadKeys();
  (void)secrets.Put("shop", "TOKEN", core::Secret(std::string(64, 'x')));
  for (auto _ : state) {
    benchmark::DoNotOptimize(secrets.Get("shop", "TOKEN"));
  }
}
BENCHMARK(BM_StackSecretGet);

// A key rotation at start: N secrets sealed under the old key re-sealed under the new one.
void BM_RotateAtStart(benchmark::State& state) {
  const auto count = static_cast<int>(state.range(0));
  const fs::path old_key =
      fs::temp_directory_path() / ("obs-secrets-bench-old-" + std::to_string(::getpid()) + ".key");
  std::ofstream(old_key) << std::string(64, 'b') << "\n";
  for (auto _ : state) {
    BenchStore store("rotate");
    if (store.get() == nullptr) {
      state.SkipWithError(store.error().c_str());
      break;
    }
    {
      control::StackSecrets before({.key = core::Secret(std::string(64, 'b'))}, *store.get());
      (void)before.LoadKeys();
      for (int i = 0; i < count; ++i) {
        (void)before.Put("stack-" + std::to_string(i % 100), "KEY_" + std::to_string(i),
                         core::Secret(std::string(64, 'x')));
      }
    }
    control::StackSecrets after(
        {.key = core::Secret(std::string(64, 'a')), .previous_key_files = {old_key}}, *store.get());
    (void)after.LoadKeys();
    // Only the rotation is timed, not filling the store.
    const auto start = std::chrono::steady_clock::now();
    auto resealed = after.Rotate();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!resealed.ok() || *resealed != count) {
      state.SkipWithError("rotation did not re-seal every secret");
      break;
    }
  }
  fs::remove(old_key);
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_RotateAtStart)->Arg(1000)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace obsforge

BENCHMARK_MAIN();
