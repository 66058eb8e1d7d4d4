#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include "render/embedded.h"
#include "render/jsonnet_eval.h"

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
