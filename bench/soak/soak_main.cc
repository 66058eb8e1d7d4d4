// soak_bench: the 5-minute soak of `obsforge serve` (bench/README.md "Soak").
//
//   soak_bench OBSFORGE_BINARY [--stacks N] [--clients N] [--seconds N] [--seed N]
//
// Prints the report as Markdown; exits 1 when a request got a 5xx, an unexpected status or no
// answer, or an accepted operation did not end.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "http/curl_http_client.h"
#include "soak/soak.h"
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: soak_bench OBSFORGE_BINARY [--stacks N] [--clients N] [--seconds N] "
                 "[--seed N]\n";
    return 2;
  }
  obsforge::soak::SoakOptions options{.obsforge = argv[1], .progress = &std::cerr};
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--stacks") {
      options.stacks = value;
    } else if (flag == "--clients") {
      options.clients = value;
    } else if (flag == "--seconds") {
      options.duration = std::chrono::seconds(value);
    } else if (flag == "--seed") {
      options.seed = static_cast<unsigned>(value);
    } else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  char dir[] = "/tmp/obsforge-soak-XXXXXX";
  if (::mkdtemp(dir) == nullptr) {
    std::cerr << "mkdtemp failed\n";
    return 2;
  }
  options.work_dir = dir;
  const obsforge::http::CurlGlobal curl;
  auto report = obsforge::soak::RunSoak(options);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!report.ok()) {
    std::cerr << "soak: " << report.error().message << "\n";
    return 1;
  }
  std::cout << obsforge::soak::ReportMarkdown(*report);
  return report->server_errors == 0 && report->unexpected == 0 && report->lost == 0 ? 0 : 1;
}
