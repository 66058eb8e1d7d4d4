#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "render/embedded.h"
#include "render/jsonnet_eval.h"
#include "render/jsonnet_inline.h"

namespace obsforge::render {
namespace {

TEST(ParseJsonnetError, RuntimeErrorTakesTheFirstFrameOutsideTheProgram) {
  const auto d = ParseJsonnetError(
      "RUNTIME ERROR: boom\n\tstd.jsonnet:10:3-9\tfunction <x>\n"
      "\tstack://mixins/a/mixin.libsonnet:(3:5)-(4:9)\tobject <anonymous>\n"
      "\tmain.jsonnet:2:6-9\tobject <anonymous>\n\tDuring manifestation\t\n",
      "main.jsonnet");
  EXPECT_EQ(d.ToString(), "mixins/a/mixin.libsonnet:3:5: boom");
}

TEST(ParseJsonnetError, StaticError) {
  const auto d = ParseJsonnetError(
      "STATIC ERROR: templates/loki/main.jsonnet:2:8: unexpected: \",\" while parsing terminal\n",
      "main.jsonnet");
  EXPECT_EQ(d.file, "templates/loki/main.jsonnet");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 8);
  EXPECT_EQ(d.message, "unexpected: \",\" while parsing terminal");
}

// libjsonnet repeats names of the template in its messages; std::regex recursed once per
// character over them and overflowed the stack on a 200 KB name (one request took the server
// down). Locations with numbers beyond an int threw std::out_of_range.
TEST(ParseJsonnetError, LongMessagesAndOddLocations) {
  const std::string name(1'000'000, 'x');
  auto d = ParseJsonnetError(
      "STATIC ERROR: stack://tpl/a.jsonnet:1:14-1000014: Unknown variable: " + name + "\n",
      "main.jsonnet");
  EXPECT_EQ(d.file, "tpl/a.jsonnet");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 14);
  EXPECT_EQ(d.message, "Unknown variable: " + name);
  d = ParseJsonnetError("RUNTIME ERROR: " + name + "\n\t" + name + ":(2:3)-(4:5)\tobject\n",
                        "main.jsonnet");
  EXPECT_EQ(d.message, name);
  EXPECT_EQ(d.file, name);
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 3);
  // File names with ':' and ": ", numbers beyond an int, no location at all.
  d = ParseJsonnetError("STATIC ERROR: a: b:c.jsonnet:3:4: msg: more\n", "main.jsonnet");
  EXPECT_EQ(d.file, "a: b:c.jsonnet");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.message, "msg: more");
  d = ParseJsonnetError("STATIC ERROR: f.jsonnet:99999999999:1: msg\n", "main.jsonnet");
  EXPECT_EQ(d.line, 0);
  EXPECT_EQ(d.message, "f.jsonnet:99999999999:1: msg");
  d = ParseJsonnetError("RUNTIME ERROR: boom\n\tf.jsonnet:1:99999999999\t\n\t:1:2\t\n",
                        "main.jsonnet");
  EXPECT_EQ(d.ToString(), "boom");
}

class Evaluate : public testing::Test {
 protected:
  nlohmann::ordered_json Run(const std::string& program) {
    JsonnetInputs in{
        .content = content_.get(), .stack_templates = "own", .mixin_dirs = {"mixins/m"}};
    return EvaluateJsonnet("main.jsonnet", program, {{"x", "{a: 1}"}}, in, &reads_);
  }
  std::unique_ptr<spec::ContentSource> content_ = spec::MakeMemorySource({
      {"own/lib.libsonnet", "{ who: 'own' }"},
      {"mixins/m/mixin.libsonnet",
       "(import 'dep.libsonnet') + { rel: (import 'sub/r.libsonnet') }"},
      {"mixins/m/vendor/dep.libsonnet", "{ dep: 'vendor' }"},
      {"mixins/m/sub/r.libsonnet", "import '../../../top.libsonnet'"},
      {"top.libsonnet", "'top'"},
      {"bad.libsonnet", "{\n  a: 1 +,\n}"},
  });
  std::map<std::string, std::string> reads_;
};

TEST_F(Evaluate, ImportsResolveThroughTheSearchPath) {
  const auto out =
      Run("{ x: std.extVar('x'), own: (import 'lib.libsonnet').who, m: import "
          "'stack://mixins/m/mixin.libsonnet', top: import 'top.libsonnet' }");
  EXPECT_EQ(out["x"]["a"], 1);
  EXPECT_EQ(out["own"], "own");
  EXPECT_EQ(out["m"]["dep"], "vendor");
  EXPECT_EQ(out["m"]["rel"], "top");
  EXPECT_EQ(out["top"], "top");
  EXPECT_EQ(reads_.count("stack://mixins/m/vendor/dep.libsonnet"), 1U);
}

TEST_F(Evaluate, ImportsCannotLeaveTheirRoots) {
  EXPECT_THROW(Run("import 'stack://../etc/passwd'"), core::InputError);
  EXPECT_THROW(Run("import '/etc/passwd'"), core::InputError);
  EXPECT_THROW(Run("importstr 'templates/../../etc/passwd'"), core::InputError);
}

TEST_F(Evaluate, SyntaxErrorsInImportedFilesNameThem) {
  try {
    Run("import 'bad.libsonnet'");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.diagnostics()[0].file, "bad.libsonnet");
    EXPECT_EQ(e.diagnostics()[0].line, 2);
  }
}

TEST_F(Evaluate, ImportsAreLazyAndOnlyEvaluatedFilesAreRecorded) {
  const auto out =
      Run("local unused = import 'missing.libsonnet';\n"
          "{ a: if false then import 'bad.libsonnet' else 1, t: importstr 'top.libsonnet',\n"
          "  d: (import 'stack://mixins/m/vendor/dep.libsonnet').dep }");
  EXPECT_EQ(out["a"], 1);
  EXPECT_EQ(out["t"], "'top'");
  EXPECT_EQ(out["d"], "vendor");
  std::vector<std::string> names;
  for (const auto& [name, text] : reads_) {
    names.push_back(name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"stack://mixins/m/vendor/dep.libsonnet",
                                             "stack://top.libsonnet"}));
}

TEST_F(Evaluate, ImportCyclesBehaveAsInJsonnet) {
  content_ = spec::MakeMemorySource({
      {"a.libsonnet", "{ x: 1, y: (import 'b.libsonnet').y }"},
      {"b.libsonnet", "{ y: 2, x: (import 'a.libsonnet').x }"},
  });
  const auto out = Run("[(import 'a.libsonnet').y, (import 'b.libsonnet').x]");
  EXPECT_EQ(out, nlohmann::ordered_json::parse("[2, 1]"));
}

TEST_F(Evaluate, RuntimeErrorsInImportedFilesKeepTheirLocation) {
  content_ = spec::MakeMemorySource({
      {"lib/u.libsonnet", "// helpers\n{\n  f(x):: x.missing,\n}\n"},
  });
  try {
    Run("local u = import 'lib/u.libsonnet';\n{ v: u.f({}) }");
    FAIL();
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.diagnostics()[0].ToString(), "lib/u.libsonnet:3:10: field does not exist: missing");
  }
}

TEST_F(Evaluate, StdThisFileStillNamesTheImportedFile) {
  content_ = spec::MakeMemorySource({{"lib/f.libsonnet", "std.thisFile"}});
  EXPECT_EQ(Run("import 'lib/f.libsonnet'"), "stack://lib/f.libsonnet");
}

TEST_F(Evaluate, StringVariablesArePassedAsStrings) {
  JsonnetInputs in{.content = content_.get()};
  const auto out = EvaluateJsonnet("main.jsonnet", "std.parseJson(std.extVar('s')).k", {}, in,
                                   nullptr, {{"s", R"({"k": [1, "on"]})"}});
  EXPECT_EQ(out, nlohmann::ordered_json::parse(R"([1, "on"])"));
}

TEST_F(Evaluate, TheProgramIsHandedToJsonnetAsOneFile) {
  JsonnetInputs in{.content = content_.get(), .mixin_dirs = {"mixins/m"}};
  const auto one = InlineImports("main.jsonnet", "import 'stack://mixins/m/mixin.libsonnet'", in);
  ASSERT_TRUE(one.has_value());
  // The mixin, its vendored dependency, its relative import and what that imports: 4 files.
  EXPECT_NE(one->find("__obs_imp_3 = if __obs_mark(3) then (\n'top'\n) else null;"),
            std::string::npos)
      << *one;
  EXPECT_EQ(one->find("import '"), std::string::npos) << *one;
  EXPECT_FALSE(InlineImports("main.jsonnet", "import 'top.libsonnet' + '", in).has_value());
}

TEST(EmbeddedTemplates, CanAllBeInlined) {
  for (const auto& [path, text] : EmbeddedTemplates()) {
    if (path.ends_with("sonnet")) {
      EXPECT_TRUE(FindImports(text).has_value()) << path;
    }
  }
}

TEST(EmbeddedTemplates, HoldTheRepositoryTemplates) {
  const auto& t = EmbeddedTemplates();
  if (t.empty()) {
    GTEST_SKIP() << "templates/ is empty";
  }
  for (const auto& [path, text] : t) {
    EXPECT_FALSE(path.starts_with("/")) << path;
    EXPECT_FALSE(text.empty()) << path;
  }
}

}  // namespace
}  // namespace obsforge::render
