// obsforge-api-doc: writes docs/api.md from an OpenAPI document on stdin.
//   curl -s localhost:8080/api/v1/openapi.json | obsforge-api-doc > docs/api.md
// (tests/docs does the same against a freshly started server; OBS_UPDATE_DOCS=1 rewrites the file.)
#include <iostream>

#include "openapi_markdown.h"

int main() {
  try {
    std::cout << obsforge::docs::OpenApiMarkdown(nlohmann::json::parse(std::cin));
  } catch (const std::exception& e) {
    std::cerr << "obsforge-api-doc: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
