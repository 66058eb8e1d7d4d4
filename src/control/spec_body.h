#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "spec/stack.h"

namespace obsforge::control {

/// A spec as received (a request body, a spec file), parsed and validated, with where its files
/// come from.
struct SpecInput {
  spec::StackSpec stack;
  /// Files sent with the spec ({"spec", "files"}); empty when the spec came alone.
  std::map<std::string, std::string> files;
  /// `files` as a source, or the content directory when none were sent.
  std::unique_ptr<spec::ContentSource> content;
  /// The hash the store keeps: the spec's hash, combined with the files' when files were sent.
  std::string hash;
};

/// Parses a request body holding a stack spec: the spec alone (YAML or JSON; paths resolve in
/// `content_dir`, where nothing under `hidden` can be read: see HideDirectories), or a wrapper
/// {"spec": <object or YAML/JSON text>, "files": {path: text}} (a map with "spec" and no key but
/// "spec" and "files"), whose files become a memory source. `file` names the body in diagnostics;
/// the body and the spec are read within `limits`. Throws core::InputError (kInvalidSpec) listing
/// every problem with line and column (of the body, or of the "spec" text when it was sent as
/// text).
SpecInput ParseSpecBody(const std::string& body,
                        const std::string& file,
                        const std::filesystem::path& content_dir,
                        const spec::DocumentLimits& limits = {},
                        const std::vector<std::filesystem::path>& hidden = {});

/// Canonical hash of a set of files (sorted path/content pairs).
std::string FilesHash(const std::map<std::string, std::string>& files);

}  // namespace obsforge::control
