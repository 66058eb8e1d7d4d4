#include "app/health_wiring.h"

namespace obsforge::app {
namespace {

std::vector<health::TransitionSink*> SinkList(health::TransitionSink& history,
                                              health::TransitionSink* also) {
  std::vector<health::TransitionSink*> sinks{&history};
  if (also != nullptr) {
    sinks.push_back(also);
  }
  return sinks;
}

}  // namespace

void HealthWiring::Sinks::OnTransitions(const std::vector<health::Transition>& transitions) {
  for (health::TransitionSink* sink : sinks_) {
    sink->OnTransitions(transitions);
  }
}

HealthWiring::HealthWiring(HealthOptions options,
                           store::Store& store,
                           control::EnvironmentBackend& backend,
                           http::HttpClient& http,
                           core::Clock& clock,
                           core::Logger& logger,
                           control::UrlsFunction urls,
                           health::TransitionSink* also)
    : outbox_(store, options.may_send),
      history_(store, logger),
      sinks_(SinkList(history_, also)),
      notifier_(options.notifier, outbox_, http, clock, logger),
      monitor_(options.monitor, clock, &notifier_, &sinks_, logger),
      watcher_(std::move(options.defaults), monitor_, &notifier_, std::move(urls), &store, logger),
      runtime_(store, backend, monitor_, notifier_, watcher_, logger) {
}

}  // namespace obsforge::app
