#include "render/jsonnet_eval.h"

extern "C" {
#include <libjsonnet.h>
}

#include <charconv>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "render/embedded.h"
#include "render/jsonnet_inline.h"

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

// Removes the digits that end `text` and returns their value; nullopt (text unchanged) when there
// are none or they do not fit an int.
std::optional<int> TakeNumberFromEnd(std::string_view& text) {
  std::size_t start = text.size();
  while (start > 0 && text[start - 1] >= '0' && text[start - 1] <= '9') {
    --start;
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data() + start, text.data() + text.size(), value);
  if (start == text.size() || ec != std::errc()) {
    return std::nullopt;
  }
  text.remove_suffix(text.size() - start);
  return value;
}

bool TakeSuffix(std::string_view& text, std::string_view suffix) {
  if (!text.ends_with(suffix)) {
    return false;
  }
  text.remove_suffix(suffix.size());
  return true;
}

// A location as libjsonnet writes it: `<file>:<line>:<column>` with an optional `-<column>`, or
// `<file>:(<line>:<column>)-(<line>:<column>)`. Read from the end, since file names may hold
// ':'. By hand and in time linear in the digits: the text may repeat a template's own names,
// and std::regex recursed once per character (a 200 KB name overflowed the stack).
std::optional<Location> ParseLocation(std::string_view text) {
  std::optional<int> line;
  std::optional<int> column;
  if (TakeSuffix(text, ")")) {
    if (!TakeNumberFromEnd(text) || !TakeSuffix(text, ":") || !TakeNumberFromEnd(text) ||
        !TakeSuffix(text, ")-(")) {
      return std::nullopt;
    }
    column = TakeNumberFromEnd(text);
    if (!column || !TakeSuffix(text, ":") || !(line = TakeNumberFromEnd(text)) ||
        !TakeSuffix(text, ":(")) {
      return std::nullopt;
    }
  } else {
    if (std::string_view shorter = text; TakeNumberFromEnd(shorter) && TakeSuffix(shorter, "-")) {
      text = shorter;  // the end column of a range
    }
    column = TakeNumberFromEnd(text);
    if (!column || !TakeSuffix(text, ":") || !(line = TakeNumberFromEnd(text)) ||
        !TakeSuffix(text, ":")) {
      return std::nullopt;
    }
  }
  if (text.empty()) {
    return std::nullopt;
  }
  return Location{.file = std::string(text), .line = *line, .column = *column};
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
    // "<file>:<location>: <message>": the location ends at the first ": " that closes one.
    for (auto colon = first.find(": "); colon != std::string::npos;
         colon = first.find(": ", colon + 1)) {
      if (auto loc = ParseLocation(std::string_view(first).substr(0, colon))) {
        d.file = loc->file;
        d.line = loc->line;
        d.column = loc->column;
        d.message = first.substr(colon + 2);
        return d;
      }
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

namespace {

std::unique_ptr<JsonnetVm, VmDeleter> MakeVm(const std::map<std::string, std::string>& ext_code,
                                             const std::map<std::string, std::string>& ext_str) {
  std::unique_ptr<JsonnetVm, VmDeleter> vm(jsonnet_make());
  for (const auto& [key, code] : ext_code) {
    jsonnet_ext_code(vm.get(), key.c_str(), code.c_str());
  }
  for (const auto& [key, value] : ext_str) {
    jsonnet_ext_var(vm.get(), key.c_str(), value.c_str());
  }
  return vm;
}

// Runs the VM on `program`; nullopt with the error text in `*error_text` on failure.
std::optional<std::string> Run(JsonnetVm* vm,
                               const std::string& program_name,
                               const std::string& program,
                               std::string* error_text) {
  int error = 0;
  char* out = jsonnet_evaluate_snippet(vm, program_name.c_str(), program.c_str(), &error);
  std::string text(out == nullptr ? "" : out);
  jsonnet_realloc(vm, out, 0);
  if (error != 0) {
    *error_text = std::move(text);
    return std::nullopt;
  }
  return text;
}

// One file inlined into the single program.
struct InlinedFile {
  std::string name;     // virtual name
  std::string content;  // as read, recorded in `reads` when the program touches it
  bool is_string = false;
};

// Builds ONE Jsonnet program out of `program` and every file it imports, transitively: each
// file becomes a top-level `local __obs_imp_N = ...` and each import of it a reference to that
// local. libjsonnet 0.18 parses and desugars its whole standard library for every file it
// evaluates (~20 ms each), so one file instead of one per template and library is most of the
// render time. Locals are lazy and mutually recursive, which keeps Jsonnet's import semantics:
// a file is evaluated only when used, import cycles behave as they do with real imports. A file
// is recorded as read when its local is first forced (through the `obsforge_mark` native), so
// `reads` matches what libjsonnet would have imported.
class Inliner {
 public:
  explicit Inliner(Resolver* resolver) : resolver_(resolver) {}

  // nullopt when some file cannot be scanned reliably: the caller then uses real imports.
  std::optional<std::string> Build(const std::string& program_name, const std::string& program) {
    auto main = Rewrite(program, ImportBase(program_name));
    if (!main) {
      return std::nullopt;
    }
    // Files appended while rewriting are rewritten in turn (breadth first).
    std::vector<std::string> bodies;
    for (std::size_t i = 0; i < files_.size(); ++i) {
      if (files_[i].is_string) {
        // JSON string syntax is valid Jsonnet; invalid UTF-8 cannot be written as JSON.
        try {
          bodies.push_back(nlohmann::json(files_[i].content).dump());
        } catch (const nlohmann::json::exception&) {
          return std::nullopt;
        }
        continue;
      }
      const std::string content = files_[i].content;
      auto body = Rewrite(content, ImportBase(files_[i].name));
      if (!body) {
        return std::nullopt;
      }
      // The file starts on its own line so text blocks and line comments keep their meaning.
      bodies.push_back("(\n" + *body + "\n)");
    }
    if (files_.empty()) {
      return *main;
    }
    std::string out = "local __obs_mark = std.native('obsforge_mark');\nlocal\n";
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      out += "  __obs_imp_" + std::to_string(i) + " = if __obs_mark(" + std::to_string(i) +
             ") then " + bodies[i] + " else null" + (i + 1 < bodies.size() ? ",\n" : ";\n");
    }
    out += *main;
    return out;
  }

  const std::vector<InlinedFile>& files() const { return files_; }

 private:
  std::optional<std::string> Rewrite(const std::string& text, const std::string& base) {
    const auto sites = FindImports(text);
    if (!sites) {
      return std::nullopt;
    }
    std::string out;
    std::size_t at = 0;
    for (const auto& site : *sites) {
      out.append(text, at, site.begin - at);
      out += Reference(base, site);
      at = site.end;
    }
    out.append(text, at, std::string::npos);
    return out;
  }

  std::string Reference(const std::string& base, const ImportSite& site) {
    const auto found = resolver_->Find(base, site.path);
    if (!found) {
      // Real imports fail only when evaluated; so does this, and the caller then re-runs with
      // real imports for libjsonnet's own message.
      return "(error 'obsforge: unresolved import')";
    }
    const auto key = std::make_pair(site.is_string, found->first);
    auto it = ids_.find(key);
    if (it == ids_.end()) {
      it = ids_.emplace(key, files_.size()).first;
      files_.push_back(
          InlinedFile{.name = found->first, .content = found->second, .is_string = site.is_string});
    }
    return "(__obs_imp_" + std::to_string(it->second) + ")";
  }

  Resolver* resolver_;
  std::map<std::pair<bool, std::string>, std::size_t> ids_;
  std::vector<InlinedFile> files_;
};

struct MarkContext {
  JsonnetVm* vm;
  const std::vector<InlinedFile>* files;
  std::map<std::string, std::string>* reads;
};

JsonnetJsonValue* MarkCallback(void* ctx, const JsonnetJsonValue* const* argv, int* success) {
  auto* c = static_cast<MarkContext*>(ctx);
  double index = -1;
  if (jsonnet_json_extract_number(c->vm, argv[0], &index) != 0 && index >= 0 &&
      static_cast<std::size_t>(index) < c->files->size()) {
    const auto& file = (*c->files)[static_cast<std::size_t>(index)];
    (*c->reads)[file.name] = file.content;
  }
  *success = 1;
  return jsonnet_json_make_bool(c->vm, 1);
}

// The fast path: one file for libjsonnet. nullopt when it cannot be used or the program fails
// (the caller re-runs with real imports, which gives libjsonnet's own error and locations).
std::optional<std::string> EvaluateInlined(const std::string& program_name,
                                           const std::string& program,
                                           const std::map<std::string, std::string>& ext_code,
                                           const std::map<std::string, std::string>& ext_str,
                                           const JsonnetInputs& inputs,
                                           std::map<std::string, std::string>* reads) {
  Resolver resolver(inputs, nullptr);
  Inliner inliner(&resolver);
  std::optional<std::string> inlined;
  try {
    inlined = inliner.Build(program_name, program);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!inlined) {
    return std::nullopt;
  }
  auto vm = MakeVm(ext_code, ext_str);
  std::map<std::string, std::string> touched;
  MarkContext mark{.vm = vm.get(), .files = &inliner.files(), .reads = &touched};
  static const char* const kMarkParams[] = {"index", nullptr};
  jsonnet_native_callback(vm.get(), "obsforge_mark", &MarkCallback, &mark, kMarkParams);
  std::string error_text;
  auto out = Run(vm.get(), program_name, *inlined, &error_text);
  if (out && reads != nullptr) {
    for (auto& [name, content] : touched) {
      (*reads)[name] = std::move(content);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> InlineImports(const std::string& program_name,
                                         const std::string& program,
                                         const JsonnetInputs& inputs) {
  Resolver resolver(inputs, nullptr);
  Inliner inliner(&resolver);
  return inliner.Build(program_name, program);
}

nlohmann::ordered_json EvaluateJsonnet(const std::string& program_name,
                                       const std::string& program,
                                       const std::map<std::string, std::string>& ext_code,
                                       const JsonnetInputs& inputs,
                                       std::map<std::string, std::string>* reads,
                                       const std::map<std::string, std::string>& ext_str) {
  if (auto out = EvaluateInlined(program_name, program, ext_code, ext_str, inputs, reads)) {
    return nlohmann::ordered_json::parse(*out);
  }
  // Real imports: slower, but every error comes with libjsonnet's own message and the location
  // in the file the user wrote.
  auto vm = MakeVm(ext_code, ext_str);
  Resolver resolver(inputs, reads);
  CallbackContext ctx{.vm = vm.get(), .resolver = &resolver};
  jsonnet_import_callback(vm.get(), &ImportCallback, &ctx);
  std::string error_text;
  auto out = Run(vm.get(), program_name, program, &error_text);
  if (!out) {
    throw InputError(InputError::Kind::kRender, ParseJsonnetError(error_text, program_name));
  }
  return nlohmann::ordered_json::parse(*out);
}

}  // namespace obsforge::render
