#include "spec/schema.h"

#include <filesystem>
#include <limits>

#include "spec/checks.h"

namespace obsforge::spec::schema {
namespace {

using nlohmann::json;

std::string LastSegment(const std::string& path) {
  const auto cut = path.find_last_of('.');
  return cut == std::string::npos ? path : path.substr(cut + 1);
}

bool ExpectType(Context& ctx,
                const json& value,
                const std::string& path,
                bool ok,
                const std::string& expected) {
  if (!ok) {
    ctx.Report(path, "expected " + expected + ", got " + TypeName(value));
  }
  return ok;
}

// Reports an escaping path and returns true, so callers stop there.
bool Escapes(Context& ctx, const std::string& path, const std::string& rel) {
  const auto normal = std::filesystem::path(rel).lexically_normal().generic_string();
  if (rel.empty() || rel.front() == '/' || normal.starts_with("..") || ctx.content->Escapes(rel)) {
    ctx.Report(path, "path \"" + rel + "\" escapes the stack root");
    return true;
  }
  return false;
}

}  // namespace

void Context::Report(const std::string& path, std::string message, bool at_key) const {
  const auto pos = locate(path, at_key);
  out->push_back(core::Diagnostic{.file = file,
                                  .line = pos.line,
                                  .column = pos.column,
                                  .path = path,
                                  .message = std::move(message)});
}

std::string TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "a map";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    default:
      return "null";
  }
}

std::string Quote(const json& value) {
  if (value.is_string()) {
    return "\"" + value.get<std::string>() + "\"";
  }
  return value.dump();
}

void Run(const Check& check, Context& ctx, const json& value, const std::string& path) {
  if (ctx.overlay && value.is_null()) {
    return;
  }
  check(ctx, value, path);
}

Check Any() {
  return [](Context&, const json&, const std::string&) {};
}

Check String() {
  return [](Context& ctx, const json& v, const std::string& path) {
    ExpectType(ctx, v, path, v.is_string(), "a string");
  };
}

Check Bool() {
  return [](Context& ctx, const json& v, const std::string& path) {
    ExpectType(ctx, v, path, v.is_boolean(), "a boolean (true or false)");
  };
}

Check Int(std::int64_t min, std::int64_t max) {
  return [min, max](Context& ctx, const json& v, const std::string& path) {
    if (!ExpectType(ctx, v, path, v.is_number_integer(), "an integer")) {
      return;
    }
    const bool too_big =
        v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(max);
    const auto n = too_big ? max : v.get<std::int64_t>();
    if (too_big || n < min || n > max) {
      ctx.Report(path, max == std::numeric_limits<std::int64_t>::max()
                           ? LastSegment(path) + " must be at least " + std::to_string(min)
                           : LastSegment(path) + " must be between " + std::to_string(min) +
                                 " and " + std::to_string(max));
    }
  };
}

Check Number() {
  return [](Context& ctx, const json& v, const std::string& path) {
    ExpectType(ctx, v, path, v.is_number(), "a number");
  };
}

Check Format(std::function<bool(std::string_view)> predicate, std::string what) {
  return [predicate = std::move(predicate), what = std::move(what)](Context& ctx, const json& v,
                                                                    const std::string& path) {
    if (!v.is_string() || !predicate(v.get<std::string>())) {
      ctx.Report(path, Quote(v) + " is not " + what);
    }
  };
}

Check Enum(std::vector<std::string> allowed) {
  return [allowed = std::move(allowed)](Context& ctx, const json& v, const std::string& path) {
    if (v.is_string() &&
        std::find(allowed.begin(), allowed.end(), v.get<std::string>()) != allowed.end()) {
      return;
    }
    std::string list;
    for (const auto& a : allowed) {
      list += (list.empty() ? "" : ", ") + a;
    }
    std::string message = Quote(v) + " is not one of " + list;
    if (v.is_string()) {
      if (auto hint = Suggest(v.get<std::string>(), allowed)) {
        message += "; did you mean \"" + *hint + "\"?";
      }
    }
    ctx.Report(path, message);
  };
}

Check AnyMap() {
  return [](Context& ctx, const json& v, const std::string& path) {
    ExpectType(ctx, v, path, v.is_object(), "a map");
  };
}

Check StringMap() {
  return [](Context& ctx, const json& v, const std::string& path) {
    if (!ExpectType(ctx, v, path, v.is_object(), "a map")) {
      return;
    }
    for (const auto& [key, item] : v.items()) {
      const auto child = ChildPath(path, key);
      ExpectType(ctx, item, child, item.is_string(), "a string");
    }
  };
}

Check ListOf(Check item) {
  return [item = std::move(item)](Context& ctx, const json& v, const std::string& path) {
    if (!ExpectType(ctx, v, path, v.is_array(), "a list")) {
      return;
    }
    // A list replaces the base one whole, so its items are complete values, not overlays.
    const bool overlay = ctx.overlay;
    ctx.overlay = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      item(ctx, v[i], IndexPath(path, i));
    }
    ctx.overlay = overlay;
  };
}

Check OneOrList(Check item) {
  auto list = ListOf(item);
  return [item = std::move(item), list = std::move(list)](Context& ctx, const json& v,
                                                          const std::string& path) {
    if (v.is_array()) {
      list(ctx, v, path);
    } else {
      item(ctx, v, path);
    }
  };
}

Check Nullable(Check check) {
  return [check = std::move(check)](Context& ctx, const json& v, const std::string& path) {
    if (!v.is_null()) {
      check(ctx, v, path);
    }
  };
}

Check MapOf(std::vector<Field> fields, std::vector<Check> post, std::string noun) {
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const auto& f : fields) {
    names.push_back(f.name);
  }
  return [fields = std::move(fields), post = std::move(post), noun = std::move(noun),
          names = std::move(names)](Context& ctx, const json& v, const std::string& path) {
    if (!ExpectType(ctx, v, path, v.is_object(), "a map")) {
      return;
    }
    for (const auto& [key, item] : v.items()) {
      const auto child = ChildPath(path, key);
      const auto field = std::find_if(fields.begin(), fields.end(),
                                      [&key = key](const Field& f) { return f.name == key; });
      if (field == fields.end()) {
        std::string message = "unknown " + noun;
        message.append(" \"").append(key).append("\"");
        if (auto hint = Suggest(key, names)) {
          message += "; did you mean \"" + *hint + "\"?";
        }
        ctx.Report(child, message, /*at_key=*/true);
        continue;
      }
      Run(field->check, ctx, item, child);
    }
    for (const auto& f : fields) {
      if (f.required && !v.contains(f.name)) {
        ctx.Report(path, "missing required key \"" + f.name + "\"");
      }
    }
    for (const auto& check : post) {
      check(ctx, v, path);
    }
  };
}

Check Lazy(const Check* check) {
  return [check](Context& ctx, const json& v, const std::string& path) { (*check)(ctx, v, path); };
}

Check SecretRef() {
  return [](Context& ctx, const json& v, const std::string& path) {
    if (v.is_string()) {
      ctx.Report(path, "secret written inline; use {secret: NAME} or {secret_file: PATH}");
      return;
    }
    const bool ok = v.is_object() && v.size() == 1 &&
                    ((v.contains("secret") && v["secret"].is_string() &&
                      !v["secret"].get<std::string>().empty()) ||
                     (v.contains("secret_file") && v["secret_file"].is_string() &&
                      !v["secret_file"].get<std::string>().empty()));
    if (!ok) {
      // Name the keys, never the values: this map may well hold the secret itself.
      std::string got = TypeName(v);
      if (v.is_object()) {
        got = "a map with keys";
        for (const auto& [key, unused] : v.items()) {
          got += (got.ends_with("keys") ? " " : ", ") + key;
        }
      }
      ctx.Report(path, "expected {secret: NAME} or {secret_file: PATH}, got " + got);
    }
  };
}

Check Glob() {
  return [](Context& ctx, const json& v, const std::string& path) {
    if (!ExpectType(ctx, v, path, v.is_string(), "a string")) {
      return;
    }
    const auto rel = v.get<std::string>();
    if (Escapes(ctx, path, rel)) {
      return;
    }
    if (ctx.content->Glob(rel).empty()) {
      ctx.Report(path, Quote(v) + " matches no file");
    }
  };
}

Check File(std::vector<std::string> extensions) {
  return
      [extensions = std::move(extensions)](Context& ctx, const json& v, const std::string& path) {
        if (!ExpectType(ctx, v, path, v.is_string(), "a string")) {
          return;
        }
        const auto rel = v.get<std::string>();
        if (Escapes(ctx, path, rel)) {
          return;
        }
        const bool known = std::any_of(extensions.begin(), extensions.end(),
                                       [&](const std::string& e) { return rel.ends_with(e); });
        if (!known) {
          std::string list;
          for (const auto& e : extensions) {
            list += (list.empty() ? "" : " or ") + e;
          }
          ctx.Report(path, Quote(v) + " is not a " + list + " file");
        } else if (!ctx.content->Read(rel)) {
          ctx.Report(path, "file " + Quote(v) + " does not exist");
        }
      };
}

Check Directory() {
  return [](Context& ctx, const json& v, const std::string& path) {
    if (!ExpectType(ctx, v, path, v.is_string(), "a string")) {
      return;
    }
    const auto rel = v.get<std::string>();
    if (Escapes(ctx, path, rel)) {
      return;
    }
    const auto normal = std::filesystem::path(rel).lexically_normal().generic_string();
    const auto dir = normal.ends_with('/') ? normal : normal + "/";
    if (ctx.content->Glob(dir + "**").empty()) {
      ctx.Report(path, "directory " + Quote(v) + " holds no files");
    }
  };
}

}  // namespace obsforge::spec::schema
