#include "gitops/test_repo.h"

#include <atomic>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "gitops/git_source.h"
#include <unistd.h>

namespace obsforge::gitops::testing {

namespace fs = std::filesystem;

namespace {

// libgit2 stays initialised for the whole test binary, as the app does in main().
class GitEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { library_ = std::make_unique<GitLibrary>(); }
  void TearDown() override { library_.reset(); }

 private:
  std::unique_ptr<GitLibrary> library_;
};

[[maybe_unused]] ::testing::Environment* const kGitEnvironment =
    ::testing::AddGlobalTestEnvironment(new GitEnvironment);

void Check(int rc, const std::string& what) {
  if (rc != 0) {
    const git_error* e = git_error_last();
    throw std::runtime_error(what + ": " + (e != nullptr ? e->message : "?"));
  }
}

// Builds the tree for `files` (paths relative to this level) and returns its oid.
git_oid BuildTree(git_repository* repo, const std::map<std::string, std::string>& files) {
  std::map<std::string, std::map<std::string, std::string>> subdirs;
  git_treebuilder* builder = nullptr;
  Check(git_treebuilder_new(&builder, repo, nullptr), "treebuilder");
  for (const auto& [path, content] : files) {
    const auto slash = path.find('/');
    if (slash != std::string::npos) {
      subdirs[path.substr(0, slash)][path.substr(slash + 1)] = content;
      continue;
    }
    std::string name = path;
    git_filemode_t mode = GIT_FILEMODE_BLOB;
    if (name.size() > 2 && name.substr(name.size() - 2) == "@x") {
      mode = GIT_FILEMODE_BLOB_EXECUTABLE;
      name.resize(name.size() - 2);
    } else if (name.size() > 2 && name.substr(name.size() - 2) == "@l") {
      mode = GIT_FILEMODE_LINK;
      name.resize(name.size() - 2);
    }
    git_oid blob;
    Check(git_blob_create_from_buffer(&blob, repo, content.data(), content.size()), "blob");
    Check(git_treebuilder_insert(nullptr, builder, name.c_str(), &blob, mode), "insert");
  }
  for (const auto& [name, sub] : subdirs) {
    const git_oid tree = BuildTree(repo, sub);
    Check(git_treebuilder_insert(nullptr, builder, name.c_str(), &tree, GIT_FILEMODE_TREE),
          "insert tree");
  }
  git_oid oid;
  Check(git_treebuilder_write(&oid, builder), "write tree");
  git_treebuilder_free(builder);
  return oid;
}

std::string Hex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1] = {};
  git_oid_tostr(buf, sizeof buf, &oid);
  return buf;
}

}  // namespace

TestRepo::TestRepo(fs::path dir) : dir_(std::move(dir)) {
  Check(git_repository_init(&repo_, dir_.c_str(), 1), "init");
}

TestRepo::~TestRepo() {
  git_repository_free(repo_);
}

std::string TestRepo::Head(const std::string& branch) const {
  git_oid oid;
  if (git_reference_name_to_id(&oid, repo_, ("refs/heads/" + branch).c_str()) != 0) {
    return "";
  }
  return Hex(oid);
}

std::string TestRepo::Commit(const std::map<std::string, std::string>& files,
                             const std::string& message,
                             const std::string& branch) {
  return CommitOn(Head(branch), files, message, branch);
}

std::string TestRepo::CommitOn(const std::string& parent,
                               const std::map<std::string, std::string>& files,
                               const std::string& message,
                               const std::string& branch) {
  const git_oid tree_oid = BuildTree(repo_, files);
  git_tree* tree = nullptr;
  Check(git_tree_lookup(&tree, repo_, &tree_oid), "tree lookup");
  git_signature* sig = nullptr;
  Check(git_signature_new(&sig, "Ada Lovelace", "ada@example.com", 1'700'000'000, 0), "sig");
  git_commit* parent_commit = nullptr;
  if (!parent.empty()) {
    git_oid parent_oid;
    Check(git_oid_fromstr(&parent_oid, parent.c_str()), "parent sha");
    Check(git_commit_lookup(&parent_commit, repo_, &parent_oid), "parent lookup");
  }
  std::vector<const git_commit*> parents;
  if (parent_commit != nullptr) {
    parents.push_back(parent_commit);
  }
  git_oid oid;
  Check(git_commit_create(&oid, repo_, nullptr, sig, sig, nullptr, message.c_str(), tree,
                          parents.size(), parents.data()),
        "commit");
  git_commit_free(parent_commit);
  git_signature_free(sig);
  git_tree_free(tree);
  ResetBranch(Hex(oid), branch);
  return Hex(oid);
}

void TestRepo::ResetBranch(const std::string& sha, const std::string& branch) {
  git_oid oid;
  Check(git_oid_fromstr(&oid, sha.c_str()), "sha");
  git_reference* ref = nullptr;
  Check(git_reference_create(&ref, repo_, ("refs/heads/" + branch).c_str(), &oid, 1, "test"),
        "ref");
  git_reference_free(ref);
}

}  // namespace obsforge::gitops::testing
