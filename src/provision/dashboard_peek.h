#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obsforge::provision {

/// The fields of a `GET /api/dashboards/uid/{uid}` answer that tell whether a dashboard changed
/// since obsforge wrote it.
struct DashboardPeek {
  std::int64_t id = 0;       ///< `dashboard.id` (0 when absent): new when deleted and recreated
  std::int64_t version = 0;  ///< `dashboard.version` (0 when absent): bumped by every save
  std::string folder_uid;    ///< `meta.folderUid` ("" = General)
};

/// Reads `dashboard.id`, `dashboard.version` and `meta.folderUid` from the answer's text without
/// building the document (a dashboard can be hundreds of kilobytes and a resync reads hundreds of
/// them). nullopt when the text is not a JSON object. Never throws.
std::optional<DashboardPeek> PeekDashboard(std::string_view body);

}  // namespace obsforge::provision
