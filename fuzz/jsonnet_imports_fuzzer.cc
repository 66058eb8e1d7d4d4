// The Jsonnet import scanner that inlines templates' imports: any text is either scanned into
// ordered, non-overlapping import sites inside the text, or declared unscannable. The same text
// read as a libjsonnet error message (it repeats what templates hold) gives a diagnostic.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "render/jsonnet_eval.h"
#include "render/jsonnet_inline.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto sites = obsforge::render::FindImports(text)) {
    std::size_t previous_end = 0;
    for (const auto& site : *sites) {
      FUZZ_CHECK(site.begin >= previous_end);
      FUZZ_CHECK(site.begin < site.end);
      FUZZ_CHECK(site.end <= text.size());
      FUZZ_CHECK(text.substr(site.begin, 6) == "import");
      previous_end = site.end;
    }
  }
  const std::string base = obsforge::render::ImportBase(text);
  FUZZ_CHECK(base.size() <= text.size());
  FUZZ_CHECK(base.empty() || base.back() == '/');

  const auto diagnostic = obsforge::render::ParseJsonnetError(std::string(text), "main.jsonnet");
  FUZZ_CHECK(diagnostic.line >= 0 && diagnostic.column >= 0);
  FUZZ_CHECK(diagnostic.message.size() <= text.size() + 32);
  return 0;
}
