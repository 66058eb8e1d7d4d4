#include "render/emit.h"

#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "render/yaml_json.h"

namespace obsforge::render {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// Strings YAML 1.1 or 1.2 would read as something else, or that would break the syntax.
std::vector<std::string> TrickyStrings() {
  std::vector<std::string> base = {
      "",
      " ",
      "  ",
      "y",
      "Y",
      "n",
      "N",
      "yes",
      "Yes",
      "YES",
      "no",
      "No",
      "NO",
      "on",
      "On",
      "ON",
      "off",
      "Off",
      "OFF",
      "true",
      "True",
      "TRUE",
      "tRuE",
      "false",
      "False",
      "FALSE",
      "null",
      "Null",
      "NULL",
      "nUlL",
      "~",
      "=",
      "<<",
      "2",
      "-1",
      "+1",
      "1e3",
      "1E3",
      "1e+3",
      "-1.5e-3",
      ".5",
      "-.5",
      "+.5",
      "0.",
      "1.",
      "0x1F",
      "0X1f",
      "0o7",
      "0o17",
      "012",
      "08",
      "1_000",
      "1_000.5",
      "0b101",
      ".inf",
      "-.inf",
      "+.Inf",
      ".INF",
      ".nan",
      ".NaN",
      ".NAN",
      "12:30",
      "1:20:30",
      "190:20:30.15",
      "2001-12-14",
      "2001-12-14t21:59:43.10-05:00",
      "2001-12-14 21:59:43.10 -5",
      "-",
      "?",
      ":",
      ",",
      "[",
      "]",
      "{",
      "}",
      "#",
      "&",
      "*",
      "!",
      "|",
      ">",
      "'",
      "\"",
      "%",
      "@",
      "`",
      "- a",
      "? a",
      ": a",
      ", a",
      "[a]",
      "{a: b}",
      "#a",
      "&a",
      "*a",
      "!a",
      "!!str",
      "|a",
      ">a",
      "'a'",
      "\"a\"",
      "%TAG",
      "@a",
      "`a`",
      "a: b",
      "a #b",
      "a:",
      "a :b",
      "a#b",
      "a:b",
      "http://x:80/y",
      " lead",
      "trail ",
      " both ",
      "\ttab",
      "tab\t",
      "a\tb",
      "line\nbreak",
      "trailing newline\n",
      "two\n\n",
      "three\n\n\n",
      "\nleading newline",
      "\n",
      "\n\n",
      " \n",
      "a\n b\n  c",
      "a\n \nb",
      "a\n\tb",
      "cr\rhere",
      "bell\a",
      "nul\x01",
      "esc\x1b[0m",
      "del\x7f",
      "nel\xC2\x85x",
      "ls\xE2\x80\xA8x",
      "ps\xE2\x80\xA9x",
      "\xEF\xBB\xBF"
      "bom",
      "---",
      "...",
      "--- a",
      "... a",
      "a\n---\nb",
      "a\n...\nb",
      "{{ $labels.instance }}",
      "{{ template \"x\" . }}",
      "[[var]]",
      "${DS_X}",
      "$var",
      "100%",
      "50 %",
      "caf\xC3\xA9",
      "\xE2\x9C\x93 ok",
      "'quoted' inside",
      "say \"hi\"",
      "back\\slash",
      "a'b",
      "multi\nline with 'quotes' and \"dq\"\n",
      "rate(x[5m]) > 0",
      "sum by (a) (rate({job=\"x\"} |~ \"e\" [5m]))",
      "expr: |\n  nested",
      "key: value\n",
      "- item\n- item2\n",
      "# comment\nx",
      "30s",
      "5m",
      "1h30m",
      "127.0.0.1:9090",
      "0.0.0.0",
      "1.2.3",
      "v1.2",
      "1.0.0-rc1",
      "1e",
      "e1",
      "0x",
      "0xZZ",
      "+",
      "-+1",
      "1-2",
      "-0",
      "+0",
      "00",
      "0",
      "9"
      "9"
      "9",
  };
  std::vector<std::string> out = base;
  // Each one also inside text, at the start and end of text, and as a line in a block.
  for (const auto& s : base) {
    out.push_back("x" + s);
    out.push_back(s + "x");
    out.push_back("a " + s + " b");
    out.push_back(s + "\n" + s);
  }
  return out;
}

void ExpectPlainScalarsAreStrings(const YAML::Node& node) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      ExpectPlainScalarsAreStrings(kv.first);
      ExpectPlainScalarsAreStrings(kv.second);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      ExpectPlainScalarsAreStrings(item);
    }
  } else if (node.IsScalar() && node.Tag() == "?") {
    // yaml-cpp's own conversions accept the YAML 1.1 spellings (yes/on/...) too.
    bool b = false;
    double d = 0;
    EXPECT_FALSE(YAML::convert<bool>::decode(node, b)) << node.Scalar();
    EXPECT_FALSE(YAML::convert<double>::decode(node, d)) << node.Scalar();
  }
}

TEST(EmitYaml, TrickyStringsRoundTripAsValuesKeysAndListItems) {
  const auto strings = TrickyStrings();
  ASSERT_GT(strings.size(), 500U);
  ordered_json doc = ordered_json::object();
  ordered_json list = ordered_json::array();
  ordered_json keys = ordered_json::object();
  for (std::size_t i = 0; i < strings.size(); ++i) {
    doc["v" + std::to_string(i)] = strings[i];
    list.push_back(strings[i]);
    keys[strings[i]] = strings[i];
  }
  doc["list"] = list;
  doc["keys"] = keys;
  doc["nested"] = {{"a", list}, {"b", {{"c", keys}}}};
  const std::string yaml = EmitYaml(doc);
  ordered_json back;
  ASSERT_NO_THROW(back = ParseYaml(yaml, "t.yaml")) << yaml;
  EXPECT_EQ(back, doc);
  ExpectPlainScalarsAreStrings(YAML::Load(yaml));
  // Every string alone as a whole document too.
  for (const auto& s : strings) {
    const std::string one = EmitYaml(ordered_json(s));
    EXPECT_EQ(ParseYaml(one, "one.yaml"), ordered_json(s)) << one;
  }
}

TEST(ParseYaml, HugeNumbersStayTextAndNeverThrow) {
  const std::string digits(200000, '9');
  EXPECT_EQ(ParseYaml("a: " + digits + "\nb: 1e999999\nc: -" + digits + ".5\n", "big.yaml"),
            ordered_json::parse(R"({"a": ")" + digits + R"(", "b": "1e999999", "c": "-)" + digits +
                                R"(.5"})"));
}

TEST(EmitYaml, WritesBlockStyleWithTwoSpaceIndent) {
  const ordered_json doc = ordered_json::parse(R"({
    "global": {"scrape_interval": "15s", "external_labels": {}},
    "rule_files": ["rules/*.yaml"],
    "scrape_configs": [{"job_name": "p", "static_configs": [{"targets": ["127.0.0.1:9090"]}]}],
    "n": null, "t": true, "i": 3, "f": 0.5, "empty": [], "deep": [[1, 2], []],
    "expr": "a\n  b\n", "keep": "x\n\n", "strip": "x\ny"
  })");
  EXPECT_EQ(EmitYaml(doc),
            "global:\n"
            "  scrape_interval: 15s\n"
            "  external_labels: {}\n"
            "rule_files:\n"
            "  - rules/*.yaml\n"
            "scrape_configs:\n"
            "  - job_name: p\n"
            "    static_configs:\n"
            "      - targets:\n"
            "          - '127.0.0.1:9090'\n"
            "'n': null\n"
            "t: true\n"
            "i: 3\n"
            "f: 0.5\n"
            "empty: []\n"
            "deep:\n"
            "  -\n"
            "    - 1\n"
            "    - 2\n"
            "  - []\n"
            "expr: |\n"
            "  a\n"
            "    b\n"
            "keep: |+\n"
            "  x\n"
            "\n"
            "strip: |-\n"
            "  x\n"
            "  y\n");
}

TEST(EmitYaml, QuotesOnlyWhatNeedsIt) {
  EXPECT_TRUE(IsPlainYamlSafe("30s"));
  EXPECT_TRUE(IsPlainYamlSafe("rules/*.yaml"));
  EXPECT_TRUE(IsPlainYamlSafe("a:b"));
  EXPECT_FALSE(IsPlainYamlSafe("yes"));
  EXPECT_FALSE(IsPlainYamlSafe("0x1F"));
  EXPECT_FALSE(IsPlainYamlSafe("a: b"));
  EXPECT_EQ(EmitYaml(ordered_json{{"k", "it's"}}), "k: it's\n");
  EXPECT_EQ(EmitYaml(ordered_json{{"k", "'x"}}), "k: '''x'\n");
  EXPECT_EQ(EmitYaml(ordered_json{{"k", "a\tb\x01"}}), "k: \"a\\tb\\x01\"\n");
  EXPECT_EQ(EmitYaml(ordered_json{{"on", "off"}}), "'on': 'off'\n");
}

TEST(EmitYaml, SortedJsonIsDeterministic) {
  const json doc = {{"b", 1}, {"a", {{"d", "x"}, {"c", "y"}}}};
  EXPECT_EQ(EmitYaml(doc), "a:\n  c: 'y'\n  d: x\nb: 1\n");
}

TEST(EmitJson, TwoSpaceIndentAndFinalNewline) {
  EXPECT_EQ(EmitJson(ordered_json{{"b", 1}, {"a", {1, 2}}}),
            "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}\n");
}

TEST(EmitIni, ScalarsFirstThenSections) {
  const ordered_json ini = ordered_json::parse(R"({
    "server": {"http_port": 3000, "domain": "localhost"},
    "instance_name": "x",
    "auth.anonymous": {"enabled": false, "org_role": null},
    "feature_toggles": {"enable": ["a", "b"]}
  })");
  EXPECT_EQ(EmitIni(ini),
            "instance_name = x\n"
            "\n"
            "[server]\n"
            "http_port = 3000\n"
            "domain = localhost\n"
            "\n"
            "[auth.anonymous]\n"
            "enabled = false\n"
            "org_role = \n"
            "\n"
            "[feature_toggles]\n"
            "enable = a,b\n");
}

TEST(EmitIni, RejectsWhatIniCannotHold) {
  EXPECT_THROW((void)EmitIni(ordered_json::array()), std::invalid_argument);
  EXPECT_THROW((void)EmitIni(ordered_json{{"s", {{"k", {{"deep", 1}}}}}}), std::invalid_argument);
  try {
    (void)EmitIni(ordered_json{{"s", {{"k", "a\nb"}}}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "ini: \"s.k\" holds a newline");
  }
}

}  // namespace
}  // namespace obsforge::render
