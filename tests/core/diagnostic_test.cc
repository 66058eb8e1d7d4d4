#include "core/diagnostic.h"

#include <gtest/gtest.h>

namespace obsforge::core {
namespace {

TEST(Diagnostic, FormatsAllParts) {
  const Diagnostic d{.file = "stack.yaml",
                     .line = 14,
                     .column = 9,
                     .path = "spec.components.prometheus.scrape[0].targets[1]",
                     .message = "\"api:notaport\" is not host:port"};
  EXPECT_EQ(d.ToString(),
            "stack.yaml:14:9: spec.components.prometheus.scrape[0].targets[1]: \"api:notaport\" is "
            "not host:port");
}

TEST(Diagnostic, LeavesOutUnknownParts) {
  EXPECT_EQ((Diagnostic{.file = "a.yaml", .message = "empty"}).ToString(), "a.yaml: empty");
  EXPECT_EQ((Diagnostic{.path = "metadata.name", .message = "missing"}).ToString(),
            "metadata.name: missing");
}

TEST(InputError, WhatListsEveryDiagnostic) {
  const InputError e(InputError::Kind::kInvalidSpec,
                     {{.file = "a", .line = 1, .column = 2, .message = "x"},
                      {.file = "a", .line = 3, .column = 4, .message = "y"}});
  EXPECT_STREQ(e.what(), "a:1:2: x\na:3:4: y");
  EXPECT_EQ(e.diagnostics().size(), 2U);
}

}  // namespace
}  // namespace obsforge::core
