#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "spec/document.h"
#include "spec/stack.h"

namespace obsforge::spec {
namespace {

using nlohmann::json;

const std::string kTestData = std::string(OBS_SOURCE_DIR) + "/tests/spec/testdata";

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ErrorOf(std::string_view text) {
  try {
    (void)ParseDocument(text, "f.yaml");
  } catch (const core::InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ScalarTypingTest, CoreSchemaPlainScalars) {
  for (const char* null : {"", "~", "null", "Null", "NULL"}) {
    EXPECT_TRUE(TypePlainScalar(null).is_null()) << null;
  }
  for (const char* t : {"true", "True", "TRUE"}) {
    EXPECT_EQ(TypePlainScalar(t), json(true)) << t;
  }
  for (const char* f : {"false", "False", "FALSE"}) {
    EXPECT_EQ(TypePlainScalar(f), json(false)) << f;
  }
  EXPECT_EQ(TypePlainScalar("42"), json(42));
  EXPECT_EQ(TypePlainScalar("-7"), json(-7));
  EXPECT_EQ(TypePlainScalar("+7"), json(7));
  EXPECT_EQ(TypePlainScalar("0x1F"), json(31));
  EXPECT_EQ(TypePlainScalar("0o17"), json(15));
  EXPECT_EQ(TypePlainScalar("18446744073709551615"), json(18446744073709551615ULL));
  EXPECT_EQ(TypePlainScalar("1.5"), json(1.5));
  EXPECT_EQ(TypePlainScalar("1e3"), json(1000.0));
  EXPECT_EQ(TypePlainScalar(".5"), json(0.5));
  EXPECT_EQ(TypePlainScalar("-2.5E-1"), json(-0.25));
  EXPECT_TRUE(std::isinf(TypePlainScalar(".inf").get<double>()));
  EXPECT_LT(TypePlainScalar("-.Inf").get<double>(), 0);
  EXPECT_TRUE(std::isnan(TypePlainScalar(".NaN").get<double>()));
  // Nothing recurses per digit; beyond double's range a number is infinite, which the reader
  // refuses as not finite (DocumentLimitsTest).
  const std::string digits(200000, '7');
  EXPECT_TRUE(std::isinf(TypePlainScalar(digits).get<double>()));
  EXPECT_EQ(TypePlainScalar("1." + digits), json(1.7777777777777777));
  // YAML 1.1 booleans and things that only look numeric stay strings.
  for (const char* s :
       {"yes", "no", "on", "off", "y", "15s", "2.42.1", "0x", "0o9", "1_000", "nulls", "1e", "."}) {
    EXPECT_EQ(TypePlainScalar(s), json(s)) << s;
  }
}

TEST(ParseDocumentTest, QuotedScalarsAreStringsAndTagsAreHonoured) {
  const auto doc = ParseDocument(
                       "a: \"42\"\nb: 'true'\nc: \"null\"\nd: !!str 5\ne: !!float 3\nf: 42\n"
                       "g:\nh: !!int 0x10\n",
                       "f.yaml")
                       .document;
  EXPECT_EQ(doc, json({{"a", "42"},
                       {"b", "true"},
                       {"c", "null"},
                       {"d", "5"},
                       {"e", 3.0},
                       {"f", 42},
                       {"g", nullptr},
                       {"h", 16}}));
  EXPECT_TRUE(doc["e"].is_number_float());
}

TEST(ParseDocumentTest, PositionsOfValuesAndKeys) {
  const auto parsed = ParseDocument(
      "spec:\n  components:\n    prometheus:\n      scrape:\n        - job: api\n"
      "          targets: [\"a:1\", \"b:2\"]\n  empty:\n",
      "f.yaml");
  const auto& pos = parsed.positions;
  EXPECT_EQ(pos.Value("spec.components.prometheus.scrape[0].targets[1]"), (Position{6, 28}));
  EXPECT_EQ(pos.Key("spec.components.prometheus.scrape[0].targets"), (Position{6, 11}));
  EXPECT_EQ(pos.Value("spec.components.prometheus.scrape[0]"), (Position{5, 11}));
  // An empty value points at its key, not at whatever token follows.
  EXPECT_EQ(pos.Value("spec.empty"), (Position{7, 3}));
  // Unknown paths fall back to the nearest ancestor.
  EXPECT_EQ(pos.Value("spec.components.prometheus.scrape[0].targets[9]"), (Position{6, 20}));
  EXPECT_EQ(pos.Value("nowhere"), (Position{1, 1}));
}

TEST(ParseDocumentTest, KeysThatAreNotIdentifiersAreQuotedInPaths) {
  EXPECT_EQ(ChildPath("metadata.labels", "app.kubernetes.io/name"),
            "metadata.labels[\"app.kubernetes.io/name\"]");
  EXPECT_EQ(ChildPath("", "spec"), "spec");
  EXPECT_EQ(ChildPath("a", "say \"hi\""), "a[\"say \\\"hi\\\"\"]");
  const auto parsed = ParseDocument("labels:\n  a.b/c: x\n", "f.yaml");
  EXPECT_EQ(parsed.positions.Value("labels[\"a.b/c\"]"), (Position{2, 10}));
  EXPECT_EQ(parsed.positions.Value("labels[\"a.b/c\"][3]"), (Position{2, 10}));
}

TEST(ParseDocumentTest, RejectsWhatIsNotAPlainTree) {
  EXPECT_EQ(ErrorOf("a: 1\nb: 2\na: 3\n"),
            "f.yaml:3:1: a: duplicate key \"a\" (first defined at line 1)");
  EXPECT_EQ(ErrorOf("? [a, b]\n: 1\n"), "f.yaml:1:3: map keys must be strings");
  EXPECT_EQ(ErrorOf("a: !!int x\n"), "f.yaml:1:4: a: \"x\" is not a valid !!int");
  EXPECT_EQ(ErrorOf("a: [1, 2\n"), "f.yaml:2:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(ErrorOf("a: 1\n---\nb: 2\n"), "f.yaml:3:1: expected one document, found 2");
}

TEST(ParseDocumentTest, AliasesExpandButBombsAreStopped) {
  EXPECT_EQ(ParseDocument("a: &x {k: 1}\nb: *x\n", "f.yaml").document,
            json({{"a", {{"k", 1}}}, {"b", {{"k", 1}}}}));
  // Each level doubles the tree: 2^25 nodes from a few hundred bytes.
  std::string bomb = "l0: &l0 [x, x]\n";
  for (int i = 1; i <= 25; ++i) {
    bomb += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [*l" + std::to_string(i - 1) +
            ", *l" + std::to_string(i - 1) + "]\n";
  }
  EXPECT_NE(ErrorOf(bomb).find("document is too large"), std::string::npos);
  std::string deep = "a: ";
  for (int i = 0; i < 200; ++i) {
    deep += "[";
  }
  deep += std::string(200, ']') + "\n";
  EXPECT_NE(ErrorOf(deep).find("nested too deeply"), std::string::npos);
}

TEST(ParseDocumentTest, EmptyTextIsANullDocument) {
  EXPECT_TRUE(ParseDocument("", "f.yaml").document.is_null());
  EXPECT_TRUE(ParseDocument("# only a comment\n", "f.yaml").document.is_null());
}

TEST(ParseDocumentTest, JsonGoesThroughYamlWithPositions) {
  const auto parsed = ParseDocument("{\"a\": {\"b\": [1, \"x\", null, true, 1.5]}}", "f.json");
  EXPECT_EQ(parsed.document, json::parse(R"({"a": {"b": [1, "x", null, true, 1.5]}})"));
  EXPECT_EQ(parsed.positions.Value("a.b[1]"), (Position{1, 17}));
  EXPECT_EQ(parsed.positions.Key("a.b"), (Position{1, 8}));
}

TEST(ParseDocumentTest, JsonThatYamlRefusesFallsBackToNlohmann) {
  // A surrogate pair and a key followed by a newline before ':' are valid JSON yaml-cpp refuses.
  const std::string text =
      "{\n  \"a\"\n  : {\"emoji\": \"\\ud83d\\ude00\", \"list\": [1, {\"k\": 2}]}\n}\n";
  const auto parsed = ParseDocument(text, "f.json");
  EXPECT_EQ(parsed.document, json::parse(text));
  EXPECT_EQ(parsed.positions.Key("a"), (Position{2, 3}));
  EXPECT_EQ(parsed.positions.Value("a"), (Position{3, 5}));
  EXPECT_EQ(parsed.positions.Value("a.list[1].k"), (Position{3, 49}));
  try {
    (void)ParseJsonDocument("{\"a\": 1,\n \"a\": 2}", "f.json");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_STREQ(e.what(), "f.json:2:2: a: duplicate key \"a\" (first defined at line 1)");
  }
}

TEST(ParseDocumentTest, PositionOfOffset) {
  EXPECT_EQ(PositionOfOffset("ab\ncd", 0), (Position{1, 1}));
  EXPECT_EQ(PositionOfOffset("ab\ncd", 3), (Position{2, 1}));
  EXPECT_EQ(PositionOfOffset("ab\ncd", 4), (Position{2, 2}));
}

TEST(ParseStackTest, YamlAndJsonGiveTheSameDocument) {
  const auto content = MakeDirectorySource(kTestData + "/root");
  const auto from_yaml =
      ParseStack(ReadTestFile(kTestData + "/good/full.yaml"), "full.yaml", *content);
  const auto from_json =
      ParseStack(ReadTestFile(kTestData + "/good/full.json"), "full.json", *content);
  EXPECT_EQ(from_yaml.document, from_json.document);
  EXPECT_EQ(from_yaml.Hash(), from_json.Hash());
  EXPECT_EQ(from_yaml.name, "tokpulse");
  EXPECT_EQ(from_yaml.file, "full.yaml");
  // Document order, not key order.
  EXPECT_EQ(from_yaml.environments, (std::vector<std::string>{"prod", "dev"}));
  EXPECT_EQ(from_yaml.document["spec"]["values"]["replicas"], json(2));
  EXPECT_EQ(from_yaml.document["spec"]["values"]["quoted_number"], json("42"));
}

TEST(ParseStackTest, HashIsSha256OfCanonicalJson) {
  const auto content = MakeMemorySource({});
  const auto a = ParseStack("apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\nspec: {}\n",
                            "a.yaml", *content);
  const auto b = ParseStack(
      "{\"spec\": {}, \"metadata\": {\"name\": \"x\"}, \"kind\": \"Stack\", \"apiVersion\": "
      "\"obsforge/v1\"}",
      "b.json", *content);
  EXPECT_EQ(a.Hash(), b.Hash());
  EXPECT_EQ(a.Hash().size(), 64U);
  EXPECT_EQ(a.environments, (std::vector<std::string>{"default"}));
  const auto c = ParseStack("apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: y}\nspec: {}\n",
                            "c.yaml", *content);
  EXPECT_NE(a.Hash(), c.Hash());
}

TEST(LoadStackFileTest, MissingFileIsAnInputError) {
  const auto content = MakeMemorySource({});
  try {
    (void)LoadStackFile("/nonexistent/obsforge/stack.yaml", *content);
    FAIL();
  } catch (const core::InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1U);
    EXPECT_EQ(e.diagnostics()[0].file, "/nonexistent/obsforge/stack.yaml");
    EXPECT_TRUE(e.diagnostics()[0].message.starts_with("cannot read the spec: "));
  }
}

TEST(LoadStackFileTest, LoadsAndNamesTheFile) {
  const auto content = MakeDirectorySource(kTestData + "/root");
  const auto stack = LoadStackFile(kTestData + "/good/full.yaml", *content);
  EXPECT_EQ(stack.file, kTestData + "/good/full.yaml");
  EXPECT_EQ(stack.name, "tokpulse");
}

}  // namespace
}  // namespace obsforge::spec
