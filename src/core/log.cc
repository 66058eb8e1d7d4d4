#include "core/log.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <streambuf>

#include "core/clock.h"

namespace obsforge::core {

Logger::Logger(std::ostream& out, LogLevel min_level) : out_(out), min_level_(min_level) {
}

namespace {
const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 8> buf{};
          std::snprintf(buf.data(), buf.size(), "\\u%04x", static_cast<unsigned>(c));
          out += buf.data();
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string Logger::Redact(std::string text) const {
  for (const auto& secret : redactions_) {
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), "<secret>");
      pos += 8;
    }
  }
  return text;
}

void Logger::Log(LogLevel level, std::string_view msg, const Fields& fields) {
  std::lock_guard lock(mu_);
  if (level < min_level_) {
    return;
  }
  std::string line = R"({"ts":")" + FormatTime(std::chrono::system_clock::now()) +
                     R"(","level":")" + LevelName(level) + R"(","msg":")" +
                     JsonEscape(Redact(std::string(msg))) + "\"";
  for (const auto& [key, value] : fields) {
    line += ",\"" + JsonEscape(key) + "\":\"" + JsonEscape(Redact(value)) + "\"";
  }
  line += "}\n";
  out_ << line << std::flush;
}

void Logger::AddRedaction(const std::string& value) {
  if (value.size() < 4) {
    return;
  }
  std::lock_guard lock(mu_);
  if (std::find(redactions_.begin(), redactions_.end(), value) == redactions_.end()) {
    redactions_.push_back(value);
  }
}

void Logger::SetLevel(LogLevel level) {
  std::lock_guard lock(mu_);
  min_level_ = level;
}

namespace {
// A stream buffer that swallows everything, so the null logger costs no memory over time.
class NullBuffer final : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char* /*s*/, std::streamsize n) override { return n; }
};
}  // namespace

Logger& NullLogger() {
  static NullBuffer buffer;
  static std::ostream sink(&buffer);
  static Logger logger(sink, LogLevel::kError);
  return logger;
}

}  // namespace obsforge::core
