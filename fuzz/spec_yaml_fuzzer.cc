// The spec reader (YAML, and JSON for text that starts with `{`): any text is a document or an
// InputError, and a document is one the rest of obsforge can serialise (valid UTF-8, finite
// numbers, bounded). The ordered flavour is exercised by spec_body_fuzzer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/diagnostic.h"
#include "fuzz_check.h"
#include "spec/document.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto parsed = obsforge::spec::ParseDocument(text, "fuzz.yaml", obsforge::fuzz::kLimits);
    obsforge::fuzz::CheckSerialisable(parsed.document);
    for (const auto& [path, position] : parsed.positions.values) {
      FUZZ_CHECK(position.line >= 0 && position.column >= 0);
    }
  } catch (const obsforge::core::InputError& e) {
    FUZZ_CHECK(!e.diagnostics().empty());
  }
  // Plain scalars are typed in linear time, whatever they hold.
  (void)obsforge::spec::TypePlainScalar(text);
  return 0;
}
