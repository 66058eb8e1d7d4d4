#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "control/application.h"
#include "health/monitor.h"
#include "health/state.h"

namespace obsforge::app {

/// What `obsforge up` shows on stderr while its environment runs.
///
/// Plain mode (stderr is not a terminal): the lines printed through Print() (steps, notes) and
/// one line per state change of the environment or of one of its components (TransitionLine).
/// Live mode (a terminal): the printed lines scroll above a compact status block that is
/// redrawn in place (StatusBlock: components with their runtime state, health and checks, and
/// the last change). Thread-safe: transitions arrive on the prober's thread.
class TerminalView final : public health::TransitionSink {
 public:
  /// What the block shows; read on the thread that calls Refresh().
  using Snapshot = std::function<control::EnvironmentNow()>;

  /// `out` must outlive the view. `width` bounds every line of the block (columns).
  TerminalView(
      std::ostream& out, bool live, std::string stack, std::string env, std::size_t width = 100);

  /// Prints `line` (no newline in it) above the block.
  void Print(const std::string& line);
  /// Live mode: from now on the block shows `snapshot`, and is drawn. No-op in plain mode.
  /// Call Show() and Refresh() from one thread: only they read snapshots.
  void Show(Snapshot snapshot);
  /// Live mode: redraws the block when a change arrived since the last draw, or when `force`.
  void Refresh(bool force);
  /// Live mode: removes the block, leaving the lines above it. Idempotent.
  void Close();

  /// The transitions of this view's environment (and its components): printed in plain mode,
  /// kept as the last change in live mode. Check transitions are left out: the component line
  /// already says what failed.
  void OnTransitions(const std::vector<health::Transition>& transitions) override;

 private:
  void ClearLocked();
  // Draws the block; `fresh`: from a new snapshot, else as last drawn (Print() may run on any
  // thread, and only the main thread reads snapshots).
  void DrawLocked(bool fresh);

  std::ostream& out_;
  const bool live_;
  const std::string stack_;
  const std::string env_;
  const std::size_t width_;
  std::mutex mu_;
  Snapshot snapshot_;
  std::string last_change_;
  std::vector<std::string> block_;
  bool dirty_ = false;
  std::size_t drawn_ = 0;  // lines of the block on screen
};

/// "12:00:05 demo/dev: ok -> degraded: prometheus/ready: ..." for an environment transition,
/// "12:00:05 demo/dev prometheus: ok -> down: ready: ..." for a component (UTC time of day).
std::string TransitionLine(const health::Transition& transition);

/// The status block of `env` of `stack`: a head line (health and since when), one line per
/// component (runtime state, health, each check as name✓ / name✗ / name·) and the last change;
/// every line cut to `width` columns.
std::vector<std::string> StatusBlock(const std::string& stack,
                                     const std::string& env,
                                     const control::EnvironmentNow& now,
                                     const std::string& last_change,
                                     std::size_t width);

}  // namespace obsforge::app
