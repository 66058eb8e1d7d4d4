// libgit2 access: a bare mirror fetched with a forced refspec, and checkouts written blob by blob
// from the commit's tree (no working tree, no index, nothing for git hooks or filters to touch).
#include "gitops/git_source.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <random>
#include <ranges>
#include <system_error>
#include <utility>
#include <vector>

#include <git2.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace obsforge::gitops {

namespace fs = std::filesystem;
using core::Error;
using core::ErrorCode;
using core::MakeError;
using core::Result;

GitLibrary::GitLibrary() {
  git_libgit2_init();
}
GitLibrary::~GitLibrary() {
  git_libgit2_shutdown();
}

namespace {

// RAII for the libgit2 handles this file uses.
template <class T, void (*Free)(T*)>
struct Handle {
  T* ptr = nullptr;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (ptr != nullptr) {
      Free(ptr);
    }
  }
};
using RemoteHandle = Handle<git_remote, git_remote_free>;
using CommitHandle = Handle<git_commit, git_commit_free>;
using TreeHandle = Handle<git_tree, git_tree_free>;
using BlobHandle = Handle<git_blob, git_blob_free>;

std::string LastGitMessage() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
}

bool IsHexSha(const std::string& sha) {
  return sha.size() == GIT_OID_HEXSZ && std::all_of(sha.begin(), sha.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string OidHex(const git_oid* oid) {
  std::array<char, GIT_OID_HEXSZ + 1> buf{};
  git_oid_tostr(buf.data(), buf.size(), oid);
  return buf.data();
}

struct CredentialState {
  const GitSourceOptions* options = nullptr;
  bool secret_sent = false;
  int usernames_sent = 0;
};

int AuthFailed(const char* message) {
  git_error_set_str(GIT_ERROR_NET, message);
  return GIT_EAUTH;
}

// libgit2 calls this again after every rejected credential; sending the secret once per fetch
// keeps a wrong token from looping until the server locks the account. A bare user name (ssh
// asks for it before the key when the URL has none) does not count as an attempt.
int ProvideCredentials(git_credential** out,
                       const char* /*url*/,
                       const char* username_from_url,
                       unsigned int allowed_types,
                       void* payload) {
  auto* state = static_cast<CredentialState*>(payload);
  const GitSourceOptions& o = *state->options;
  const char* user =
      username_from_url != nullptr && *username_from_url != '\0' ? username_from_url : "git";
  const bool can_key = (allowed_types & GIT_CREDENTIAL_SSH_KEY) != 0 && !o.ssh_key.empty();
  const bool can_token =
      (allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !o.token.empty();
  if ((can_key || can_token) && state->secret_sent) {
    return AuthFailed("authentication failed: the remote rejected the credentials");
  }
  if (can_key) {
    state->secret_sent = true;
    return git_credential_ssh_key_new(out, user, nullptr, o.ssh_key.c_str(),
                                      o.ssh_passphrase.Reveal().c_str());
  }
  if (can_token) {
    state->secret_sent = true;
    return git_credential_userpass_plaintext_new(out, o.token_user.c_str(),
                                                 o.token.Reveal().c_str());
  }
  if ((allowed_types & GIT_CREDENTIAL_USERNAME) != 0 && state->usernames_sent++ == 0) {
    return git_credential_username_new(out, user);
  }
  return AuthFailed("authentication required but no token or ssh key is configured");
}

// Git forbids these in trees, but a hostile remote can still send them: never let an entry name
// leave the checkout directory.
bool SafeEntryName(const char* name) {
  const std::string n = name;
  return !n.empty() && n != "." && n != ".." && n != ".git" && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos;
}

Result<void> WriteBlob(const fs::path& path, const void* data, size_t size, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kInternal,
                     "cannot create " + path.string() + ": " +
                         std::error_code(errno, std::generic_category()).message());
  }
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return MakeError(ErrorCode::kInternal,
                       "cannot write " + path.string() + ": " +
                           std::error_code(err, std::generic_category()).message());
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::close(fd) != 0) {
    return MakeError(ErrorCode::kInternal,
                     "cannot finish " + path.string() + ": " +
                         std::error_code(errno, std::generic_category()).message());
  }
  return {};
}

struct WalkState {
  git_repository* repo = nullptr;
  fs::path dest;
  std::vector<fs::path> dirs;  // made read-only after their content is written
  std::optional<Error> error;
};

int WalkEntry(const char* root, const git_tree_entry* entry, void* payload) {
  auto* state = static_cast<WalkState*>(payload);
  const char* name = git_tree_entry_name(entry);
  if (!SafeEntryName(name)) {
    return 1;  // skip the entry (and its subtree)
  }
  const fs::path path = state->dest / root / name;
  const git_filemode_t mode = git_tree_entry_filemode(entry);
  std::error_code ec;
  switch (mode) {
    case GIT_FILEMODE_TREE:
      fs::create_directory(path, ec);
      if (ec) {
        state->error =
            MakeError(ErrorCode::kInternal, "cannot create " + path.string() + ": " + ec.message());
        return -1;
      }
      state->dirs.push_back(path);
      return 0;
    case GIT_FILEMODE_BLOB:
    case GIT_FILEMODE_BLOB_EXECUTABLE:
    case GIT_FILEMODE_LINK: {
      BlobHandle blob;
      if (git_blob_lookup(&blob.ptr, state->repo, git_tree_entry_id(entry)) != 0) {
        state->error = MakeError(ErrorCode::kInternal,
                                 "cannot read blob for " + path.string() + ": " + LastGitMessage());
        return -1;
      }
      const void* data = git_blob_rawcontent(blob.ptr);
      const auto size = static_cast<size_t>(git_blob_rawsize(blob.ptr));
      if (mode == GIT_FILEMODE_LINK) {
        // The content source refuses links that lead out of the checkout; keep git's meaning.
        const std::string target(static_cast<const char*>(data), size);
        fs::create_symlink(target, path, ec);
        if (ec) {
          state->error = MakeError(ErrorCode::kInternal,
                                   "cannot create link " + path.string() + ": " + ec.message());
          return -1;
        }
        return 0;
      }
      auto written =
          WriteBlob(path, data, size, mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0555 : 0444);
      if (!written) {
        state->error = written.error();
        return -1;
      }
      return 0;
    }
    default:
      return 0;  // submodules (GIT_FILEMODE_COMMIT): not part of this repository's content
  }
}

void MakeWritable(const fs::path& dir) {
  std::error_code ec;
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
  }
}

void RemoveTree(const fs::path& dir) {
  std::error_code ec;
  MakeWritable(dir);
  fs::remove_all(dir, ec);
}

std::string Marker(const std::string& sha) {
  return sha + ".complete";
}

// Removes what interrupted checkouts left and the least recently used complete checkouts beyond
// `keep_checkouts`, counting `current` (which stays) as one of them.
void PruneCheckouts(const fs::path& checkouts, const std::string& current, int keep_checkouts) {
  std::error_code ec;
  std::vector<std::pair<fs::file_time_type, std::string>> complete;
  for (const auto& e : fs::directory_iterator(checkouts, ec)) {
    const std::string name = e.path().filename().string();
    if (IsHexSha(name) && name != current) {
      const auto t = fs::last_write_time(checkouts / Marker(name), ec);
      if (ec) {
        RemoveTree(e.path());  // never completed
        continue;
      }
      complete.emplace_back(t, name);
    } else if (name.starts_with(".tmp-")) {
      RemoveTree(e.path());  // left by an interrupted checkout
    }
  }
  std::sort(complete.begin(), complete.end(), std::greater<>());
  const auto keep = static_cast<size_t>(std::max(keep_checkouts - 1, 0));
  for (size_t i = keep; i < complete.size(); ++i) {
    fs::remove(checkouts / Marker(complete[i].second), ec);
    RemoveTree(checkouts / complete[i].second);
  }
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) {
    return url;
  }
  const auto host_start = scheme + 3;
  const auto path_start = url.find('/', host_start);
  const auto at = url.rfind('@', path_start == std::string::npos ? url.size() : path_start);
  if (at == std::string::npos || at < host_start) {
    return url;
  }
  return url.substr(0, host_start) + "<secret>" + url.substr(at);
}

struct GitSource::Repo {
  git_repository* repo = nullptr;
  Repo() = default;
  Repo(const Repo&) = delete;
  Repo& operator=(const Repo&) = delete;
  ~Repo() {
    if (repo != nullptr) {
      git_repository_free(repo);
    }
  }
};

GitSource::GitSource(GitSourceOptions options) : options_(std::move(options)) {
}
GitSource::~GitSource() = default;

std::string GitSource::Redact(std::string text) const {
  auto replace_all = [&text](const std::string& value) {
    if (value.empty()) {
      return;
    }
    for (auto pos = text.find(value); pos != std::string::npos; pos = text.find(value, pos)) {
      text.replace(pos, value.size(), "<secret>");
      pos += 8;
    }
  };
  if (options_.url != RedactUrl(options_.url)) {
    auto pos = text.find(options_.url);
    while (pos != std::string::npos) {
      text.replace(pos, options_.url.size(), RedactUrl(options_.url));
      pos = text.find(options_.url, pos + 1);
    }
  }
  replace_all(options_.token.Reveal());
  replace_all(options_.ssh_passphrase.Reveal());
  return text;
}

Error GitSource::GitError(ErrorCode code, const std::string& what) const {
  return MakeError(code, Redact(what + ": " + LastGitMessage()));
}

Result<void> GitSource::OpenRepository() {
  if (repo_ != nullptr) {
    return {};
  }
  const fs::path path = options_.cache_dir / "repo.git";
  std::error_code ec;
  fs::create_directories(options_.cache_dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal,
                     "cannot create " + options_.cache_dir.string() + ": " + ec.message());
  }
  auto repo = std::make_unique<Repo>();
  const int rc = fs::exists(path / "HEAD")
                     ? git_repository_open_bare(&repo->repo, path.c_str())
                     : git_repository_init(&repo->repo, path.c_str(), /*is_bare=*/1);
  if (rc != 0) {
    return GitError(ErrorCode::kInternal, "cannot open git cache " + path.string());
  }
  repo_ = std::move(repo);
  return {};
}

Result<CommitInfo> GitSource::Fetch() {
  if (auto opened = OpenRepository(); !opened) {
    return opened.error();
  }
  const std::string shown_url = RedactUrl(options_.url);
  RemoteHandle remote;
  // An anonymous remote that ignores url.*.insteadOf: the configured URL is the one fetched (and
  // libgit2 1.5 leaks a regex match block per config entry it tests for insteadOf).
  git_remote_create_options create_options;
  git_remote_create_options_init(&create_options, GIT_REMOTE_CREATE_OPTIONS_VERSION);
  create_options.repository = repo_->repo;
  create_options.flags =
      GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  if (git_remote_create_with_opts(&remote.ptr, options_.url.c_str(), &create_options) != 0) {
    return GitError(ErrorCode::kUpstream, "invalid git remote " + shown_url);
  }
  const std::string head_ref = "refs/heads/" + options_.branch;
  const std::string tracking_ref = "refs/remotes/origin/" + options_.branch;
  std::string refspec = "+" + head_ref + ":" + tracking_ref;
  std::array<char*, 1> specs{refspec.data()};
  const git_strarray refspecs{specs.data(), specs.size()};

  CredentialState creds{.options = &options_};
  git_fetch_options fetch_options;
  git_fetch_options_init(&fetch_options, GIT_FETCH_OPTIONS_VERSION);
  fetch_options.callbacks.credentials = ProvideCredentials;
  fetch_options.callbacks.payload = &creds;
  fetch_options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  if (git_remote_fetch(remote.ptr, &refspecs, &fetch_options, "obsforge: fetch") != 0) {
    return GitError(ErrorCode::kUpstream, "fetch of " + shown_url + " failed");
  }

  // The advertised head, not the tracking ref: a branch deleted upstream must not leave us
  // syncing its last known commit forever.
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  if (git_remote_ls(&heads, &count, remote.ptr) != 0) {
    return GitError(ErrorCode::kUpstream, "cannot list refs of " + shown_url);
  }
  const git_oid* head = nullptr;
  for (size_t i = 0; i < count; ++i) {
    if (head_ref == heads[i]->name) {
      head = &heads[i]->oid;
    }
  }
  if (head == nullptr) {
    return MakeError(ErrorCode::kNotFound,
                     "branch '" + options_.branch + "' not found in " + shown_url);
  }
  CommitHandle commit;
  if (git_commit_lookup(&commit.ptr, repo_->repo, head) != 0) {
    return GitError(ErrorCode::kUpstream, "head of '" + options_.branch + "' is not a commit");
  }
  const git_signature* author = git_commit_author(commit.ptr);
  const char* summary = git_commit_summary(commit.ptr);
  const char* message = git_commit_message(commit.ptr);
  return CommitInfo{
      .sha = OidHex(git_commit_id(commit.ptr)),
      .author_name = author != nullptr && author->name != nullptr ? author->name : "",
      .author_email = author != nullptr && author->email != nullptr ? author->email : "",
      .summary = summary != nullptr ? summary : "",
      .message = message != nullptr ? message : "",
      .time = std::chrono::system_clock::time_point(
          std::chrono::seconds(author != nullptr ? author->when.time : 0)),
  };
}

Result<fs::path> GitSource::Checkout(const std::string& sha) {
  if (!IsHexSha(sha)) {
    return MakeError(ErrorCode::kNotFound, "not a commit sha: '" + sha + "'");
  }
  if (auto opened = OpenRepository(); !opened) {
    return opened.error();
  }
  const fs::path checkouts = options_.cache_dir / "checkouts";
  const fs::path dest = checkouts / sha;
  const fs::path marker = checkouts / Marker(sha);
  std::error_code ec;
  fs::create_directories(checkouts, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal,
                     "cannot create " + checkouts.string() + ": " + ec.message());
  }

  auto prune = [&] { PruneCheckouts(checkouts, sha, options_.keep_checkouts); };

  if (fs::exists(marker) && fs::is_directory(dest)) {
    fs::last_write_time(marker, fs::file_time_type::clock::now(), ec);
    prune();
    return dest;
  }

  git_oid oid;
  CommitHandle commit;
  if (git_oid_fromstr(&oid, sha.c_str()) != 0 ||
      git_commit_lookup(&commit.ptr, repo_->repo, &oid) != 0) {
    return GitError(ErrorCode::kNotFound, "commit " + sha + " not found");
  }
  TreeHandle tree;
  if (git_commit_tree(&tree.ptr, commit.ptr) != 0) {
    return GitError(ErrorCode::kInternal, "cannot read the tree of " + sha);
  }

  std::random_device rd;
  const fs::path tmp = checkouts / (".tmp-" + sha.substr(0, 12) + "-" + std::to_string(rd()));
  RemoveTree(dest);  // an incomplete leftover
  fs::create_directory(tmp, ec);
  if (ec) {
    return MakeError(ErrorCode::kInternal, "cannot create " + tmp.string() + ": " + ec.message());
  }
  WalkState walk{.repo = repo_->repo, .dest = tmp};
  if (git_tree_walk(tree.ptr, GIT_TREEWALK_PRE, WalkEntry, &walk) != 0) {
    RemoveTree(tmp);
    if (walk.error) {
      return *walk.error;
    }
    return GitError(ErrorCode::kInternal, "cannot check out " + sha);
  }
  // Children first, so a parent is still writable while its children change mode.
  for (const auto& dir : std::views::reverse(walk.dirs)) {
    fs::permissions(dir, static_cast<fs::perms>(0555), ec);
  }
  // The files must be on disk before the marker says they are.
  if (const int fd = ::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::syncfs(fd);
    ::close(fd);
  }
  fs::permissions(tmp, static_cast<fs::perms>(0555), ec);
  fs::rename(tmp, dest, ec);
  if (ec) {
    RemoveTree(tmp);
    return MakeError(ErrorCode::kInternal,
                     "cannot move checkout to " + dest.string() + ": " + ec.message());
  }
  const int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return MakeError(ErrorCode::kInternal,
                     "cannot write " + marker.string() + ": " +
                         std::error_code(errno, std::generic_category()).message());
  }
  ::fsync(fd);
  ::close(fd);
  prune();
  return dest;
}

}  // namespace obsforge::gitops
