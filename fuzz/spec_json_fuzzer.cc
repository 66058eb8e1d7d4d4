// The spec reader's JSON path, against nlohmann_json itself: whatever nlohmann accepts, the reader
// accepts with the same value or refuses for a reason of its own (a limit, a duplicate key, a
// number beyond a double), never as a syntax error; whatever the reader accepts, nlohmann does.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/diagnostic.h"
#include "fuzz_check.h"
#include "spec/document.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // nlohmann recurses when it compares and destroys nothing, but dump() and operator== do:
  // only texts the reader accepted (depth at most 128) are compared.
  // nlohmann also takes a NUL byte for the end of the text ("{}\0x" passes): the reader does not.
  const bool nlohmann_accepts =
      text.find('\0') == std::string_view::npos && nlohmann::json::accept(text);
  try {
    const auto parsed =
        obsforge::spec::ParseJsonDocument(text, "fuzz.json", obsforge::fuzz::kLimits);
    FUZZ_CHECK(nlohmann_accepts);
    FUZZ_CHECK(parsed.document == nlohmann::json::parse(text));
    FUZZ_CHECK(
        obsforge::spec::ParseOrderedJson(text, "fuzz.json", obsforge::fuzz::kLimits).dump() ==
        nlohmann::ordered_json::parse(text).dump());
    obsforge::fuzz::CheckSerialisable(parsed.document);
  } catch (const obsforge::core::InputError& e) {
    FUZZ_CHECK(e.diagnostics().size() == 1);
    const std::string& message = e.diagnostics().front().message;
    const bool syntax = message.starts_with("invalid JSON");
    FUZZ_CHECK(!(nlohmann_accepts && syntax));
  }
  return 0;
}
