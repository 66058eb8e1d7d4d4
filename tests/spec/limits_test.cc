// Hostile text against the spec readers: every case is refused with an InputError that names
// the limit or the problem and where it is, never a crash, an exception of another type, or an
// allocation that grows with what aliases expand to.
#include <cmath>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "core/duration.h"
#include "spec/checks.h"
#include "spec/document.h"
#include "spec/stack.h"
#include "support/hostile_text.h"

namespace obsforge::spec {
namespace {

using nlohmann::json;
using obsforge::testing::AliasBomb;
using obsforge::testing::Repeat;
using ::testing::HasSubstr;

// The single diagnostic of the InputError that parsing `text` throws.
core::Diagnostic ErrorOf(std::string_view text, const DocumentLimits& limits = {}) {
  try {
    (void)ParseDocument(text, "f.yaml", limits);
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1U) << e.what();
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "no error for: " << text.substr(0, 200);
  return {};
}

TEST(DocumentLimitsTest, TwentyThousandNestedJsonObjectsAreRefusedAtTheLimit) {
  const std::string text = Repeat("{\"a\":", 20'000) + "1" + std::string(20'000, '}');
  const auto d = ErrorOf(text);
  EXPECT_THAT(d.message, HasSubstr("more than 128 levels"));
  EXPECT_THAT(d.message, HasSubstr("(limit max_depth)"));
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 1 + 5 * 128);  // the 129th '{'
  EXPECT_EQ(d.path, Repeat(".a", 128).substr(1));
}

TEST(DocumentLimitsTest, DeepBracketsAreRefusedInJsonAndYaml) {
  const std::string brackets = std::string(206'000, '[') + std::string(206'000, ']');
  EXPECT_THAT(ErrorOf("{\"a\": " + brackets + "}").message, HasSubstr("(limit max_depth)"));
  EXPECT_THAT(ErrorOf("a: " + brackets).message, HasSubstr("(limit max_depth)"));
  // Block nesting too.
  std::string block;
  for (int i = 0; i < 200; ++i) {
    block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  }
  const auto d = ErrorOf(block);
  EXPECT_THAT(d.message, HasSubstr("(limit max_depth)"));
  EXPECT_EQ(d.line, 129);
}

TEST(DocumentLimitsTest, NestingUpToTheLimitIsAccepted) {
  const std::string text = std::string(128, '[') + std::string(128, ']');
  EXPECT_TRUE(ParseDocument(text, "f.yaml").document.is_array());
  EXPECT_TRUE(ParseJsonDocument(text, "f.json").document.is_array());
  EXPECT_THAT(ErrorOf("[" + text + "]").message, HasSubstr("(limit max_depth)"));
}

TEST(DocumentLimitsTest, YamlAliasBombIsStoppedByCountingNodes) {
  const std::string bomb = AliasBomb();
  EXPECT_LT(bomb.size(), 500U);
  const auto d = ErrorOf(bomb);
  EXPECT_THAT(d.message, HasSubstr("more than 250000 values"));
  EXPECT_THAT(d.message, HasSubstr("(limit max_nodes)"));
  EXPECT_GT(d.line, 1);
  EXPECT_FALSE(d.path.empty());
  // The same through the ordered reader the {spec, files} wrapper uses.
  EXPECT_THROW((void)ParseOrderedDocument(bomb, "f.yaml"), core::InputError);
}

TEST(DocumentLimitsTest, AnAliasCountsAsDeepAsWhatItRepeats) {
  std::string text = "a: &a " + std::string(100, '[') + std::string(100, ']') + "\n";
  text += "b: " + std::string(40, '[') + "*a" + std::string(40, ']') + "\n";
  const auto d = ErrorOf(text);
  EXPECT_THAT(d.message, HasSubstr("(limit max_depth)"));
  EXPECT_EQ(d.line, 2);
}

TEST(DocumentLimitsTest, AliasesOfLongStringsCountTheirBytes) {
  std::string text =
      "a: &a \"" + std::string(1U << 20U, 'x') + "\"\nb: [" + Repeat("*a, ", 70) + "*a]\n";
  const auto d = ErrorOf(text);
  EXPECT_THAT(d.message, HasSubstr("more than 64 MiB"));
  EXPECT_THAT(d.message, HasSubstr("(limit max_total_bytes)"));
  EXPECT_EQ(d.line, 2);
}

TEST(DocumentLimitsTest, AliasInsideItsOwnAnchorIsRefused) {
  EXPECT_THAT(ErrorOf("a: &a [1, *a]\n").message, HasSubstr("alias of a node that contains it"));
  EXPECT_THAT(ErrorOf("a: *nope\n").message, HasSubstr("invalid YAML"));
}

TEST(DocumentLimitsTest, ManyValuesAreRefusedAtTheNodeLimit) {
  const std::string flow = "[" + Repeat("1,", 300'000) + "1]";
  EXPECT_THAT(ErrorOf(flow).message, HasSubstr("(limit max_nodes)"));
  EXPECT_THAT(ErrorOf("{\"a\": " + flow + "}").message, HasSubstr("(limit max_nodes)"));
}

// yaml-cpp held every token of a flow collection that may be a key (~100 bytes each) before the
// first value reached the reader: a 16 MB body held 2 GB. Counted before yaml-cpp reads the text.
TEST(DocumentLimitsTest, FlowCollectionsAreCountedBeforeYamlCppHoldsThem) {
  const DocumentLimits small{.max_nodes = 1000};
  const std::string too_many = "a flow collection of more than 2000 tokens";
  const auto d = ErrorOf("# a comment [,,,]\n[" + Repeat("1,", 2000) + "1]\n", small);
  EXPECT_THAT(d.message, HasSubstr(too_many + ", two for each value (limit max_nodes)"));
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 1);
  EXPECT_THAT(ErrorOf("a: {" + Repeat("k: [1, 2],", 600) + "}", small).message,
              HasSubstr(too_many));
  // Tokens without commas, after an anchor or a tag, after a comment in the first column.
  EXPECT_THAT(ErrorOf("[" + Repeat("{}", 1100) + "]", small).message, HasSubstr(too_many));
  EXPECT_THAT(ErrorOf("[" + Repeat("\"x\" ", 2100) + "]", small).message, HasSubstr(too_many));
  EXPECT_THAT(ErrorOf("&a [" + Repeat("1,", 2000) + "1]", small).message, HasSubstr(too_many));
  EXPECT_THAT(ErrorOf("- !!seq [" + Repeat("1,", 2000) + "1]", small).message, HasSubstr(too_many));
  EXPECT_THAT(ErrorOf("x: 1\n#- \"\n[" + Repeat("1,", 2000) + "1]", small).message,
              HasSubstr(too_many));
  // Nesting: 16 MB of `[` held 2 GB before the first value reached the reader.
  const auto deep = ErrorOf("a: " + std::string(200, '[') + std::string(200, ']'));
  EXPECT_THAT(deep.message, HasSubstr("more than 128 levels of maps and lists (limit max_depth)"));
  EXPECT_EQ(deep.line, 1);
  EXPECT_EQ(deep.column, 4 + 128);
  // A flow collection with as many values as the node limit allows is read.
  EXPECT_EQ(ParseDocument("[" + Repeat("1, ", 998) + "1]", "f.yaml", small).document.size(), 999U);
  // Commas in quoted and block scalars, comments and plain scalars are not values of a flow.
  const std::string commas = Repeat(",", 3000);
  const std::string text = "a: \"[" + commas + "\"\nb: '[" + commas + "'\nc: |\n  [" + commas +
                           "\n  " + commas + "\nd: x" + commas + "\ne: [1, 2] # [" + commas +
                           "\nf: >-\n\n   {" + commas + "\ng: 'it''s [" + commas + "'\n";
  const auto parsed = ParseDocument(text, "f.yaml", small);
  EXPECT_EQ(parsed.document["c"], "[" + commas + "\n" + commas + "\n");
  EXPECT_EQ(parsed.document["e"], json::array({1, 2}));
  EXPECT_EQ(parsed.document["g"], "it's [" + commas);
}

TEST(DocumentLimitsTest, StringAndKeyLengthLimits) {
  // A 1 MB file's content is a normal value.
  const std::string big(1U << 20U, 'x');
  EXPECT_EQ(ParseDocument("a: \"" + big + "\"\n", "f.yaml").document["a"], big);
  EXPECT_EQ(ParseJsonDocument("{\"a\": \"" + big + "\"}", "f.json").document["a"], big);

  const DocumentLimits small{.max_string_bytes = 10, .max_key_bytes = 4};
  auto d = ErrorOf("k:\n  v: \"01234567890\"\n", small);
  EXPECT_EQ(d.message, "string is too long: 11 bytes, more than 10 bytes (limit max_string_bytes)");
  EXPECT_EQ(d.path, "k.v");
  EXPECT_EQ(d.line, 2);
  d = ErrorOf("k:\n  p: 01234567890x\n", small);
  EXPECT_THAT(d.message, HasSubstr("(limit max_string_bytes)"));
  d = ErrorOf("{\"k\": {\"v\": \"01234567890\"}}", small);
  EXPECT_THAT(d.message, HasSubstr("(limit max_string_bytes)"));
  EXPECT_EQ(d.path, "k.v");
  d = ErrorOf("k:\n  abcde: 1\n", small);
  EXPECT_EQ(d.message, "key is too long: 5 bytes, more than 4 bytes (limit max_key_bytes)");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 3);

  // The default key limit is 1 KiB (YAML's own limit for implicit keys).
  const std::string long_key(1025, 'k');
  EXPECT_THAT(ErrorOf("{\"" + long_key + "\": 1}").message, HasSubstr("(limit max_key_bytes)"));
  EXPECT_THAT(ErrorOf("? " + long_key + "\n: 1\n").message, HasSubstr("(limit max_key_bytes)"));
}

TEST(DocumentLimitsTest, NumbersBeyondADoubleAreRefusedWithTheirPlace) {
  for (const std::string& value : std::vector<std::string>{
           "1e999", "-1e999", ".inf", "-.Inf", ".nan", "1" + std::string(400, '0'),
           "0x" + std::string(300, 'f'), "!!float 1e400"}) {
    const auto d = ErrorOf("spec:\n  values:\n    x: " + value + "\n");
    EXPECT_THAT(d.message, HasSubstr("number out of range")) << value;
    EXPECT_EQ(d.path, "spec.values.x") << value;
    EXPECT_EQ(d.line, 3) << value;
    EXPECT_EQ(d.column, 8) << value;
  }
  const auto d = ErrorOf("{\"revision\": 1e999}");
  EXPECT_THAT(d.message, HasSubstr("number out of range: \"1e999\""));
  EXPECT_EQ(d.path, "revision");
  EXPECT_EQ(d.column, 14);
  EXPECT_THAT(ErrorOf("{\"a\": [1, -1E+999]}").message, HasSubstr("number out of range"));

  // Quoted, they are text; below the range they are 0; beyond 64 bits a double.
  EXPECT_EQ(ParseDocument("x: \"1e999\"\n", "f.yaml").document["x"], "1e999");
  EXPECT_EQ(ParseDocument("x: 1e-999\n", "f.yaml").document["x"], 0.0);
  EXPECT_EQ(ParseDocument("{\"x\": 1e-999}", "f.json").document["x"], 0.0);
  EXPECT_EQ(ParseDocument("x: 123456789012345678901234567890\n", "f.yaml").document["x"],
            1.2345678901234568e29);
  EXPECT_EQ(TypePlainScalar("1e999").get<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(TypePlainScalar("-1e-999").get<double>(), 0.0);
}

TEST(DocumentLimitsTest, LongNumberLikeScalarsAreLinearAndStayText) {
  // std::regex recursed once per character here and overflowed the stack.
  const std::string digits(2'000'000, '1');
  EXPECT_EQ(TypePlainScalar(digits + "x"), json(digits + "x"));
  EXPECT_EQ(TypePlainScalar("-" + digits + ".5e"), json("-" + digits + ".5e"));
  EXPECT_TRUE(TypePlainScalar(digits + ".5").is_number_float());
}

TEST(DocumentLimitsTest, InvalidUtf8IsRefusedWithItsPosition) {
  auto d = ErrorOf("metadata:\n  annotations:\n    note: \"caf\xC3\"\n");
  EXPECT_THAT(d.message, HasSubstr("invalid UTF-8: byte 0xc3"));
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 15);
  d = ErrorOf("metadata: {name: \"sh\xFFop\"}\n");
  EXPECT_THAT(d.message, HasSubstr("invalid UTF-8: byte 0xff"));
  EXPECT_EQ(d.column, 21);
  // Overlong, surrogate and beyond U+10FFFF encodings; a key; JSON.
  for (const std::string bad : {"\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                "\xF8\x88\x80\x80\x80", "\x80", "\xE2\x82"}) {
    EXPECT_THAT(ErrorOf("a: \"" + bad + "\"\n").message, HasSubstr("invalid UTF-8"));
    EXPECT_THAT(ErrorOf("k" + bad + ": 1\n").message, HasSubstr("invalid UTF-8"));
    EXPECT_THAT(ErrorOf("{\"a\": \"" + bad + "\"}").message, HasSubstr("invalid UTF-8"));
  }
  // Escapes that decode to a lone surrogate.
  EXPECT_THAT(ErrorOf("a: \"\\ud800\"\n").message, HasSubstr("invalid"));
  EXPECT_THAT(ErrorOf("{\"a\": \"\\udc00\"}").message, HasSubstr("invalid JSON"));
  // Valid UTF-8 of every length passes.
  EXPECT_EQ(ParseDocument("a: \"é€😀\"\n", "f.yaml").document["a"], "é€😀");
}

TEST(DocumentLimitsTest, FindInvalidUtf8) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("\xEF\xBB\xBFok \xF0\x9F\x98\x80"), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("ab\xC3"), 2U);
  EXPECT_EQ(FindInvalidUtf8("ab\xC3x"), 2U);
  EXPECT_EQ(FindInvalidUtf8("\xF4\x8F\xBF\xBF"), std::nullopt);  // U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0U);
  EXPECT_EQ(FindInvalidUtf8("\xED\x9F\xBF"), std::nullopt);  // U+D7FF
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0U);            // U+D800
  EXPECT_EQ(FindInvalidUtf8(std::string_view("a\0b", 3)), std::nullopt);
}

TEST(DocumentLimitsTest, LineIndexAgreesWithPositionOfOffset) {
  std::mt19937 random(7);
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += random() % 5 == 0 ? '\n' : 'x';
  }
  const LineIndex index(text);
  for (std::size_t offset = 0; offset <= text.size() + 2; ++offset) {
    ASSERT_EQ(index.At(offset), PositionOfOffset(text, offset)) << offset;
  }
  EXPECT_EQ(LineIndex("").At(0), (Position{1, 1}));
}

TEST(DocumentLimitsTest, PositionsInALargeJsonDocumentAreExact) {
  // The scanner looks every position up in one index: the last value of a 200 KB text.
  std::string text = "{\n";
  for (int i = 0; i < 10'000; ++i) {
    text += "  \"k" + std::to_string(i) + "\": [1, 2],\n";
  }
  text += "  \"last\": \"x\"\n}\n";
  const auto parsed = ParseJsonDocument(text, "f.json");
  EXPECT_EQ(parsed.positions.Value("last"), (Position{10'002, 11}));
  EXPECT_EQ(parsed.positions.Key("k9999"), (Position{10'001, 3}));
  EXPECT_EQ(parsed.positions.Value("k9999[1]"), (Position{10'001, 16}));
}

TEST(DocumentLimitsTest, JsonScannerAgreesWithNlohmann) {
  for (const std::string text :
       {"{}", "[]", "{\"a\":{\"b\":[1,-2.5e+3,true,false,null,\"\\u00e9\\ud83d\\ude00\\n\"]}}",
        "\xEF\xBB\xBF{\"bom\": 1}", " \t\r\n{\"a\" : 1 , \"b\" :[ ] }\n", "{\"\": \"\"}",
        "{\"a\":0}", "{\"a\":-0.0e-0}", "{\"a\":\"\\/\\b\\f\\r\\t\\\\\\\"\"}",
        "{\"big\": 18446744073709551615, \"bigger\": 184467440737095516150}"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ParseJsonDocument(text, "f.json").document, json::parse(text));
    const auto ordered = ParseOrderedDocument(text, "f.json");
    EXPECT_EQ(ordered.dump(), nlohmann::ordered_json::parse(text).dump());
  }
  for (const std::string text :
       {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "[01]", "{\"a\":tru}",
        "{\"a\":1} x", "[\"\\x\"]", "[\"a\nb\"]", "NaN", "{\"a\":1e}", "\xEF\xBB\xBF"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(json::accept(text));
    try {
      (void)ParseJsonDocument(text, "f.json");
      ADD_FAILURE() << "accepted";
    } catch (const core::InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("invalid JSON"));
    }
  }
  // nlohmann stops at a NUL byte and accepts what came before it; the reader refuses the text
  // (found by spec_json_fuzzer: "1.5e-3\0\0\0\vQ" read as 0.0015).
  for (const std::string& text : {std::string("1.5e-3\0\0\0\vQ", 11),
                                  std::string("{\"a\": 2}\0", 9), std::string("[1,\0 2]", 7)}) {
    SCOPED_TRACE(::testing::PrintToString(text));
    try {
      (void)ParseJsonDocument(text, "f.json");
      ADD_FAILURE() << "accepted";
    } catch (const core::InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("invalid JSON: a NUL byte"));
    }
  }
  // A BOM does not let a deep text past the scanner.
  EXPECT_THAT(ErrorOf("\xEF\xBB\xBF" + std::string(1000, '[') + std::string(1000, ']')).message,
              HasSubstr("(limit max_depth)"));
}

TEST(DocumentLimitsTest, DuplicateKeysAreFoundThroughEscapes) {
  const auto d = ErrorOf("{\"a\": 1,\n \"\\u0061\": 2}");
  EXPECT_EQ(d.message, "duplicate key \"a\" (first defined at line 1)");
  EXPECT_EQ(d.line, 2);
}

TEST(DocumentLimitsTest, OrderedDocumentKeepsOrderAndTypes) {
  const auto doc = ParseOrderedDocument("b: 1\na: [x, \"2\", 3.5]\nc: {z: 1, y: null}\n", "f.yaml");
  EXPECT_EQ(doc.dump(), R"({"b":1,"a":["x","2",3.5],"c":{"z":1,"y":null}})");
  const auto from_json = ParseOrderedDocument("{\"b\": 1, \"a\": {\"d\": 1, \"c\": 2}}", "f.json");
  EXPECT_EQ(from_json.dump(), R"({"b":1,"a":{"d":1,"c":2}})");
  EXPECT_THROW((void)ParseOrderedDocument("a: 1\na: 2\n", "f.yaml"), core::InputError);
}

TEST(DocumentLimitsTest, NonStringKeysAreRefusedWherever) {
  EXPECT_THAT(ErrorOf("? [a]\n: 1\n").message, HasSubstr("map keys must be strings"));
  EXPECT_THAT(ErrorOf("? {a: 1}\n: 1\n").message, HasSubstr("map keys must be strings"));
  EXPECT_THAT(ErrorOf("a: &k x\n*k : 1\n").message, HasSubstr("map keys must be strings"));
}

TEST(DocumentLimitsTest, SpecWithTheBombOrAnInfinityIsAnInputError) {
  const auto content = MakeMemorySource({});
  EXPECT_THROW((void)ParseStack(AliasBomb(), "bomb.yaml", *content), core::InputError);
  EXPECT_THROW((void)ParseStack("apiVersion: obsforge/v1\nkind: Stack\nmetadata: {name: x}\n"
                                "spec: {values: {x: 1e999}}\n",
                                "inf.yaml", *content),
               core::InputError);
}

// Found by fuzz/duration_fuzzer: a 12-digit count of years overflowed the renderer's own
// duration parser (undefined behaviour). Specs and rule files now share core::ParseDuration.
TEST(DocumentLimitsTest, DurationsStayWithinWhatPrometheusTakes) {
  EXPECT_EQ(core::ParseDuration("292y"), std::chrono::milliseconds(292LL * 365 * 86'400'000));
  EXPECT_EQ(core::ParseDuration("1h30m15s250ms"), std::chrono::milliseconds(5'415'250));
  EXPECT_TRUE(IsDuration("0"));
  for (const char* beyond :
       {"293y", "999999999999y", "9223372036854775807ms", "99999999999999999999999s", "292y52w"}) {
    EXPECT_FALSE(IsDuration(beyond)) << beyond;
    EXPECT_EQ(core::ParseDuration(beyond), std::nullopt) << beyond;
  }
}

// std::regex recursed once per repeated character: each of these overflowed the stack (and took
// the server down) on a value of about 100 KB.
TEST(DocumentLimitsTest, ChecksAreLinearOnLongValues) {
  const std::string digits(1'000'000, '1');
  const std::string letters(1'000'000, 'a');
  EXPECT_FALSE(IsDuration(digits + "s"));
  EXPECT_FALSE(IsName(letters));
  EXPECT_TRUE(IsHostPort(letters + ":80"));
  EXPECT_TRUE(IsSize(digits + "MiB"));
  EXPECT_TRUE(IsHttpUrl("http://" + letters + "/" + letters));
  EXPECT_TRUE(LooksLikeCredential("xoxb-" + letters));
  EXPECT_TRUE(LooksLikeCredential("https://user:" + letters + "@host"));
  EXPECT_FALSE(LooksLikeCredential(letters + "://" + letters));
  EXPECT_FALSE(LooksLikeCredential(std::string(100'000, ':') + "//"));
}

TEST(DocumentLimitsTest, SuggestionsStayCheapForLongWords) {
  // 10,000 candidates of 1 KiB against a 16 KiB word: the product of the lengths each time.
  std::vector<std::string> candidates;
  for (int i = 0; i < 10'000; ++i) {
    candidates.push_back(std::string(1024, 'a') + std::to_string(i));
  }
  EXPECT_EQ(Suggest(std::string(16384, 'a'), candidates), std::nullopt);
  EXPECT_EQ(Suggest("prdo", {"dev", "prod", "staging"}), "prod");
  EXPECT_EQ(Suggest("stag", {"dev", "prod", "staging"}), "staging");
}

TEST(DocumentLimitsTest, CredentialPatternsAsBefore) {
  EXPECT_TRUE(LooksLikeCredential("see 9a://u:p@h"));
  EXPECT_TRUE(LooksLikeCredential("x,xoxp--"));
  EXPECT_FALSE(LooksLikeCredential("axoxb-123"));
  EXPECT_FALSE(LooksLikeCredential("xoxb-"));
  EXPECT_FALSE(LooksLikeCredential("https://user@host"));
  EXPECT_FALSE(LooksLikeCredential("https://:@host"));
  EXPECT_FALSE(LooksLikeCredential("https://u:p@ host"));
  EXPECT_FALSE(LooksLikeCredential("1://u:p@host"));
  EXPECT_TRUE(LooksLikeCredential("https://u:p:q@host"));
  EXPECT_FALSE(LooksLikeCredential("https://u/x:p@host"));
}

}  // namespace
}  // namespace obsforge::spec
