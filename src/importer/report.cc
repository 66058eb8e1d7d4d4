#include "importer/report.h"

#include <sstream>

namespace obsforge::importer {

using nlohmann::json;

json Report::ToJson() const {
  json secrets_out = json::array();
  for (const auto& s : secrets) {
    secrets_out.push_back(
        {{"name", s.name}, {"from", s.from}, {"component", s.component}, {"pointers", s.pointers}});
  }
  json owned_out = json::array();
  for (const auto& o : owned) {
    owned_out.push_back(
        {{"component", o.component}, {"file", o.file}, {"pointer", o.pointer}, {"why", o.why}});
  }
  return {{"stack", stack},
          {"env", env},
          {"spec", spec_path},
          {"did", did},
          {"review", review},
          {"secrets", secrets_out},
          {"owned_paths", owned_out},
          {"adopted", adopted},
          {"files", files}};
}

std::string Report::ToText() const {
  std::ostringstream out;
  out << "imported stack " << stack << " (environment " << env << ") into " << spec_path << '\n';
  for (const auto& line : did) {
    out << "  " << line << '\n';
  }
  if (!owned.empty()) {
    out << "paths obsforge owns (rendered differently from the originals on purpose):\n";
    for (const auto& o : owned) {
      out << "  " << o.component << '/' << o.file << ' ' << o.pointer << ": " << o.why << '\n';
    }
  }
  if (!secrets.empty()) {
    out << "secrets (set each variable before applying; no value was written):\n";
    for (const auto& s : secrets) {
      out << "  " << s.name << " <- ";
      for (std::size_t i = 0; i < s.from.size(); ++i) {
        out << (i == 0 ? "" : "; ") << s.from[i];
      }
      out << '\n';
    }
  }
  if (!adopted.empty()) {
    out << "adopted on the next apply (" << adopted.size()
        << " Grafana objects become obsforge's):\n";
    for (const auto& a : adopted) {
      out << "  " << a << '\n';
    }
  }
  if (!review.empty()) {
    out << "needs a human:\n";
    for (const auto& line : review) {
      out << "  - " << line << '\n';
    }
  }
  return out.str();
}

}  // namespace obsforge::importer
