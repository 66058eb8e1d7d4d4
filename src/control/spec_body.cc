#include "control/spec_body.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "control/hidden_content.h"
#include "core/bytes.h"
#include "core/diagnostic.h"
#include "core/hash.h"
#include "spec/document.h"

namespace obsforge::control {
namespace {

using core::Diagnostic;
using core::InputError;

// The wrapper form, when `text` is one; nullopt for a plain spec. Parsed with the spec reader's
// limits (a YAML alias bomb or a deep nesting is refused here, with its position), keeping key
// order: a spec sent as a map is written back as text for ParseStack, and the order of its
// environments is the order they are written in.
std::optional<nlohmann::ordered_json> AsWrapper(const std::string& text,
                                                const std::string& file,
                                                const spec::DocumentLimits& limits) {
  nlohmann::ordered_json doc = spec::ParseOrderedDocument(text, file, limits);
  if (!doc.is_object() || !doc.contains("spec")) {
    return std::nullopt;
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "spec" && key != "files") {
      return std::nullopt;  // a plain spec (apiVersion, kind, metadata, spec)
    }
  }
  return doc;
}

bool SafeRelative(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string::npos) {
    return false;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string segment = path.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return false;
    }
    start = slash + 1;
  }
  return true;
}

// The `files` map of a wrapper into `out`; what is wrong with it goes to `errors`.
void ReadFiles(const nlohmann::ordered_json& files,
               const std::string& file,
               std::map<std::string, std::string>& out,
               std::vector<Diagnostic>& errors) {
  if (!files.is_object()) {
    errors.push_back(
        {.file = file, .path = "files", .message = "must be a map of path to file content"});
    return;
  }
  for (const auto& [path, content] : files.items()) {
    if (!content.is_string()) {
      errors.push_back({.file = file,
                        .path = "files." + path,
                        .message = "must be the file's content as a string"});
    } else if (!SafeRelative(path)) {
      errors.push_back({.file = file,
                        .path = "files." + path,
                        .message = "must be a relative path inside the stack root"});
    } else {
      out[path] = content.get<std::string>();
    }
  }
}

}  // namespace

std::string FilesHash(const std::map<std::string, std::string>& files) {
  core::Sha256 sha;
  for (const auto& [path, content] : files) {
    sha.Update(std::to_string(path.size()) + ":" + path + std::to_string(content.size()) + ":");
    sha.Update(content);
  }
  const auto digest = sha.Finish();
  return core::ToHex(core::CharsOf(digest));
}

SpecInput ParseSpecBody(const std::string& body,
                        const std::string& file,
                        const std::filesystem::path& content_dir,
                        const spec::DocumentLimits& limits,
                        const std::vector<std::filesystem::path>& hidden) {
  if (body.empty()) {
    throw InputError(InputError::Kind::kInvalidSpec,
                     Diagnostic{.file = file, .message = "empty body: expected a stack spec"});
  }
  SpecInput input;
  std::string spec_text = body;
  std::string spec_file = file;
  if (auto wrapper = AsWrapper(body, file, limits)) {
    std::vector<Diagnostic> errors;
    if (wrapper->contains("files")) {
      ReadFiles((*wrapper)["files"], file, input.files, errors);
    }
    const auto& spec = (*wrapper)["spec"];
    if (spec.is_string()) {
      spec_text = spec.get<std::string>();
      spec_file = file + "#spec";
    } else if (spec.is_object()) {
      spec_text = spec.dump(2);
      spec_file = file + "#spec";
    } else {
      errors.push_back(
          {.file = file, .path = "spec", .message = "must be the stack spec (a map or its text)"});
    }
    if (!errors.empty()) {
      throw InputError(InputError::Kind::kInvalidSpec, std::move(errors));
    }
  }
  if (input.files.empty()) {
    input.content = HideDirectories(spec::MakeDirectorySource(content_dir), hidden);
  } else {
    input.content = spec::MakeMemorySource(input.files);
  }
  input.stack = spec::ParseStack(spec_text, spec_file, *input.content, limits);
  input.hash = input.files.empty()
                   ? input.stack.Hash()
                   : core::Sha256Hex(input.stack.Hash() + ":" + FilesHash(input.files));
  return input;
}

}  // namespace obsforge::control
