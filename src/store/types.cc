#include "store/types.h"

#include <array>
#include <utility>

namespace obsforge::store {
namespace {

// One table per enum keeps Name and Parse in sync; the enumerators are dense from 0.
constexpr std::array kRevisionSources{"api", "git"};
constexpr std::array kOperationKinds{"create",   "apply", "update", "delete",
                                     "rollback", "plan",  "sync",   "teardown"};
constexpr std::array kOperationStates{"queued", "running",     "succeeded",
                                      "failed", "rolled_back", "superseded"};
constexpr std::array kStepStates{"pending", "running", "succeeded", "failed", "skipped"};
constexpr std::array kObjectKinds{"datasource",    "folder", "dashboard", "rule_group",
                                  "contact_point", "policy", "loki_group"};

template <class E, std::size_t N>
const char* NameIn(const std::array<const char*, N>& names, E v) {
  const auto i = static_cast<std::size_t>(v);
  return i < N ? names.at(i) : "unknown";
}

template <class E, std::size_t N>
std::optional<E> ParseIn(const std::array<const char*, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (s == names.at(i)) {
      return static_cast<E>(i);
    }
  }
  return std::nullopt;
}

}  // namespace

TimeMs ToTimeMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::chrono::system_clock::time_point FromTimeMs(TimeMs ms) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::milliseconds(ms)));
}

const char* Name(RevisionSource v) {
  return NameIn(kRevisionSources, v);
}
const char* Name(OperationKind v) {
  return NameIn(kOperationKinds, v);
}
const char* Name(OperationState v) {
  return NameIn(kOperationStates, v);
}
const char* Name(StepState v) {
  return NameIn(kStepStates, v);
}
const char* Name(ObjectKind v) {
  return NameIn(kObjectKinds, v);
}

std::optional<RevisionSource> ParseRevisionSource(std::string_view s) {
  return ParseIn<RevisionSource>(kRevisionSources, s);
}
std::optional<OperationKind> ParseOperationKind(std::string_view s) {
  return ParseIn<OperationKind>(kOperationKinds, s);
}
std::optional<OperationState> ParseOperationState(std::string_view s) {
  return ParseIn<OperationState>(kOperationStates, s);
}
std::optional<StepState> ParseStepState(std::string_view s) {
  return ParseIn<StepState>(kStepStates, s);
}
std::optional<ObjectKind> ParseObjectKind(std::string_view s) {
  return ParseIn<ObjectKind>(kObjectKinds, s);
}

bool IsTerminal(OperationState s) {
  return s == OperationState::kSucceeded || s == OperationState::kFailed ||
         s == OperationState::kRolledBack || s == OperationState::kSuperseded;
}

bool AppliesSpec(OperationKind k) {
  return k == OperationKind::kCreate || k == OperationKind::kUpdate || k == OperationKind::kApply ||
         k == OperationKind::kRollback || k == OperationKind::kSync;
}

bool IsTerminal(StepState s) {
  return s == StepState::kSucceeded || s == StepState::kFailed || s == StepState::kSkipped;
}

}  // namespace obsforge::store
