#include "apply/ports.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

namespace obsforge::apply {
namespace {

core::Error Internal(const std::string& message) {
  return core::MakeError(core::ErrorCode::kInternal, message);
}

std::string Errno(const std::string& what) {
  return what + ": " + std::error_code(errno, std::generic_category()).message();
}

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int Get() const { return fd_; }

 private:
  int fd_;
};

// Binds 127.0.0.1:0 and returns the socket (kept open so the next allocation cannot get the same
// port) and the port the kernel chose.
core::Result<std::pair<Fd, int>> BindFreePort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.Get() < 0) {
    return Internal(Errno("socket"));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.Get(), reinterpret_cast<sockaddr*>(&addr),  // NOLINT: the sockets API
             sizeof(addr)) != 0) {
    return Internal(Errno("bind 127.0.0.1:0"));
  }
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.Get(),
                    reinterpret_cast<sockaddr*>(&addr),  // NOLINT: the sockets API
                    &len) != 0) {
    return Internal(Errno("getsockname"));
  }
  int port = ntohs(addr.sin_port);
  return std::make_pair(std::move(fd), port);
}

bool ValidPort(const nlohmann::json& v) {
  return v.is_number_integer() && v.get<int>() > 0 && v.get<int>() < 65536;
}

}  // namespace

const std::vector<std::string>& PortNames() {
  static const std::vector<std::string> kNames = {"prometheus",
                                                  "alertmanager",
                                                  "alertmanager_cluster",
                                                  "loki",
                                                  "loki_grpc",
                                                  "tempo",
                                                  "tempo_grpc",
                                                  "otlp_grpc",
                                                  "otlp_http",
                                                  "grafana",
                                                  "otel_collector_health",
                                                  "otel_collector_metrics",
                                                  "otel_otlp_grpc",
                                                  "otel_otlp_http"};
  return kNames;
}

std::string_view MainPortName(std::string_view component) {
  if (component == "otel_collector") {
    return "otel_collector_health";
  }
  for (const auto& name : spec::ComponentNames()) {
    if (name == component) {
      return name;
    }
  }
  return "";
}

PortMap FixedPorts(const spec::Runtime& runtime) {
  PortMap fixed;
  for (const auto& [component, settings] : runtime.components) {
    auto name = MainPortName(component);
    if (!name.empty() && settings.port.has_value()) {
      fixed[std::string(name)] = *settings.port;
    }
  }
  return fixed;
}

namespace {

// Holds the environment's ports lock (released when the descriptor closes).
core::Result<Fd> LockPorts(const std::filesystem::path& env_root) {
  const auto lock_path = env_root / "ports.json.lock";
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (lock.Get() < 0) {
    return Internal(Errno("open " + lock_path.string()));
  }
  while (::flock(lock.Get(), LOCK_EX) != 0) {
    if (errno != EINTR) {
      return Internal(Errno("flock " + lock_path.string()));
    }
  }
  return lock;
}

core::Result<nlohmann::json> ReadPersisted(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return nlohmann::json::object();
  }
  nlohmann::json persisted;
  try {
    persisted = nlohmann::json::parse(core::ReadFile(file));
  } catch (const std::exception& e) {
    return Internal(file.string() + ": " + e.what());
  }
  if (!persisted.is_object()) {
    return Internal(file.string() + ": not a JSON object");
  }
  return persisted;
}

// A fresh loopback port not in `used`; its socket goes to `held` so later calls cannot get it.
core::Result<int> FreshPort(const std::set<int>& used, std::vector<Fd>& held) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto bound = BindFreePort();
    if (!bound.ok()) {
      return bound.error();
    }
    const int port = bound->second;
    held.push_back(std::move(bound->first));
    if (!used.contains(port)) {
      return port;
    }
  }
  return Internal("no free loopback port");
}

}  // namespace

core::Result<PortMap> LoadOrAllocatePorts(const std::filesystem::path& env_root,
                                          const PortMap& fixed) {
  std::error_code ec;
  std::filesystem::create_directories(env_root, ec);
  if (ec) {
    return Internal("cannot create " + env_root.string() + ": " + ec.message());
  }
  // Two runtimes opening the same environment at once must agree on one set of ports.
  auto lock = LockPorts(env_root);
  if (!lock.ok()) {
    return lock.error();
  }
  const auto file = env_root / "ports.json";
  auto persisted = ReadPersisted(file);
  if (!persisted.ok()) {
    return persisted.error();
  }

  PortMap result = fixed;
  std::set<int> used;
  for (const auto& [name, port] : fixed) {
    used.insert(port);
  }
  bool changed = false;
  std::vector<Fd> held;
  for (const auto& name : PortNames()) {
    if (result.contains(name)) {
      continue;
    }
    auto it = persisted->find(name);
    if (it != persisted->end() && ValidPort(*it) && !used.contains(it->get<int>())) {
      result[name] = it->get<int>();
      used.insert(it->get<int>());
      continue;
    }
    auto port = FreshPort(used, held);
    if (!port.ok()) {
      return port.error();
    }
    result[name] = *port;
    used.insert(*port);
    (*persisted)[name] = *port;
    changed = true;
  }
  if (changed) {
    try {
      core::WriteFileAtomic(file, persisted->dump(2) + "\n", 0644);
    } catch (const std::exception& e) {
      return Internal(e.what());
    }
  }
  return result;
}

}  // namespace obsforge::apply
