#include "provision/dashboard_peek.h"

#include <vector>

#include <nlohmann/json.hpp>

namespace obsforge::provision {
namespace {

using json = nlohmann::json;

// SAX handler: keeps the key path of the value being read and picks the two scalars out; every
// other value is lexed and dropped.
class PeekHandler final : public nlohmann::json_sax<json> {
 public:
  explicit PeekHandler(DashboardPeek& out) : out_(out) {}

  bool null() override { return true; }
  bool boolean(bool /*value*/) override { return true; }
  bool number_integer(number_integer_t v) override {
    SetNumber(v);
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override {
    SetNumber(static_cast<std::int64_t>(v));
    return true;
  }
  bool number_float(number_float_t /*value*/, const string_t& /*text*/) override { return true; }
  bool string(string_t& v) override {
    if (At("meta", "folderUid")) {
      out_.folder_uid = v;
    }
    return true;
  }
  bool binary(binary_t& /*value*/) override { return true; }
  bool start_object(std::size_t /*size*/) override {
    if (path_.empty()) {
      top_is_object_ = true;
    }
    path_.emplace_back();
    return true;
  }
  bool key(string_t& k) override {
    path_.back() = path_.size() <= 2 ? k : std::string();
    return true;
  }
  bool end_object() override {
    path_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*size*/) override {
    path_.emplace_back();
    return true;
  }
  bool end_array() override {
    path_.pop_back();
    return true;
  }
  bool parse_error(std::size_t /*position*/,
                   const std::string& /*token*/,
                   const nlohmann::detail::exception& /*error*/) override {
    return false;
  }

  bool top_is_object() const { return top_is_object_; }

 private:
  // True when the current scalar is the member `inner` of the member `outer` of the top object.
  bool At(const char* outer, const char* inner) const {
    return path_.size() == 2 && path_[0] == outer && path_[1] == inner;
  }
  void SetNumber(std::int64_t v) {
    if (At("dashboard", "version")) {
      out_.version = v;
    } else if (At("dashboard", "id")) {
      out_.id = v;
    }
  }

  DashboardPeek& out_;
  std::vector<std::string> path_;
  bool top_is_object_ = false;
};

}  // namespace

std::optional<DashboardPeek> PeekDashboard(std::string_view body) {
  DashboardPeek peek;
  PeekHandler handler(peek);
  const bool ok = json::sax_parse(body.begin(), body.end(), &handler, json::input_format_t::json,
                                  /*strict=*/true);
  if (!ok || !handler.top_is_object()) {
    return std::nullopt;
  }
  return peek;
}

}  // namespace obsforge::provision
