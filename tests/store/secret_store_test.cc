#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sqlite_store.h"
#include "store_fixture.h"

namespace obsforge::store::testing {
namespace {

using ::testing::ElementsAre;

using SecretStoreTest = StoreTest;
INSTANTIATE_TEST_SUITE_P(Backings, SecretStoreTest, AllBackings(), BackingName);

std::vector<std::string> Keys(const std::vector<StackSecret>& secrets) {
  std::vector<std::string> keys;
  for (const StackSecret& s : secrets) {
    keys.push_back(s.stack + "/" + s.key);
  }
  return keys;
}

TEST_P(SecretStoreTest, PutReplacesAndStampsAndNeedsNoStack) {
  auto put = store_->PutSecret(
      {.stack = "shop", .key = "TOKEN", .sealed = "v1.AAAA", .key_id = "k1", .updated_at = 7});
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(put->updated_at, NowMs());  // stamped, not taken from the caller
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(
      store_->PutSecret({.stack = "shop", .key = "TOKEN", .sealed = "v1.BBBB", .key_id = "k2"}));
  auto got = store_->GetSecret("shop", "TOKEN");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->sealed, "v1.BBBB");
  EXPECT_EQ(got->key_id, "k2");
  EXPECT_EQ(got->updated_at, NowMs());
  EXPECT_FALSE(store_->GetStack("shop").ok());  // secrets may come before their stack
}

TEST_P(SecretStoreTest, ListsOneStackOrEveryStackInOrder) {
  for (const auto& [stack, key] : std::vector<std::pair<std::string, std::string>>{
           {"shop", "B"}, {"blog", "Z"}, {"shop", "A"}}) {
    ASSERT_TRUE(store_->PutSecret({.stack = stack, .key = key, .sealed = "x"}));
  }
  EXPECT_THAT(Keys(*store_->ListSecrets("shop")), ElementsAre("shop/A", "shop/B"));
  EXPECT_THAT(Keys(*store_->ListSecrets("")), ElementsAre("blog/Z", "shop/A", "shop/B"));
  EXPECT_TRUE(store_->ListSecrets("none")->empty());
}

TEST_P(SecretStoreTest, DeleteForgetsOnlyThatSecret) {
  ASSERT_TRUE(store_->PutSecret({.stack = "shop", .key = "A", .sealed = "x"}));
  ASSERT_TRUE(store_->PutSecret({.stack = "blog", .key = "A", .sealed = "y"}));
  ASSERT_TRUE(store_->DeleteSecret("shop", "A"));
  EXPECT_EQ(store_->GetSecret("shop", "A").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->DeleteSecret("shop", "A").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetSecret("blog", "A")->sealed, "y");
}

TEST(SecretStoreFileTest, SecretsSurviveAReopen) {
  TempDir dir;
  obsforge::testing::FakeClock clock;
  const std::string path = (dir.path() / "obsforge.db").string();
  auto store = OpenOrDie(path, clock);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutSecret({.stack = "shop", .key = "A", .sealed = "v1.sealed"}));
  store = OpenOrDie(path, clock);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetSecret("shop", "A")->sealed, "v1.sealed");
}

}  // namespace
}  // namespace obsforge::store::testing
