#include "render/render_cache.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/diagnostic.h"
#include <unistd.h>

namespace obsforge::render {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class RenderCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    root_ =
        fs::temp_directory_path() / ("obs-render-cache-" + std::to_string(getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "dashboards");
    Write("dashboards/a.json", R"({"title": "A", "panels": []})");
    content_ = spec::MakeDirectorySource(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel, std::ios::binary | std::ios::trunc) << text;
  }

  static spec::EnvironmentSpec Spec(const std::string& env = "dev") {
    spec::EnvironmentSpec s;
    s.stack = "cached";
    s.env = env;
    s.merged = json::parse(R"({
      "apiVersion": "obsforge/v1", "kind": "Stack", "metadata": {"name": "cached"},
      "spec": {
        "templates": "./own",
        "components": {"prometheus": {}, "grafana": {}},
        "dashboards": [{"path": "dashboards/*.json"}]
      }
    })");
    return s;
  }

  Bundle Render(RenderCache& cache, const spec::EnvironmentSpec& s = Spec()) {
    return cache.Render(s, *content_, RenderOptions{});
  }

  fs::path root_;
  std::unique_ptr<spec::ContentSource> content_;
};

TEST_F(RenderCacheTest, AnUnchangedStackIsAnsweredFromTheCache) {
  RenderCache cache(4);
  const auto first = Render(cache);
  const auto second = Render(cache);
  EXPECT_EQ(cache.misses(), 1U);
  EXPECT_EQ(cache.hits(), 1U);
  EXPECT_EQ(first, second);
  EXPECT_EQ(second, RenderEnvironment(Spec(), *content_, RenderOptions{}));
}

TEST_F(RenderCacheTest, AChangedDashboardRendersAfresh) {
  RenderCache cache(4);
  const auto first = Render(cache);
  Write("dashboards/a.json", R"({"title": "A changed", "panels": []})");
  const auto second = Render(cache);
  EXPECT_EQ(cache.hits(), 0U);
  EXPECT_EQ(cache.misses(), 2U);
  EXPECT_NE(first, second);
  EXPECT_EQ(second, RenderEnvironment(Spec(), *content_, RenderOptions{}));
}

TEST_F(RenderCacheTest, ANewFileMatchingAGlobRendersAfresh) {
  RenderCache cache(4);
  const auto first = Render(cache);
  Write("dashboards/b.json", R"({"title": "B", "panels": []})");
  const auto second = Render(cache);
  EXPECT_EQ(cache.hits(), 0U);
  EXPECT_EQ(second.files().size(), first.files().size() + 1);
}

TEST_F(RenderCacheTest, ANewTemplateThatShadowsTheDefaultRendersAfresh) {
  RenderCache cache(4);
  const auto first = Render(cache);
  ASSERT_NE(first.Find("prometheus/prometheus.yml"), nullptr);
  Write("own/prometheus/main.jsonnet", "function(stack, env) { 'prometheus.yml': { own: true } }");
  const auto second = Render(cache);
  EXPECT_EQ(cache.hits(), 0U);
  EXPECT_EQ(*second.Find("prometheus/prometheus.yml"), "own: true\n");
}

TEST_F(RenderCacheTest, TheSpecIsPartOfTheKeyAndTheCacheIsBounded) {
  RenderCache cache(1);
  (void)Render(cache, Spec("dev"));
  auto changed = Spec("dev");
  changed.merged["spec"]["values"]["scrape_interval"] = "1m";
  const auto other = Render(cache, changed);
  EXPECT_EQ(cache.misses(), 2U);
  EXPECT_NE(other.Find("prometheus/prometheus.yml")->find("scrape_interval: 1m"),
            std::string::npos);
  (void)Render(cache, Spec("dev"));  // evicted by `changed`
  EXPECT_EQ(cache.misses(), 3U);
  (void)Render(cache, Spec("dev"));
  EXPECT_EQ(cache.hits(), 1U);
}

TEST_F(RenderCacheTest, ErrorsAreNotCached) {
  RenderCache cache(4);
  Write("dashboards/a.json", R"({"panels": []})");
  for (int i = 0; i < 2; ++i) {
    try {
      (void)Render(cache);
      FAIL() << "no error";
    } catch (const core::InputError& e) {
      EXPECT_EQ(e.diagnostics()[0].ToString(),
                "dashboards/a.json: title: a dashboard needs a title");
    }
  }
  Write("dashboards/a.json", R"({"title": "A", "panels": []})");
  EXPECT_NO_THROW((void)Render(cache));
  EXPECT_EQ(cache.hits(), 0U);
}

}  // namespace
}  // namespace obsforge::render
