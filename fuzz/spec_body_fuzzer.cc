// A request body holding a spec or {spec, files}: parsed and validated, or an InputError naming
// where it is wrong. The content directory does not exist, so only sent files are read.
#include <cstddef>
#include <cstdint>
#include <string>

#include "control/spec_body.h"
#include "core/diagnostic.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  try {
    const auto input = obsforge::control::ParseSpecBody(body, "body", "/nonexistent/obsforge-fuzz",
                                                        obsforge::fuzz::kLimits);
    obsforge::fuzz::CheckSerialisable(input.stack.document);
    FUZZ_CHECK(!input.stack.name.empty());
    FUZZ_CHECK(!input.stack.environments.empty());
    FUZZ_CHECK(input.hash.size() == 64);
  } catch (const obsforge::core::InputError& e) {
    FUZZ_CHECK(!e.diagnostics().empty());
    for (const auto& d : e.diagnostics()) {
      (void)d.ToString();
    }
  }
  return 0;
}
