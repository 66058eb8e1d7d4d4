#include "notify/slack.h"

#include <algorithm>

namespace obsforge::notify {
namespace {

using json = nlohmann::json;

constexpr std::string_view kEllipsis = "…";

std::size_t CountChars(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0u) != 0x80u;
  }));
}

std::string Emoji(const std::string& state) {
  if (state == "ok") {
    return ":large_green_circle:";
  }
  if (state == "degraded") {
    return ":large_yellow_circle:";
  }
  if (state == "down") {
    return ":red_circle:";
  }
  return ":white_circle:";
}

json Header(const std::string& text, const SlackLimits& limits) {
  return {{"type", "header"},
          {"text",
           {{"type", "plain_text"},
            {"text", TruncateChars(text, limits.header_text)},
            {"emoji", true}}}};
}

json Section(const std::string& mrkdwn, const SlackLimits& limits) {
  return {{"type", "section"},
          {"text", {{"type", "mrkdwn"}, {"text", TruncateChars(mrkdwn, limits.section_text)}}}};
}

json Context(const std::string& mrkdwn, const SlackLimits& limits) {
  return {
      {"type", "context"},
      {"elements",
       json::array({{{"type", "mrkdwn"}, {"text", TruncateChars(mrkdwn, limits.section_text)}}})}};
}

// Code fences need room for themselves; the error inside is cut first so they stay closed.
std::string CodeBlock(std::string_view text, std::size_t max_chars) {
  const std::size_t fence = 6;  // "```" on both sides
  return "```" + TruncateChars(EscapeMrkdwn(text), max_chars > fence ? max_chars - fence : 0) +
         "```";
}

// A section "<head>" then `text` as a code block, cut to fit the section.
json CodeSection(const std::string& head, std::string_view text, const SlackLimits& limits) {
  const std::string first = head + "\n";
  return Section(first + CodeBlock(text, limits.section_text - first.size()), limits);
}

// " Operation `<id>`." or nothing.
std::string OperationNote(const std::string& operation_id) {
  return operation_id.empty() ? std::string() : " Operation `" + EscapeMrkdwn(operation_id) + "`.";
}

json Finish(std::string fallback, json blocks, const SlackLimits& limits) {
  if (blocks.size() > limits.max_blocks) {
    blocks.erase(blocks.begin() + static_cast<std::ptrdiff_t>(limits.max_blocks), blocks.end());
  }
  return {{"text", TruncateChars(fallback, limits.section_text)}, {"blocks", std::move(blocks)}};
}

}  // namespace

std::string TruncateChars(std::string_view text, std::size_t max_chars) {
  if (CountChars(text) <= max_chars) {
    return std::string(text);
  }
  if (max_chars == 0) {
    return "";
  }
  std::size_t chars = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0u) != 0x80u) {
      if (chars == max_chars - 1) {
        break;
      }
      ++chars;
    }
  }
  return std::string(text.substr(0, i)) + std::string(kEllipsis);
}

std::string EscapeMrkdwn(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

json EnvironmentMessage(const EnvironmentReport& report, const SlackLimits& limits) {
  const std::string where = report.stack + "/" + report.env;
  const bool recovered = report.state == "ok";
  const std::string title = recovered ? where + " recovered" : where + " is " + report.state;
  json blocks = json::array();
  blocks.push_back(Header(title, limits));
  std::string summary = "*" + EscapeMrkdwn(where) + "* changed from *" +
                        EscapeMrkdwn(report.previous_state) + "* to *" +
                        EscapeMrkdwn(report.state) + "*";
  if (!report.at.empty()) {
    summary += " at " + EscapeMrkdwn(report.at);
  }
  summary += ".";
  if (!report.failing.empty()) {
    summary += " " + std::to_string(report.failing.size()) + " failing check" +
               (report.failing.size() == 1 ? "" : "s") + ".";
  }
  blocks.push_back(Section(summary, limits));

  // The link and a possible "…and N more" line are reserved before anything that can be cut.
  const std::size_t reserved = (report.grafana_url.empty() ? 0 : 1) + 1;
  const auto room = [&] {
    return limits.max_blocks > blocks.size() + reserved
               ? limits.max_blocks - blocks.size() - reserved
               : 0;
  };

  json fields = json::array();
  std::size_t components_shown = 0;
  for (const auto& component : report.components) {
    if (fields.size() == limits.fields_per_section) {
      if (room() <= 1) {
        break;
      }
      blocks.push_back({{"type", "section"}, {"fields", std::move(fields)}});
      fields = json::array();
    }
    std::string text = Emoji(component.state) + " *" + EscapeMrkdwn(component.name) + "*\n" +
                       EscapeMrkdwn(component.state);
    if (!component.detail.empty()) {
      text += " · " + EscapeMrkdwn(component.detail);
    }
    fields.push_back({{"type", "mrkdwn"}, {"text", TruncateChars(text, limits.field_text)}});
    ++components_shown;
  }
  if (!fields.empty() && room() > 0) {
    blocks.push_back({{"type", "section"}, {"fields", std::move(fields)}});
  } else if (!fields.empty()) {
    components_shown -= fields.size();
  }

  std::size_t failing_shown = 0;
  for (const auto& failing : report.failing) {
    if (room() == 0) {
      break;
    }
    std::string head = "*" + EscapeMrkdwn(failing.component + "/" + failing.check) + "*";
    if (!failing.since.empty()) {
      head += " failing since " + EscapeMrkdwn(failing.since);
    }
    head += "\n";
    const std::size_t head_chars = CountChars(head);
    const std::size_t budget =
        limits.section_text > head_chars ? limits.section_text - head_chars : 0;
    blocks.push_back(
        Section(head + CodeBlock(failing.error.empty() ? "(no error text)" : failing.error, budget),
                limits));
    ++failing_shown;
  }
  std::string more;
  if (failing_shown < report.failing.size()) {
    more = "…and " + std::to_string(report.failing.size() - failing_shown) + " more failing check" +
           (report.failing.size() - failing_shown == 1 ? "" : "s");
  }
  if (components_shown < report.components.size()) {
    more += std::string(more.empty() ? "…and " : ", ") +
            std::to_string(report.components.size() - components_shown) + " more component" +
            (report.components.size() - components_shown == 1 ? "" : "s");
  }
  if (!more.empty()) {
    blocks.push_back(Context(more, limits));
  }
  if (!report.grafana_url.empty()) {
    blocks.push_back(Section("<" + report.grafana_url + "|Open Grafana>", limits));
  }

  std::string fallback = title + " (was " + report.previous_state + ")";
  for (std::size_t i = 0; i < report.failing.size() && i < 5; ++i) {
    fallback += (i == 0 ? ": " : "; ") + report.failing[i].component + "/" +
                report.failing[i].check + ": " + report.failing[i].error;
  }
  if (report.failing.size() > 5) {
    fallback += "; …and " + std::to_string(report.failing.size() - 5) + " more";
  }
  return Finish(std::move(fallback), std::move(blocks), limits);
}

json ApplyMessage(const ApplyReport& report, const SlackLimits& limits) {
  const std::string where = report.stack + "/" + report.env;
  const std::string revision = "revision " + std::to_string(report.revision);
  std::string title;
  std::string summary;
  switch (report.outcome) {
    case ApplyReport::Outcome::kSucceeded:
      title = ":white_check_mark: " + where + ": apply succeeded";
      summary = "*" + EscapeMrkdwn(where) + "* now runs " + revision + ".";
      break;
    case ApplyReport::Outcome::kRolledBack:
      title = ":leftwards_arrow_with_hook: " + where + ": apply rolled back";
      summary = "Applying " + revision + " to *" + EscapeMrkdwn(where) +
                "* failed and was rolled back to revision " +
                std::to_string(report.rolled_back_to) + ".";
      break;
    case ApplyReport::Outcome::kFailed:
      title = ":x: " + where + ": apply failed";
      summary = "Applying " + revision + " to *" + EscapeMrkdwn(where) + "* failed.";
      break;
  }
  summary += OperationNote(report.operation_id);
  json blocks = json::array();
  blocks.push_back(Header(title, limits));
  blocks.push_back(Section(summary, limits));
  if (!report.reason.empty()) {
    blocks.push_back(CodeSection("*Reason*", report.reason, limits));
  }
  if (!report.grafana_url.empty()) {
    blocks.push_back(Section("<" + report.grafana_url + "|Open Grafana>", limits));
  }
  std::string fallback = title;
  if (!report.reason.empty()) {
    fallback += ": " + report.reason;
  }
  return Finish(std::move(fallback), std::move(blocks), limits);
}

json BrokenCommitMessage(const BrokenCommitReport& report, const SlackLimits& limits) {
  const std::string sha = report.sha.substr(0, 12);
  const std::string title = ":x: gitops: commit " + sha + " is broken";
  std::string stacks;
  for (const auto& name : report.stacks) {
    stacks += (stacks.empty() ? "*" : ", *") + EscapeMrkdwn(name) + "*";
  }
  std::string summary = "Commit `" + EscapeMrkdwn(sha) + "` of gitops source `" +
                        EscapeMrkdwn(report.source) + "`: " + EscapeMrkdwn(report.summary) +
                        ". Nothing was applied";
  summary += stacks.empty() ? "" : " to " + stacks;
  summary += "; the last good commit stays live.";
  summary += OperationNote(report.operation_id);
  json blocks = json::array();
  blocks.push_back(Header(title, limits));
  blocks.push_back(Section(summary, limits));
  if (!report.findings.empty()) {
    blocks.push_back(CodeSection("*Findings*", report.findings, limits));
  }
  return Finish(title + ": " + report.summary, std::move(blocks), limits);
}

}  // namespace obsforge::notify
