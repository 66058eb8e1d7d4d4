#include "control/stack_secrets.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "control/trust.h"
#include "control_test_util.h"
#include "core/clock.h"
#include "core/fs.h"
#include "store/sqlite_store.h"

namespace obsforge::control {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::ExternalStack;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::TempDir;

const std::string kOldKey = "1111111111111111111111111111111111111111111111111111111111111111";
const std::string kNewKey = "2222222222222222222222222222222222222222222222222222222222222222";

class StackSecretsTest : public ::testing::Test {
 protected:
  StackSecretsTest() {
    auto store = store::SqliteStore::Open({.path = (dir_.path() / "obsforge.db").string()}, clock_);
    EXPECT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    core::WriteFileAtomic(dir_.path() / "old.key", kOldKey + "\n", 0600);
    core::WriteFileAtomic(dir_.path() / "new.key", kNewKey + "\n", 0600);
  }

  // Secrets under `key_file` (and `previous`), keys loaded.
  std::unique_ptr<StackSecrets> Open(const std::string& key_file,
                                     std::vector<fs::path> previous = {}) {
    auto secrets = std::make_unique<StackSecrets>(
        SecretKeyOptions{.key_file = key_file.empty() ? fs::path() : dir_.path() / key_file,
                         .previous_key_files = std::move(previous)},
        *store_);
    auto loaded = secrets->LoadKeys();
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return secrets;
  }
  std::string Value(StackSecrets& secrets, const std::string& stack, const std::string& key) {
    auto got = secrets.Get(stack, key);
    if (!got.ok()) {
      return "error: " + got.error().message;
    }
    return got->has_value() ? (*got)->Reveal() : "none";
  }

  TempDir dir_;
  core::SystemClock clock_;
  std::unique_ptr<store::SqliteStore> store_;
};

TEST_F(StackSecretsTest, PutListGetDeleteAndTheStoreNeverHoldsTheValue) {
  auto secrets = Open("old.key");
  ASSERT_TRUE(secrets->Enabled());
  auto first = secrets->Put("shop", "GRAFANA_TOKEN", core::Secret("glsa_value_1"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->created);
  auto second = secrets->Put("shop", "GRAFANA_TOKEN", core::Secret("glsa_value_2"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  ASSERT_TRUE(secrets->Put("shop", "SLACK", core::Secret("https://hooks.example/x")).ok());

  auto listed = secrets->List("shop");
  ASSERT_TRUE(listed.ok());
  std::vector<std::string> keys;
  for (const auto& info : *listed) {
    keys.push_back(info.key);
    EXPECT_GT(info.updated_at, 0);
  }
  EXPECT_THAT(keys, ElementsAre("GRAFANA_TOKEN", "SLACK"));
  EXPECT_EQ(Value(*secrets, "shop", "GRAFANA_TOKEN"), "glsa_value_2");
  EXPECT_EQ(Value(*secrets, "blog", "GRAFANA_TOKEN"), "none") << "secrets belong to one stack";

  const auto row = store_->GetSecret("shop", "GRAFANA_TOKEN");
  ASSERT_TRUE(row.ok());
  EXPECT_THAT(row->sealed, Not(HasSubstr("glsa_value")));
  EXPECT_EQ(row->key_id, core::SealKey::Parse(kOldKey)->id());
  store_.reset();  // the file on disk, WAL included, never holds the value in clear
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    EXPECT_THAT(core::ReadFile(entry.path()), Not(HasSubstr("glsa_value"))) << entry.path();
  }
}

TEST_F(StackSecretsTest, DeleteAndDeleteAllForgetValues) {
  auto secrets = Open("old.key");
  ASSERT_TRUE(secrets->Put("shop", "A", core::Secret("a")).ok());
  ASSERT_TRUE(secrets->Put("shop", "B", core::Secret("b")).ok());
  ASSERT_TRUE(secrets->Put("blog", "A", core::Secret("c")).ok());
  ASSERT_TRUE(secrets->Delete("shop", "A").ok());
  EXPECT_EQ(secrets->Delete("shop", "A").error().code, core::ErrorCode::kNotFound);
  ASSERT_TRUE(secrets->DeleteAll("shop").ok());
  EXPECT_THAT(*secrets->List("shop"), IsEmpty());
  EXPECT_EQ(Value(*secrets, "blog", "A"), "c");
}

TEST_F(StackSecretsTest, BadNamesAndValuesAreRefusedAndNoKeyMeansOff) {
  auto secrets = Open("old.key");
  EXPECT_THROW((void)secrets->Put("Shop!", "A", core::Secret("x")), core::InputError);
  EXPECT_THROW((void)secrets->Put("shop", "../A", core::Secret("x")), core::InputError);
  EXPECT_THROW((void)secrets->Put("shop", "", core::Secret("x")), core::InputError);
  EXPECT_THROW((void)secrets->Put("shop", "A", core::Secret("")), core::InputError);
  EXPECT_THROW((void)secrets->Put("shop", "A",
                                  core::Secret(std::string(StackSecrets::kMaxValueBytes + 1, 'x'))),
               core::InputError);
  auto off = Open("");
  EXPECT_FALSE(off->Enabled());
  auto refused = off->Put("shop", "A", core::Secret("x"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("secrets.key_file"));
}

TEST_F(StackSecretsTest, AKeyThatCannotBeReadStopsTheStartAndIsNeverEchoed) {
  core::WriteFileAtomic(dir_.path() / "bad.key", "not-a-key-but-maybe-a-password\n", 0600);
  StackSecrets bad(SecretKeyOptions{.key_file = dir_.path() / "bad.key"}, *store_);
  auto loaded = bad.LoadKeys();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, core::ErrorCode::kPrecondition);
  EXPECT_THAT(loaded.error().message, HasSubstr("bad.key does not hold a key"));
  EXPECT_THAT(loaded.error().message, Not(HasSubstr("maybe-a-password")));
  StackSecrets missing(SecretKeyOptions{.key_file = dir_.path() / "none.key"}, *store_);
  EXPECT_THAT(missing.LoadKeys().error().message, HasSubstr("secrets.key_file"));
  StackSecrets env(SecretKeyOptions{.key = core::Secret("short")}, *store_);
  EXPECT_THAT(env.LoadKeys().error().message,
              HasSubstr("OBSFORGE_SECRETS_KEY does not hold a key"));
  StackSecrets from_env(SecretKeyOptions{.key = core::Secret(kNewKey)}, *store_);
  EXPECT_TRUE(from_env.LoadKeys().ok());
  EXPECT_TRUE(from_env.Enabled());
}

// Rotation: start with the new key and the old one as previous; every value sealed under the old
// key is re-sealed, after which the old key can go.
TEST_F(StackSecretsTest, RotationReSealsUnderTheNewKey) {
  {
    auto old = Open("old.key");
    ASSERT_TRUE(old->Put("shop", "A", core::Secret("alpha")).ok());
    ASSERT_TRUE(old->Put("blog", "B", core::Secret("beta")).ok());
  }
  {
    auto only_new = Open("new.key");
    EXPECT_THAT(Value(*only_new, "shop", "A"), HasSubstr("which this server does not have"));
  }
  {
    auto rotating = Open("new.key", {dir_.path() / "old.key"});
    EXPECT_EQ(Value(*rotating, "shop", "A"), "alpha") << "the old key still opens before rotation";
    auto resealed = rotating->Rotate();
    ASSERT_TRUE(resealed.ok()) << resealed.error().message;
    EXPECT_EQ(*resealed, 2);
    EXPECT_EQ(*rotating->Rotate(), 0) << "nothing left under the old key";
  }
  const std::string new_id = core::SealKey::Parse(kNewKey)->id();
  const auto rows = store_->ListSecrets("");
  ASSERT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    EXPECT_EQ(row.key_id, new_id) << row.stack << "/" << row.key;
  }
  auto after = Open("new.key");
  EXPECT_EQ(Value(*after, "shop", "A"), "alpha");
  EXPECT_EQ(Value(*after, "blog", "B"), "beta");
}

TEST_F(StackSecretsTest, ARowCopiedToAnotherStackDoesNotOpen) {
  auto secrets = Open("old.key");
  ASSERT_TRUE(secrets->Put("victim", "TOKEN", core::Secret("theirs")).ok());
  auto row = *store_->GetSecret("victim", "TOKEN");
  row.stack = "thief";
  ASSERT_TRUE(store_->PutSecret(row).ok());
  EXPECT_THAT(Value(*secrets, "thief", "TOKEN"), HasSubstr("does not open"));
}

// The policy over secrets: a stack names only its own and those shared with it, and SecretsOf
// never reads anything else of the server.
class SecretPolicyTest : public StackSecretsTest {
 protected:
  SecretPolicyTest() {
    secrets_ = Open("old.key");
    EXPECT_TRUE(secrets_->Put("shop", "OWN", core::Secret("own-value")).ok());
    EXPECT_TRUE(secrets_->Put("blog", "THEIRS", core::Secret("blog-value")).ok());
    core::WriteFileAtomic(dir_.path() / "shared.txt", "file-value\n", 0600);
    TrustOptions options;
    options.shared = {
        {.name = "SLACK", .env = "SERVER_SLACK", .stacks = StackScope({"shop", "team-*"})},
        {.name = "TOKEN_FILE", .file = dir_.path() / "shared.txt", .stacks = StackScope({"*"})}};
    policy_ =
        std::make_unique<TrustPolicy>(options, dir_.path() / "var", secrets_.get(),
                                      [](const std::string& name) -> std::optional<std::string> {
                                        if (name == "SERVER_SLACK") {
                                          return "slack-value";
                                        }
                                        if (name == "AWS_SECRET_ACCESS_KEY") {
                                          return "aws-value";
                                        }
                                        return std::nullopt;
                                      });
  }
  std::vector<std::string> Problems(const std::string& name, const std::string& secret) {
    const auto stack = ExternalStack(
        name, "{type: external, grafana: {url: 'http://x:3000', token: " + secret + "}}");
    std::vector<std::string> out;
    for (const auto& d : policy_->Problems(stack)) {
      out.push_back(d.path + ": " + d.message);
    }
    return out;
  }

  std::unique_ptr<StackSecrets> secrets_;
  std::unique_ptr<TrustPolicy> policy_;
};

TEST_F(SecretPolicyTest, ASpecNamesOnlyItsOwnOrSharedSecrets) {
  EXPECT_THAT(Problems("shop", "{secret: OWN}"), IsEmpty());
  EXPECT_THAT(Problems("shop", "{secret: SLACK}"), IsEmpty());
  EXPECT_THAT(Problems("team-x", "{secret: SLACK}"), IsEmpty());
  EXPECT_THAT(Problems("blog", "{secret: TOKEN_FILE}"), IsEmpty());
  const std::string field = "spec.environments.prod.runtime.grafana.token: ";
  EXPECT_THAT(Problems("blog", "{secret: SLACK}"),
              ElementsAre(field + "{secret: SLACK} is neither a secret of stack blog "
                                  "(PUT /api/v1/stacks/blog/secrets/SLACK) nor one the operator "
                                  "shares with it (secrets.shared)"));
  EXPECT_THAT(Problems("shop", "{secret: THEIRS}"), ElementsAre(HasSubstr("is neither")))
      << "another stack's secret";
  EXPECT_THAT(Problems("shop", "{secret: AWS_SECRET_ACCESS_KEY}"),
              ElementsAre(HasSubstr("is neither")));
  EXPECT_THAT(Problems("shop", "{secret_file: /etc/shadow}"),
              ElementsAre(field + "{secret_file: /etc/shadow}: the server reads no file a spec "
                                  "names; use {secret: NAME} with a secret of the stack or one "
                                  "the operator shares with it (secrets.shared)"));
}

TEST_F(SecretPolicyTest, SecretsOfResolvesOwnThenSharedAndNothingElse) {
  const auto shop = policy_->SecretsOf("shop");
  EXPECT_EQ(shop("OWN"), "own-value");
  EXPECT_EQ(shop("SLACK"), "slack-value");
  EXPECT_EQ(shop("TOKEN_FILE"), "file-value");
  EXPECT_EQ(shop("THEIRS"), std::nullopt);
  EXPECT_EQ(shop("AWS_SECRET_ACCESS_KEY"), std::nullopt);
  EXPECT_EQ(shop("SERVER_SLACK"), std::nullopt) << "the variable, not the shared name";
  const auto blog = policy_->SecretsOf("blog");
  EXPECT_EQ(blog("THEIRS"), "blog-value");
  EXPECT_EQ(blog("SLACK"), std::nullopt);
}

}  // namespace
}  // namespace obsforge::control
