#include "core/error.h"

namespace obsforge::core {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidSpec:
      return "invalid_spec";
    case ErrorCode::kRender:
      return "render_error";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kPrecondition:
      return "precondition_failed";
    case ErrorCode::kUpstream:
      return "upstream";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace obsforge::core
