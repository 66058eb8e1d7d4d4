#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "render/bundle.h"
#include "render/render.h"
#include "spec/stack.h"

namespace obsforge::render {

/// A bounded (least recently used) cache in front of RenderEnvironment. An entry is keyed by the
/// stack as prepared for the template (merged spec with secret file paths), the template `env`
/// (ports, URLs, directories), and the default templates' text; it is reused only after every
/// content-source call the render made (each Read, including the import look-ups that found
/// nothing, each Glob, each Escapes) gives the same answer again. So a changed, added or removed
/// dashboard, rule, mixin or template file renders afresh, and an unchanged spec costs reading
/// its files instead of evaluating Jsonnet. Renders with `jsonnet_paths` are not cached (their
/// files are outside any content source). Errors are not cached. Thread-safe.
class RenderCache {
 public:
  /// A cache of at most `capacity` bundles (0 = no caching).
  explicit RenderCache(std::size_t capacity);
  ~RenderCache();
  RenderCache(const RenderCache&) = delete;
  RenderCache& operator=(const RenderCache&) = delete;

  /// Same result as RenderEnvironment(spec, content, options), from the cache when its inputs
  /// are unchanged. Throws what RenderEnvironment throws.
  Bundle Render(const spec::EnvironmentSpec& spec,
                const spec::ContentSource& content,
                const RenderOptions& options);

  /// Renders answered from the cache, and renders that ran.
  std::size_t hits() const;
  std::size_t misses() const;

 private:
  struct Entry;
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::shared_ptr<const Entry>> entries_;  // most recently used first
  std::size_t hits_ = 0;
  std::size_t misses_ = 0;
};

/// The process-wide cache used by the apply path (capacity 32).
RenderCache& SharedRenderCache();

}  // namespace obsforge::render
