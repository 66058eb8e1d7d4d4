#pragma once

// The obsforge binary run as a user runs it, its output read line by line.

#include <array>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace obsforge::testing {

using std::chrono::milliseconds;

// Woken by every Lines of this test process at each line and at end of file, so that one thread
// can wait on the output of several processes at once (WaitForAny).
struct AnyLine {
  static AnyLine& Get() {
    static AnyLine any;
    return any;
  }
  void Bump() {
    {
      std::lock_guard lock(mu);
      ++seq;
    }
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t seq = 0;
};

// Every line a file descriptor delivers, collected by a thread until end of file.
class Lines {
 public:
  explicit Lines(int fd) : fd_(fd), reader_([this] { Read(); }) {}
  ~Lines() {
    reader_.join();
    ::close(fd_);
  }
  Lines(const Lines&) = delete;
  Lines& operator=(const Lines&) = delete;

  // The first line at or after index `from` containing `text`; its index, or -1 when none came
  // before `limit` (or end of file).
  int WaitFor(const std::string& text, std::size_t from, milliseconds limit) {
    return WaitForAll({text}, from, limit);
  }
  // The same for the first line containing every one of `texts`.
  int WaitForAll(const std::vector<std::string>& texts, std::size_t from, milliseconds limit) {
    std::unique_lock lock(mu_);
    int found = -1;
    cv_.wait_for(lock, limit, [&] {
      found = FindLocked(texts, from);
      return found >= 0 || closed_;
    });
    return found;
  }
  // WaitFor without waiting: the index of the first such line now, or -1.
  int Find(const std::vector<std::string>& texts, std::size_t from) {
    std::lock_guard lock(mu_);
    return FindLocked(texts, from);
  }
  // Line `i` ("" when there is none yet).
  std::string At(std::size_t i) {
    std::lock_guard lock(mu_);
    return i < lines_.size() ? lines_[i] : "";
  }
  std::string All() {
    std::lock_guard lock(mu_);
    std::string out;
    for (const auto& line : lines_) {
      out += line + "\n";
    }
    return out;
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return lines_.size();
  }

 private:
  int FindLocked(const std::vector<std::string>& texts, std::size_t from) const {
    for (std::size_t i = from; i < lines_.size(); ++i) {
      bool all = true;
      for (const auto& text : texts) {
        all = all && lines_[i].find(text) != std::string::npos;
      }
      if (all) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  void Read() {
    std::string partial;
    std::array<char, 4096> buf{};
    while (true) {
      const ssize_t n = ::read(fd_, buf.data(), buf.size());
      if (n <= 0) {
        break;
      }
      partial.append(buf.data(), static_cast<std::size_t>(n));
      std::size_t nl = 0;
      while ((nl = partial.find('\n')) != std::string::npos) {
        {
          std::lock_guard lock(mu_);
          lines_.push_back(partial.substr(0, nl));
          partial.erase(0, nl + 1);
          cv_.notify_all();
        }
        AnyLine::Get().Bump();
      }
    }
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      cv_.notify_all();
    }
    AnyLine::Get().Bump();
  }

  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool closed_ = false;
  std::thread reader_;
};

// Where WaitForAny found a line: which source, and the line's index in it.
struct Seen {
  std::size_t source = 0;
  int line = -1;
};

// The first line containing every one of `texts` in any of `sources` (each read from its own
// index on); nullopt when none came before `limit`. Wakes on every line of every source.
inline std::optional<Seen> WaitForAny(const std::vector<std::pair<Lines*, std::size_t>>& sources,
                                      const std::vector<std::string>& texts,
                                      milliseconds limit) {
  AnyLine& any = AnyLine::Get();
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::unique_lock lock(any.mu);
  while (true) {
    const std::uint64_t seen = any.seq;
    lock.unlock();  // Find locks each source, whose reader bumps `any` after unlocking it
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (const int at = sources[i].first->Find(texts, sources[i].second); at >= 0) {
        return Seen{.source = i, .line = at};
      }
    }
    lock.lock();
    if (!any.cv.wait_until(lock, deadline, [&] { return any.seq != seen; })) {
      return std::nullopt;
    }
  }
}

// `obsforge ARGS...` with `extra_env` added, stdout and stderr read line by line.
class Obsforge {
 public:
  Obsforge(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    std::array<int, 2> out{};
    std::array<int, 2> err{};
    EXPECT_EQ(::pipe2(out.data(), O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err.data(), O_CLOEXEC), 0);
    std::vector<std::string> argv_storage{std::string(OBS_BINARY_DIR) + "/src/app/obsforge"};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<std::string> env_storage = extra_env;
    for (char** e = environ; *e != nullptr; ++e) {
      env_storage.emplace_back(*e);
    }
    std::vector<char*> argv;
    std::vector<char*> envp;
    argv.reserve(argv_storage.size() + 1);
    envp.reserve(env_storage.size() + 1);
    for (auto& a : argv_storage) {
      argv.push_back(a.data());
    }
    for (auto& e : env_storage) {
      envp.push_back(e.data());
    }
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = std::make_unique<Lines>(out[0]);
    err_ = std::make_unique<Lines>(err[0]);
  }
  ~Obsforge() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);  // it stops what it started
      Wait();
    }
  }
  Obsforge(const Obsforge&) = delete;
  Obsforge& operator=(const Obsforge&) = delete;

  // Its exit code (-1 when killed by a signal).
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    out_.reset();  // end of file once every writer (components inherit nothing) is gone
    err_.reset();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid() const { return pid_; }
  Lines& out() { return *out_; }
  Lines& err() { return *err_; }

 private:
  pid_t pid_ = -1;
  std::unique_ptr<Lines> out_;
  std::unique_ptr<Lines> err_;
};

}  // namespace obsforge::testing
