// Round trip: each folder under testdata/roundtrip holds a hand-built configuration (some of
// prometheus.yml, alertmanager.yml, loki.yaml, tempo.yaml, with the rule files and templates they
// name). It is imported, the spec is read back from its text and rendered as `obsforge render`
// would, and every rendered file must equal its original as data (except the places obsforge owns,
// listed in the report). Secrets in the fixtures contain "s3cr3t": none may appear in the output,
// and every place that held one must be listed in the report. promtool and amtool check the
// rendered bundle.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/tool_check.h"
#include "core/diagnostic.h"
#include "importer/import.h"
#include "render/render.h"
#include "render/yaml_json.h"
#include "spec/stack.h"

namespace obsforge::importer {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

const fs::path kCases = fs::path(OBS_SOURCE_DIR) / "tests/importer/testdata/roundtrip";
constexpr const char* kSecretMarker = "s3cr3t";

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Component {
  const char* name;
  const char* file;      // in the fixture folder
  const char* rendered;  // in the bundle
};
constexpr Component kComponents[] = {
    {"prometheus", "prometheus.yml", "prometheus/prometheus.yml"},
    {"alertmanager", "alertmanager.yml", "alertmanager/alertmanager.yml"},
    {"loki", "loki.yaml", "loki/loki.yaml"},
    {"tempo", "tempo.yaml", "tempo/tempo.yaml"},
};

std::vector<std::string> Cases() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kCases)) {
    if (e.is_directory()) {
      out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Token(const std::string& key) {
  std::string out;
  for (const char c : key) {
    out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  }
  return out;
}

// JSON pointers of every string holding the marker.
void FindMarked(const json& node, const std::string& at, std::vector<std::string>& out) {
  if (node.is_string() && node.get<std::string>().find(kSecretMarker) != std::string::npos) {
    out.push_back(at);
  } else if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      FindMarked(child, at + "/" + Token(key), out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      FindMarked(node[i], at + "/" + std::to_string(i), out);
    }
  }
}

// The rendered file as the original would read it, for comparison: `KEY_file: <secrets>/NAME`
// and "${NAME}" back to a reference; the original gets the same references where the report
// says it lifted a secret.
json SecretsAsReferences(json node, const std::set<std::string>& names) {
  if (node.is_string()) {
    const auto& s = node.get_ref<const std::string&>();
    if (s.size() > 3 && s.starts_with("${") && s.ends_with("}") &&
        names.count(s.substr(2, s.size() - 3)) != 0) {
      return {{"secret", s.substr(2, s.size() - 3)}};
    }
    return node;
  }
  if (node.is_array()) {
    for (auto& item : node) {
      item = SecretsAsReferences(item, names);
    }
    return node;
  }
  if (!node.is_object()) {
    return node;
  }
  json out = json::object();
  for (auto& [key, value] : node.items()) {
    if (key.ends_with("_file") && value.is_string()) {
      const std::string name = fs::path(value.get<std::string>()).filename().string();
      if (names.count(name) != 0) {
        out[key.substr(0, key.size() - 5)] = {{"secret", name}};
        continue;
      }
    }
    out[key] = SecretsAsReferences(value, names);
  }
  return out;
}

void Erase(json& doc, const std::string& pointer) {
  const json::json_pointer ptr(pointer);
  if (doc.contains(ptr)) {
    doc[ptr.parent_pointer()].erase(ptr.back());
  }
}

class RoundTrip : public testing::TestWithParam<std::string> {
 protected:
  fs::path Dir() const { return kCases / GetParam(); }
};

TEST_P(RoundTrip, RendersBackEqualAsDataWithoutSecrets) {
  ImportRequest request{.name = "rt-" + GetParam()};
  std::map<std::string, json> originals;
  for (const auto& c : kComponents) {
    const fs::path file = Dir() / c.file;
    if (!fs::exists(file)) {
      continue;
    }
    ConfigFile config{.path = file.generic_string(), .text = Slurp(file)};
    originals[c.name] = json(render::ParseYaml(config.text, c.file));
    const std::string component = c.name;
    (component == "prometheus"     ? request.prometheus
     : component == "alertmanager" ? request.alertmanager
     : component == "loki"         ? request.loki
                                   : request.tempo) = std::move(config);
  }
  ASSERT_FALSE(originals.empty()) << "no configuration in " << Dir();
  const auto disk = spec::MakeDirectorySource("/");
  request.files = disk.get();

  const ImportResult result = Import(request);
  const Report& report = result.report;
  SCOPED_TRACE(report.ToText());

  // No secret value anywhere in what import writes.
  EXPECT_EQ(result.spec_yaml.find(kSecretMarker), std::string::npos) << result.spec_yaml;
  for (const auto& [path, text] : result.files) {
    EXPECT_EQ(text.find(kSecretMarker), std::string::npos) << path;
  }

  // Read back from the text written, rendered as `obsforge render` does.
  std::map<std::string, std::string> written = result.files;
  written[result.spec_path] = result.spec_yaml;
  const auto content = spec::MakeMemorySource(written);
  const auto stack = spec::ParseStack(result.spec_yaml, result.spec_path, *content);
  const auto bundle = render::RenderEnvironment(spec::ForEnvironment(stack, request.env), *content,
                                                render::RenderOptions{});
  std::vector<std::string> missing_tools;
  for (const auto& d : app::CheckWithUpstreamTools(bundle, GetParam(), &missing_tools)) {
    ADD_FAILURE() << "refused by the real tools: " << d.ToString();
  }
  for (const auto& tool : missing_tools) {
    std::cerr << "note: " << tool << " is not on PATH; its check was skipped\n";
  }

  std::set<std::string> names;
  for (const auto& s : report.secrets) {
    names.insert(s.name);
  }
  for (const auto& c : kComponents) {
    if (originals.count(c.name) == 0) {
      continue;
    }
    SCOPED_TRACE(c.name);
    json original = originals[c.name];
    // Every secret of the original is listed, and stands as a reference for the comparison.
    std::vector<std::string> marked;
    FindMarked(original, "", marked);
    for (const auto& pointer : marked) {
      const auto lifted = std::find_if(report.secrets.begin(), report.secrets.end(), [&](auto& s) {
        return s.component == c.name &&
               std::find(s.pointers.begin(), s.pointers.end(), pointer) != s.pointers.end();
      });
      EXPECT_NE(lifted, report.secrets.end()) << pointer << " is not reported as a secret";
    }
    for (const auto& s : report.secrets) {
      for (const auto& pointer : s.pointers) {
        if (s.component == c.name) {
          original[json::json_pointer(pointer)] = {{"secret", s.name}};
        }
      }
    }
    const std::string* text = bundle.Find(c.rendered);
    ASSERT_NE(text, nullptr) << c.rendered << " was not rendered";
    json rendered = SecretsAsReferences(json(render::ParseYaml(*text, c.rendered)), names);
    for (const auto& owned : report.owned) {
      if (owned.component == c.name) {
        Erase(original, owned.pointer);
        Erase(rendered, owned.pointer);
      }
    }
    EXPECT_EQ(rendered, original) << "diff (rendered -> original): "
                                  << json::diff(rendered, original).dump(1);
  }

  // Rule files and notification templates arrive as they were.
  std::vector<fs::path> original_rules;
  for (const auto& e : fs::recursive_directory_iterator(Dir())) {
    const auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".yml" || ext == ".yaml") &&
        e.path().parent_path() != Dir()) {
      original_rules.push_back(e.path());
    }
  }
  std::size_t rule_files = 0;
  for (const auto& [path, text] : bundle.files()) {
    if (path.starts_with("prometheus/rules/") || path.starts_with("loki/rules/")) {
      ++rule_files;
      const json rendered = json(render::ParseYaml(text, path));
      EXPECT_TRUE(std::any_of(
          original_rules.begin(), original_rules.end(),
          [&](const auto& p) { return json(render::ParseYaml(Slurp(p), p.string())) == rendered; }))
          << path << " equals none of the original rule files";
    }
  }
  EXPECT_EQ(rule_files, original_rules.size());
  if (fs::exists(Dir() / "templates")) {
    for (const auto& e : fs::directory_iterator(Dir() / "templates")) {
      const std::string rendered = "alertmanager/templates/" + e.path().stem().string() + ".tmpl";
      ASSERT_NE(bundle.Find(rendered), nullptr) << rendered;
      EXPECT_EQ(*bundle.Find(rendered), Slurp(e.path()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures,
                         RoundTrip,
                         testing::ValuesIn(Cases()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(RoundTripFixtures, AtLeastFifteen) {
  EXPECT_GE(Cases().size(), 15U);
}

}  // namespace
}  // namespace obsforge::importer
