#include <gtest/gtest.h>

#include "spec/stack.h"

namespace obsforge::spec {
namespace {

using nlohmann::json;

TEST(MergeOverTest, MapsMergeRecursively) {
  const json base = {{"a", {{"x", 1}, {"y", {{"deep", 1}, {"keep", true}}}}}, {"b", 2}};
  const json overlay = {{"a", {{"y", {{"deep", 2}}}, {"z", 3}}}};
  EXPECT_EQ(MergeOver(base, overlay),
            json({{"a", {{"x", 1}, {"y", {{"deep", 2}, {"keep", true}}}, {"z", 3}}}, {"b", 2}}));
}

TEST(MergeOverTest, ListsAndScalarsReplace) {
  const json base = {{"list", {1, 2, 3}}, {"s", "old"}, {"m", {{"k", 1}}}};
  const json overlay = {{"list", {4}}, {"s", "new"}, {"m", "scalar now"}};
  EXPECT_EQ(MergeOver(base, overlay), json({{"list", {4}}, {"s", "new"}, {"m", "scalar now"}}));
  EXPECT_EQ(MergeOver(base, json::array()), json::array());
}

TEST(MergeOverTest, NullDeletes) {
  const json base = {{"a", 1}, {"b", {{"c", 1}, {"d", 2}}}};
  const json overlay = {{"a", nullptr}, {"b", {{"c", nullptr}}}, {"missing", nullptr}};
  EXPECT_EQ(MergeOver(base, overlay), json({{"b", {{"d", 2}}}}));
}

TEST(MergeOverTest, NullsInsideANewMapAreDropped) {
  const json overlay = {{"new", {{"x", nullptr}, {"y", 1}}}};
  EXPECT_EQ(MergeOver(json::object(), overlay), json({{"new", {{"y", 1}}}}));
}

TEST(MergeOverTest, MapOverScalarReplacesIt) {
  EXPECT_EQ(MergeOver(json({{"a", 5}}), json({{"a", {{"b", 1}}}})), json({{"a", {{"b", 1}}}}));
}

TEST(SecretRefTest, AsSecretRef) {
  EXPECT_EQ(AsSecretRef(json({{"secret", "TOKEN"}})),
            (core::SecretRef{.kind = core::SecretRef::Kind::kEnv, .name = "TOKEN"}));
  EXPECT_EQ(AsSecretRef(json({{"secret_file", "/run/s"}})),
            (core::SecretRef{.kind = core::SecretRef::Kind::kFile, .name = "/run/s"}));
  EXPECT_EQ(AsSecretRef(json("TOKEN")), std::nullopt);
  EXPECT_EQ(AsSecretRef(json({{"secret", "A"}, {"other", 1}})), std::nullopt);
  EXPECT_EQ(AsSecretRef(json({{"secret", 5}})), std::nullopt);
}

TEST(SecretRefTest, CollectsEveryReferenceOnce) {
  const json doc = {
      {"a", {{"webhook", {{"secret", "SLACK"}}}}},
      {"b", json::array({json({{"secret_file", "/f"}}), json({{"secret", "SLACK"}})})},
      {"c", "plain"}};
  const auto refs = CollectSecretRefs(doc);
  ASSERT_EQ(refs.size(), 2U);
  EXPECT_EQ(refs[0].ToString(), "{secret: SLACK}");
  EXPECT_EQ(refs[1].ToString(), "{secret_file: /f}");
  EXPECT_TRUE(CollectSecretRefs(json::object()).empty());
}

}  // namespace
}  // namespace obsforge::spec
