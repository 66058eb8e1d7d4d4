#include "render/jsonnet_inline.h"

#include <gtest/gtest.h>

namespace obsforge::render {
namespace {

std::vector<std::string> Paths(std::string_view text) {
  const auto sites = FindImports(text);
  if (!sites) {
    return {"<nullopt>"};
  }
  std::vector<std::string> out;
  for (const auto& s : *sites) {
    out.push_back((s.is_string ? "str:" : "") + s.path + "@" + std::to_string(s.begin) + "-" +
                  std::to_string(s.end));
  }
  return out;
}

TEST(FindImports, FindsImportsAndImportstrWithTheirSpans) {
  EXPECT_EQ(Paths("local u = import '../lib/u.libsonnet';\n{ t: importstr \"a.txt\" }"),
            (std::vector<std::string>{"../lib/u.libsonnet@10-37", "str:a.txt@44-61"}));
  EXPECT_EQ(Paths("import /* why */ @'x''y'"), (std::vector<std::string>{"x'y@0-24"}));
  EXPECT_EQ(Paths("import\n  # c\n  'x\\/y'"), (std::vector<std::string>{"x/y@0-21"}));
}

TEST(FindImports, IgnoresImportsInsideStringsCommentsAndTextBlocks) {
  const std::string text =
      "// import 'a'\n"
      "# import 'b'\n"
      "/* import 'c' */\n"
      "{ s: \"import 'd' \\\" import 'e'\", v: @'import ''f''',\n"
      "  t: |||\n"
      "    import 'g'\n"
      "\n"
      "      import 'h'\n"
      "  |||,\n"
      "  importer: 1, myimport: 2, n: 1e+3,\n"
      "  real: import 'z' }";
  EXPECT_EQ(Paths(text), (std::vector<std::string>{"z@191-201"}));
}

TEST(FindImports, GivesUpOnWhatItCannotScan) {
  EXPECT_EQ(Paths("{ a: 'unterminated }"), (std::vector<std::string>{"<nullopt>"}));
  EXPECT_EQ(Paths("/* open comment"), (std::vector<std::string>{"<nullopt>"}));
  EXPECT_EQ(Paths("import 'a' + 'b'"), (std::vector<std::string>{"a@0-10"}));
  EXPECT_EQ(Paths("import ('a')"), (std::vector<std::string>{"<nullopt>"}));
  EXPECT_EQ(Paths("import 'a\\u0041'"), (std::vector<std::string>{"<nullopt>"}));
  EXPECT_EQ(Paths("importbin 'a'"), (std::vector<std::string>{"<nullopt>"}));
  EXPECT_EQ(Paths("{ f: std.thisFile }"), (std::vector<std::string>{"<nullopt>"}));
  EXPECT_EQ(Paths("|||\nno indent\n|||"), (std::vector<std::string>{"<nullopt>"}));
}

TEST(ImportBase, IsTheDirectoryWithItsSlash) {
  EXPECT_EQ(ImportBase("templates/prometheus/main.jsonnet"), "templates/prometheus/");
  EXPECT_EQ(ImportBase("stack://x.libsonnet"), "stack://");
  EXPECT_EQ(ImportBase("obsforge-render.jsonnet"), "");
}

}  // namespace
}  // namespace obsforge::render
