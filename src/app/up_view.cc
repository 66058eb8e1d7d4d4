#include "app/up_view.h"

#include <iomanip>
#include <map>
#include <sstream>

#include "core/clock.h"

namespace obsforge::app {
namespace {

// "hh:mm:ss" of an RFC 3339 time: a terminal line needs the time of day only.
std::string TimeOfDay(health::TimePoint at) {
  return core::FormatTime(at).substr(11, 8);
}

// Cuts `line` to `width` columns, counting UTF-8 characters (the check marks are multi-byte).
std::string Cut(const std::string& line, std::size_t width) {
  std::size_t columns = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto byte = static_cast<unsigned char>(line[i]);
    if ((byte & 0xC0U) != 0x80U && ++columns > width) {
      return line.substr(0, i);
    }
  }
  return line;
}

const char* Mark(health::State state) {
  switch (state) {
    case health::State::kOk:
      return "\u2713";
    case health::State::kFailing:
      return "\u2717";
    default:
      return "\u00b7";
  }
}

// Runtime names a component "otel_collector"; health calls it "otelcol".
std::string HealthName(const std::string& component) {
  return component == "otel_collector" ? "otelcol" : component;
}

}  // namespace

std::string TransitionLine(const health::Transition& t) {
  std::string line = TimeOfDay(t.at) + " " + t.stack + "/" + t.env;
  if (!t.component.empty()) {
    line += " " + t.component;
  }
  line += std::string(": ") + health::StateName(t.from) + " -> " + health::StateName(t.to);
  if (!t.message.empty()) {
    line += ": " + t.message;
  }
  return line;
}

std::vector<std::string> StatusBlock(const std::string& stack,
                                     const std::string& env,
                                     const control::EnvironmentNow& now,
                                     const std::string& last_change,
                                     std::size_t width) {
  std::vector<std::string> lines;
  std::string head = stack + "/" + env + "  ";
  head += now.health ? std::string(health::StateName(now.health->state)) + " since " +
                           TimeOfDay(now.health->since)
                     : "health not watched";
  lines.push_back(head);
  std::map<std::string, const health::ComponentStatus*> health_of;
  if (now.health) {
    for (const auto& c : now.health->components) {
      health_of[c.name] = &c;
    }
  }
  auto row = [&](const std::string& name, const std::string& runtime,
                 const health::ComponentStatus* component) {
    std::ostringstream out;
    out << "  " << std::left << std::setw(15) << name << std::setw(13) << runtime << std::setw(9)
        << (component != nullptr ? health::StateName(component->state) : "-");
    if (component != nullptr) {
      for (const auto& check : component->checks) {
        out << ' ' << check.name << Mark(check.state);
      }
    }
    lines.push_back(out.str());
  };
  for (const control::RuntimeComponent& c : now.runtime.components) {
    std::string runtime = c.state;
    if (c.restarts > 0) {
      runtime += " (" + std::to_string(c.restarts) + "x)";
    }
    const auto it = health_of.find(HealthName(c.name));
    row(c.name, runtime, it == health_of.end() ? nullptr : it->second);
    if (it != health_of.end()) {
      health_of.erase(it);
    }
  }
  for (const auto& [name, component] : health_of) {
    row(name, "-", component);
  }
  lines.push_back("  last change: " + (last_change.empty() ? std::string("none") : last_change));
  for (std::string& line : lines) {
    line = Cut(line, width);
  }
  return lines;
}

TerminalView::TerminalView(
    std::ostream& out, bool live, std::string stack, std::string env, std::size_t width)
    : out_(out), live_(live), stack_(std::move(stack)), env_(std::move(env)), width_(width) {
}

void TerminalView::Print(const std::string& line) {
  std::lock_guard lock(mu_);
  ClearLocked();
  out_ << line << '\n';
  DrawLocked(false);
  out_.flush();
}

void TerminalView::Show(Snapshot snapshot) {
  if (!live_) {
    return;
  }
  std::lock_guard lock(mu_);
  snapshot_ = std::move(snapshot);
  DrawLocked(true);
  out_.flush();
}

void TerminalView::Refresh(bool force) {
  std::lock_guard lock(mu_);
  if (!live_ || !snapshot_ || (!dirty_ && !force)) {
    return;
  }
  ClearLocked();
  DrawLocked(true);
  out_.flush();
}

void TerminalView::Close() {
  std::lock_guard lock(mu_);
  ClearLocked();
  snapshot_ = nullptr;
  out_.flush();
}

void TerminalView::OnTransitions(const std::vector<health::Transition>& transitions) {
  std::lock_guard lock(mu_);
  for (const health::Transition& t : transitions) {
    if (t.scope == health::Transition::Scope::kCheck || t.stack != stack_ || t.env != env_) {
      continue;
    }
    last_change_ = TransitionLine(t);
    dirty_ = true;
    if (!live_) {
      out_ << last_change_ << '\n';
    }
  }
  out_.flush();
}

void TerminalView::ClearLocked() {
  if (drawn_ > 0) {
    // Up to the block's first line, then clear to the end of the screen.
    out_ << "\r\x1b[" << drawn_ << "A\x1b[J";
    drawn_ = 0;
  }
}

void TerminalView::DrawLocked(bool fresh) {
  if (!live_ || !snapshot_) {
    return;
  }
  if (fresh) {
    block_ = StatusBlock(stack_, env_, snapshot_(), last_change_, width_);
    dirty_ = false;
  }
  for (const std::string& line : block_) {
    out_ << line << '\n';
  }
  drawn_ = block_.size();
}

}  // namespace obsforge::app
