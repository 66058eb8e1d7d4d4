#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace obsforge::core {

/// What kind of runtime failure an Error is; the server maps it to an HTTP status.
enum class ErrorCode : std::uint8_t {
  kInvalidSpec,  ///< bad user input (normally thrown as InputError instead)
  kRender,       ///< a template or content file failed to render
  kNotFound,
  kConflict,
  kPrecondition,  ///< stale If-Match / version
  kUpstream,      ///< an upstream (Prometheus, Grafana, ...) refused or failed
  kTimeout,
  kUnavailable,  ///< e.g. a component binary missing from PATH
  kInternal,
};

/// Returns the snake_case name of `code` ("invalid_spec", "upstream", ...).
const char* ErrorCodeName(ErrorCode code);

/// An expected runtime failure, returned as a value (see Result).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  /// HTTP status of the upstream response that caused it, when there was one.
  int upstream_status = 0;
  /// Body of that upstream response (already free of secrets).
  std::string upstream_body;
};

/// A value or an Error; a small std::expected. Never ignore one.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// The value. Precondition: ok().
  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  /// The error. Precondition: !ok().
  const Error& error() const { return std::get<1>(data_); }

 private:
  std::variant<T, Error> data_;
};

/// Result of an operation that returns nothing on success.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  /// The error. Precondition: !ok().
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

/// Shorthand for building an Error.
inline Error MakeError(ErrorCode code, std::string message) {
  return Error{.code = code, .message = std::move(message)};
}

}  // namespace obsforge::core
