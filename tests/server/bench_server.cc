// A standalone obsforge REST server for bench/wrk: SQLite store in --data-dir, the in-memory
// FakeBackend (no components are started), --stacks N stacks stored ("shop", "shop-1", ...), no
// tokens (loopback). Prints the bound port on stdout, serves until SIGINT/SIGTERM.
#include <csignal>
#include <fstream>
#include <iostream>

#include "server/harness.h"

int main(int argc, char** argv) {
  using namespace obsforge;
  std::string listen = "127.0.0.1:0";
  std::filesystem::path data_dir = "/tmp/obsforge-bench";
  int threads = 64;
  int stacks = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--listen") {
      listen = argv[i + 1];
    } else if (flag == "--data-dir") {
      data_dir = argv[i + 1];
    } else if (flag == "--stacks") {
      stacks = std::stoi(argv[i + 1]);
    } else if (flag == "--max-threads") {
      threads = std::stoi(argv[i + 1]);
    }
  }
  std::filesystem::create_directories(data_dir);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts

  core::SystemClock clock;
  auto store = store::SqliteStore::Open({.path = (data_dir / "obsforge.db").string()}, clock);
  if (!store.ok()) {
    std::cerr << store.error().message << "\n";
    return 1;
  }
  // "shop", then "shop-1" ... "shop-<stacks-1>": the same spec under other names.
  for (int i = 0; i < stacks; ++i) {
    const std::string name = i == 0 ? "shop" : "shop-" + std::to_string(i);
    if ((*store)->GetStack(name).ok()) {
      continue;
    }
    std::string spec = server::testing::ShopSpec();
    spec.replace(spec.find("name: shop"), 10, "name: " + name);
    auto content = spec::MakeMemorySource({});
    const spec::StackSpec parsed = spec::ParseStack(spec, name + ".yaml", *content);
    (void)(*store)->CreateStack(name,
                                {.spec_json = parsed.document.dump(), .spec_hash = parsed.Hash()});
    for (const std::string& env : parsed.environments) {
      (void)(*store)->UpsertEnvironment({.stack = name, .env = env, .state = "ready"});
    }
  }
  std::ofstream log_file(data_dir / "server.log", std::ios::app);
  core::Logger logger(log_file);
  server::testing::FakeBackend backend;
  const server::ServerOptions options{
      .listen = listen, .data_dir = data_dir, .content_dir = data_dir, .max_threads = threads};
  control::Application app(server::ApplicationOptionsFrom(options), **store, backend, clock,
                           logger);
  server::Server srv(options, app, logger);
  auto port = srv.Start();
  if (!port.ok()) {
    std::cerr << port.error().message << "\n";
    return 1;
  }
  std::cout << *port << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  srv.Stop();
  return 0;
}
