#include "render/jsonnet_eval.h"

extern "C" {
#include <libjsonnet.h>
}

#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "render/embedded.h"

namespace obsforge::render {
namespace {

using core::Diagnostic;
using core::InputError;

constexpr std::string_view kTemplatesPrefix = "templates/";

// Resolves "a/b/../c" within a namespace; nullopt when ".." climbs above the namespace root.
std::optional<std::string> Normalize(std::string_view root, std::string_view rest) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= rest.size()) {
    auto end = rest.find('/', start);
    if (end == std::string_view::npos) {
      end = rest.size();
    }
    const auto seg = rest.substr(start, end - start);
    if (seg == "..") {
      if (parts.empty()) {
        return std::nullopt;
      }
      parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    start = end + 1;
  }
  std::string out(root);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += parts[i];
  }
  return out;
}

// Joins a base directory (a virtual name ending in '/', or "") and a relative import.
std::optional<std::string> Join(std::string_view base, std::string_view rel) {
  const std::string combined = std::string(base) + std::string(rel);
  std::string_view v = combined;
  if (v.starts_with(kStackPrefix)) {
    return Normalize(kStackPrefix, v.substr(std::strlen(kStackPrefix)));
  }
  if (v.starts_with(kTemplatesPrefix)) {
    return Normalize(kTemplatesPrefix, v.substr(kTemplatesPrefix.size()));
  }
  if (v.starts_with("/")) {
    return Normalize("/", v.substr(1));
  }
  return std::nullopt;
}

class Resolver {
 public:
  explicit Resolver(const JsonnetInputs& inputs, std::map<std::string, std::string>* reads)
      : inputs_(inputs), reads_(reads) {
    auto dir = [](const std::string& d) { return d.empty() ? std::string() : d + "/"; };
    if (!inputs.stack_templates.empty()) {
      roots_.push_back(kStackPrefix + dir(inputs.stack_templates));
    }
    roots_.emplace_back(kTemplatesPrefix);
    for (const auto& m : inputs.mixin_dirs) {
      roots_.push_back(kStackPrefix + dir(m));
      roots_.push_back(kStackPrefix + dir(m) + "vendor/");
    }
    roots_.emplace_back(kStackPrefix);
    for (const auto& p : inputs.jsonnet_paths) {
      auto s = p.lexically_normal().generic_string();
      if (!s.ends_with('/')) {
        s += '/';
      }
      roots_.push_back(s);
    }
  }

  // The content of `rel` imported from `base`, with its virtual name.
  std::optional<std::pair<std::string, std::string>> Find(const std::string& base,
                                                          const std::string& rel) {
    if (rel.starts_with(kStackPrefix)) {
      return Load(Join("", rel));
    }
    if (rel.starts_with("/")) {
      return std::nullopt;  // absolute imports would read anywhere on the machine
    }
    if (!base.empty()) {
      if (auto found = Load(Join(base, rel))) {
        return found;
      }
    }
    for (const auto& root : roots_) {
      if (auto found = Load(Join(root, rel))) {
        return found;
      }
    }
    return std::nullopt;
  }

 private:
  std::optional<std::pair<std::string, std::string>> Load(const std::optional<std::string>& name) {
    if (!name) {
      return std::nullopt;
    }
    auto content = Read(*name);
    if (!content) {
      return std::nullopt;
    }
    if (reads_ != nullptr) {
      (*reads_)[*name] = *content;
    }
    return std::make_pair(*name, std::move(*content));
  }

  std::optional<std::string> Read(const std::string& name) {
    const std::string_view v = name;
    if (v.starts_with(kStackPrefix)) {
      const std::string rel(v.substr(std::strlen(kStackPrefix)));
      if (rel.empty() || inputs_.content->Escapes(rel)) {
        return std::nullopt;
      }
      return inputs_.content->Read(rel);
    }
    if (v.starts_with(kTemplatesPrefix)) {
      const std::string rel(v.substr(kTemplatesPrefix.size()));
      if (inputs_.templates_dir.empty()) {
        const auto& embedded = EmbeddedTemplates();
        const auto it = embedded.find(rel);
        return it == embedded.end() ? std::nullopt : std::optional<std::string>(it->second);
      }
      return ReadDisk(inputs_.templates_dir / rel);
    }
    // Absolute: only below one of the jsonnet_paths.
    for (const auto& p : inputs_.jsonnet_paths) {
      auto root = p.lexically_normal().generic_string();
      if (!root.ends_with('/')) {
        root += '/';
      }
      if (name.starts_with(root)) {
        return ReadDisk(name);
      }
    }
    return std::nullopt;
  }

  static std::optional<std::string> ReadDisk(const std::filesystem::path& p) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) {
      return std::nullopt;
    }
    std::ifstream in(p, std::ios::binary);
    if (!in) {
      return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  const JsonnetInputs& inputs_;
  std::map<std::string, std::string>* reads_;
  std::vector<std::string> roots_;
};

char* CopyToJsonnet(JsonnetVm* vm, const std::string& s) {
  char* out = jsonnet_realloc(vm, nullptr, s.size() + 1);
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

struct CallbackContext {
  JsonnetVm* vm;
  Resolver* resolver;
};

char* ImportCallback(
    void* ctx, const char* base, const char* rel, char** found_here, int* success) {
  auto* c = static_cast<CallbackContext*>(ctx);
  try {
    auto found = c->resolver->Find(base, rel);
    if (!found) {
      *success = 0;
      return CopyToJsonnet(c->vm,
                           "no such file in the templates, the stack root or the mixin "
                           "folders");
    }
    *found_here = CopyToJsonnet(c->vm, found->first);
    *success = 1;
    return CopyToJsonnet(c->vm, found->second);
  } catch (const std::exception& e) {
    *success = 0;
    return CopyToJsonnet(c->vm, e.what());
  }
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
  return s;
}

struct Location {
  std::string file;
  int line = 0;
  int column = 0;
};

std::optional<Location> ParseLocation(const std::string& text) {
  static const std::regex kSimple(R"(^(.+):(\d+):(\d+)(-\d+)?$)");
  static const std::regex kSpan(R"(^(.+):\((\d+):(\d+)\)-\(\d+:\d+\)$)");
  std::smatch m;
  if (std::regex_match(text, m, kSimple) || std::regex_match(text, m, kSpan)) {
    return Location{.file = m[1], .line = std::stoi(m[2]), .column = std::stoi(m[3])};
  }
  return std::nullopt;
}

struct VmDeleter {
  void operator()(JsonnetVm* vm) const { jsonnet_destroy(vm); }
};

}  // namespace

std::string DisplayName(const std::string& virtual_name) {
  return ReplaceAll(virtual_name, kStackPrefix, "");
}

Diagnostic ParseJsonnetError(const std::string& raw, const std::string& program_name) {
  const std::string text = DisplayName(raw);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  Diagnostic d;
  if (lines.empty()) {
    d.message = "jsonnet evaluation failed";
    return d;
  }
  std::string first = lines[0];
  static const std::string kStatic = "STATIC ERROR: ";
  static const std::string kRuntime = "RUNTIME ERROR: ";
  if (first.starts_with(kStatic)) {
    first = first.substr(kStatic.size());
    // "<file>:<loc>: <message>": the location ends at the first ": " after a digit or ')'.
    static const std::regex kStaticLine(
        R"(^(.+?:(\d+:\d+(-\d+)?|\(\d+:\d+\)-\(\d+:\d+\))): (.*)$)");
    std::smatch m;
    if (std::regex_match(first, m, kStaticLine)) {
      if (auto loc = ParseLocation(m[1])) {
        d.file = loc->file;
        d.line = loc->line;
        d.column = loc->column;
      }
      d.message = m[4];
      return d;
    }
    d.message = first;
    return d;
  }
  if (first.starts_with(kRuntime)) {
    first = first.substr(kRuntime.size());
  }
  d.message = first;
  std::optional<Location> fallback;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::string frame = lines[i];
    if (frame.empty() || frame[0] != '\t') {
      continue;
    }
    frame = frame.substr(1);
    const auto tab = frame.find('\t');
    if (tab != std::string::npos) {
      frame = frame.substr(0, tab);
    }
    auto loc = ParseLocation(frame);
    if (!loc) {
      continue;
    }
    if (!fallback) {
      fallback = loc;
    }
    if (loc->file != program_name && loc->file != "std.jsonnet" && loc->file != "<std>") {
      fallback = loc;
      break;
    }
  }
  if (fallback) {
    d.file = fallback->file;
    d.line = fallback->line;
    d.column = fallback->column;
  }
  return d;
}

nlohmann::ordered_json EvaluateJsonnet(const std::string& program_name,
                                       const std::string& program,
                                       const std::map<std::string, std::string>& ext_code,
                                       const JsonnetInputs& inputs,
                                       std::map<std::string, std::string>* reads) {
  std::unique_ptr<JsonnetVm, VmDeleter> vm(jsonnet_make());
  Resolver resolver(inputs, reads);
  CallbackContext ctx{.vm = vm.get(), .resolver = &resolver};
  jsonnet_import_callback(vm.get(), &ImportCallback, &ctx);
  for (const auto& [key, code] : ext_code) {
    jsonnet_ext_code(vm.get(), key.c_str(), code.c_str());
  }
  int error = 0;
  char* out = jsonnet_evaluate_snippet(vm.get(), program_name.c_str(), program.c_str(), &error);
  std::string text(out == nullptr ? "" : out);
  jsonnet_realloc(vm.get(), out, 0);
  if (error != 0) {
    throw InputError(InputError::Kind::kRender, ParseJsonnetError(text, program_name));
  }
  return nlohmann::ordered_json::parse(text);
}

}  // namespace obsforge::render
