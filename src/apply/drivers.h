#pragma once

#include <string>

#include "core/error.h"
#include "render/bundle.h"

namespace obsforge::apply {

/// Makes one component of a running environment take up a bundle, and checks that it did. The
/// transaction calls Activate() then Verify() with the bundle `current` points at (the whole
/// bundle; a driver picks its own files), both again with the last good bundle on rollback.
/// Implementations: PrometheusDriver and AlertmanagerDriver (reload over HTTP), the external
/// runtime's file-writing wrapper, and the local runtime's restart-based drivers.
class ComponentDriver {
 public:
  virtual ~ComponentDriver() = default;
  /// The spec's component name ("prometheus", "alertmanager", "loki", ...).
  virtual std::string Component() const = 0;
  /// Makes the component load `bundle` (reload or restart). On refusal returns an Error whose
  /// message is the upstream's own text (e.g. "failed to reload config: ..."). Never throws.
  virtual core::Result<void> Activate(const render::Bundle& bundle) = 0;
  /// Checks, with bounded polling, that the component runs `bundle` after Activate(). Returns
  /// an Error saying what is missing or wrong. Never throws.
  virtual core::Result<void> Verify(const render::Bundle& bundle) = 0;
};

}  // namespace obsforge::apply
