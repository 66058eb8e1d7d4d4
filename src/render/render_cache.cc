#include "render/render_cache.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "render/env.h"

namespace obsforge::render {
namespace {

namespace fs = std::filesystem;

// What a render asked of its content source, with the answers.
struct SourceLog {
  std::map<std::string, std::optional<std::string>> reads;
  std::map<std::string, std::vector<std::string>> globs;
  std::map<std::string, bool> escapes;
  std::optional<std::optional<fs::path>> directory;

  // True when `content` answers every recorded call the same way today.
  bool StillHolds(const spec::ContentSource& content) const {
    if (directory && content.Directory() != *directory) {
      return false;
    }
    for (const auto& [rel, escaped] : escapes) {
      if (content.Escapes(rel) != escaped) {
        return false;
      }
    }
    for (const auto& [pattern, files] : globs) {
      if (content.Glob(pattern) != files) {
        return false;
      }
    }
    for (const auto& [rel, text] : reads) {
      if (content.Read(rel) != text) {
        return false;
      }
    }
    return true;
  }
};

// Passes every call through to the real source and logs it. Used by one render at a time.
class RecordingSource : public spec::ContentSource {
 public:
  explicit RecordingSource(const spec::ContentSource& inner) : inner_(inner) {}

  std::optional<std::string> Read(const std::string& rel) const override {
    auto text = inner_.Read(rel);
    log_.reads[rel] = text;
    return text;
  }
  std::vector<std::string> Glob(const std::string& pattern) const override {
    auto files = inner_.Glob(pattern);
    log_.globs[pattern] = files;
    return files;
  }
  bool Escapes(const std::string& rel) const override {
    const bool escapes = inner_.Escapes(rel);
    log_.escapes[rel] = escapes;
    return escapes;
  }
  std::optional<fs::path> Directory() const override {
    auto dir = inner_.Directory();
    log_.directory = dir;
    return dir;
  }

  SourceLog TakeLog() { return std::move(log_); }

 private:
  const spec::ContentSource& inner_;
  mutable SourceLog log_;
};

void AppendPart(std::string& key, std::string_view part) {
  key += std::to_string(part.size());
  key += ':';
  key += part;
}

// Everything a render depends on besides its content source. Throws what PrepareStack and
// BuildEnv throw (the caller then renders uncached, for the render's own error).
std::string CacheKey(const spec::EnvironmentSpec& spec, const RenderOptions& options) {
  const auto stack = PrepareStack(spec.merged, SecretsDir(spec, options));
  const auto env = BuildEnv(spec, stack, options);
  std::string key;
  AppendPart(key, spec.stack);
  AppendPart(key, spec.env);
  AppendPart(key, stack.dump());
  AppendPart(key, env.dump());
  AppendPart(key, options.data_root.generic_string());
  for (const auto& [name, port] : options.ports) {
    AppendPart(key, name + "=" + std::to_string(port));
  }
  AppendPart(key, options.templates_dir.generic_string());
  if (!options.templates_dir.empty()) {
    // Templates on disk are few and small: their text is part of the key.
    std::vector<fs::path> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(options.templates_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        files.push_back(it->path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      AppendPart(key, f.generic_string());
      AppendPart(key, text.str());
    }
  }
  return key;
}

}  // namespace

struct RenderCache::Entry {
  std::string key;
  SourceLog log;
  Bundle bundle;
};

RenderCache::RenderCache(std::size_t capacity) : capacity_(capacity) {
}

RenderCache::~RenderCache() = default;

Bundle RenderCache::Render(const spec::EnvironmentSpec& spec,
                           const spec::ContentSource& content,
                           const RenderOptions& options) {
  std::string key;
  if (capacity_ > 0 && options.jsonnet_paths.empty()) {
    try {
      key = CacheKey(spec, options);
    } catch (const std::exception&) {
      key.clear();
    }
  }
  if (key.empty()) {
    {
      const std::lock_guard<std::mutex> lock(mu_);
      ++misses_;
    }
    return RenderEnvironment(spec, content, options);
  }
  std::shared_ptr<const Entry> cached;
  {
    const std::lock_guard<std::mutex> lock(mu_);
    for (const auto& e : entries_) {
      if (e->key == key) {
        cached = e;
        break;
      }
    }
  }
  // Checking the files happens outside the lock: it reads the disk.
  if (cached && cached->log.StillHolds(content)) {
    const std::lock_guard<std::mutex> lock(mu_);
    ++hits_;
    const auto it = std::find(entries_.begin(), entries_.end(), cached);
    if (it != entries_.end()) {
      entries_.splice(entries_.begin(), entries_, it);
    }
    return cached->bundle;
  }
  RecordingSource recording(content);
  auto entry = std::make_shared<Entry>();
  entry->bundle = RenderEnvironment(spec, recording, options);
  entry->key = std::move(key);
  entry->log = recording.TakeLog();
  const std::lock_guard<std::mutex> lock(mu_);
  ++misses_;
  entries_.remove_if([&](const auto& e) { return e->key == entry->key; });
  entries_.push_front(entry);
  while (entries_.size() > capacity_) {
    entries_.pop_back();
  }
  return entry->bundle;
}

std::size_t RenderCache::hits() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

std::size_t RenderCache::misses() const {
  const std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

RenderCache& SharedRenderCache() {
  static auto* const kCache = new RenderCache(32);
  return *kCache;
}

}  // namespace obsforge::render
