// What a stack secret costs: sealing and opening one value with AES-256-GCM (core::Seal), and a
// whole lookup as an apply makes it (StackSecrets::Get: a read of the SQLite store, then the open).
#include <filesystem>
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

// One secret looked up as an apply does: store read + open.
void BM_StackSecretGet(benchmark::State& state) {
  const fs::path dir =
      fs::temp_directory_path() / ("obs-secrets-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  core::SystemClock clock;
  auto store = store::SqliteStore::Open({.path = (dir / "obsforge.db").string()}, clock);
  if (!store.ok()) {
    state.SkipWithError(store.error().message.c_str());
    return;
  }
  control::StackSecrets secrets({.key = core::Secret(std::string(64, 'a'))}, **store);
  (void)secrets.LoadKeys();
  (void)secrets.Put("shop", "TOKEN", core::Secret(std::string(64, 'x')));
  for (auto _ : state) {
    benchmark::DoNotOptimize(secrets.Get("shop", "TOKEN"));
  }
  store->reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_StackSecretGet);

}  // namespace
}  // namespace obsforge

BENCHMARK_MAIN();
