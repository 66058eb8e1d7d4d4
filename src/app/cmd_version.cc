#include <Poco/Environment.h>
#include <curl/curl.h>
#include <git2.h>
#include <nlohmann/json.hpp>

#include <sqlite3.h>

// libjsonnet.h has no extern "C" guard of its own.
extern "C" {
#include <libjsonnet.h>
}

#include "app/commands.h"
#include "app/git_describe.h"
#include "app/version.h"

namespace obsforge::app {

std::string VersionLine() {
  std::string line = std::string("obsforge ") + kVersion;
  if (*kGitDescribe != '\0') {
    line += std::string(" (git ") + kGitDescribe + ")";
  }
  return line;
}

int RunVersion(Io io) {
  const auto poco = Poco::Environment::libraryVersion();
  int git_major = 0;
  int git_minor = 0;
  int git_rev = 0;
  git_libgit2_version(&git_major, &git_minor, &git_rev);
  io.out << VersionLine() << '\n'
         << "  poco " << ((poco >> 24) & 0xff) << '.' << ((poco >> 16) & 0xff) << '.'
         << ((poco >> 8) & 0xff) << '\n'
         << "  libcurl " << curl_version_info(CURLVERSION_NOW)->version << '\n'
         << "  libjsonnet " << jsonnet_version() << '\n'
         << "  libgit2 " << git_major << '.' << git_minor << '.' << git_rev << '\n'
         << "  nlohmann_json " << NLOHMANN_JSON_VERSION_MAJOR << '.' << NLOHMANN_JSON_VERSION_MINOR
         << '.' << NLOHMANN_JSON_VERSION_PATCH << '\n'
         << "  sqlite " << sqlite3_libversion() << '\n';
  return kExitOk;
}

}  // namespace obsforge::app
