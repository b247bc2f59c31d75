#include "base/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

namespace mailvault::metrics {
namespace {

TEST(MetricsText, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(EscapeLabelValue("two\nlines"), "two\\nlines");
  // Bytes that are not UTF-8 become U+FFFD; valid UTF-8 and NUL stay.
  EXPECT_EQ(EscapeLabelValue(std::string("a\xff"
                                         "b",
                                         3)),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(EscapeLabelValue("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(EscapeLabelValue(std::string("x\0y", 3)), std::string("x\0y", 3));
}

TEST(MetricsText, HelpIsEscaped) {
  EXPECT_EQ(EscapeHelp("a \"quoted\" \\ help\nline"), "a \"quoted\" \\\\ help\\nline");
}

TEST(MetricsText, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(18446744073709551615.0), "18446744073709551616");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(MetricsText, Names) {
  EXPECT_TRUE(IsMetricName("mailvault_copies_total"));
  EXPECT_TRUE(IsMetricName("a:b_c9"));
  EXPECT_FALSE(IsMetricName("9lives"));
  EXPECT_FALSE(IsMetricName("has-dash"));
  EXPECT_FALSE(IsMetricName(""));
  EXPECT_TRUE(IsLabelName("engine"));
  EXPECT_FALSE(IsLabelName("a:b"));
}

TEST(MetricsText, CountersWithLabels) {
  Registry r;
  CounterFamily& f = r.Counters("mv_test_total", "Things \"counted\".", {"engine", "label"});
  f.With({"anti-virus", "infected"}).Add();
  f.With({"anti-virus", "infected"}).Add(2);
  f.With({"anti-spam", "a\"b\\c\nd"}).Add();
  r.CounterOf("mv_plain_total", "No labels.").Add(7);
  TextWriter w;
  r.Write(w);
  EXPECT_EQ(w.text(),
            "# HELP mv_test_total Things \"counted\".\n"
            "# TYPE mv_test_total counter\n"
            "mv_test_total{engine=\"anti-virus\",label=\"infected\"} 3\n"
            "mv_test_total{engine=\"anti-spam\",label=\"a\\\"b\\\\c\\nd\"} 1\n"
            "# HELP mv_plain_total No labels.\n"
            "# TYPE mv_plain_total counter\n"
            "mv_plain_total 7\n");
}

TEST(MetricsText, HistogramBucketsAreCumulativeAndEndWithInf) {
  Registry r;
  Histogram& h = r.HistogramOf("mv_latency_seconds", "Latency.", {0.1, 0.5, 1});
  h.Observe(0.05);  // <= 0.1
  h.Observe(0.1);   // le is inclusive
  h.Observe(0.3);   // <= 0.5
  h.Observe(7);     // above every bound
  TextWriter w;
  r.Write(w);
  EXPECT_EQ(w.text(),
            "# HELP mv_latency_seconds Latency.\n"
            "# TYPE mv_latency_seconds histogram\n"
            "mv_latency_seconds_bucket{le=\"0.1\"} 2\n"
            "mv_latency_seconds_bucket{le=\"0.5\"} 3\n"
            "mv_latency_seconds_bucket{le=\"1\"} 3\n"
            "mv_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "mv_latency_seconds_sum 7.45\n"
            "mv_latency_seconds_count 4\n");
}

TEST(MetricsText, HistogramLabelsComeBeforeLe) {
  Registry r;
  r.Histograms("mv_engine_seconds", "Per engine.", {"engine"}, {1}).With({"clamd"}).Observe(2);
  TextWriter w;
  r.Write(w);
  EXPECT_NE(w.text().find("mv_engine_seconds_bucket{engine=\"clamd\",le=\"1\"} 0\n"),
            std::string::npos);
  EXPECT_NE(w.text().find("mv_engine_seconds_bucket{engine=\"clamd\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(w.text().find("mv_engine_seconds_count{engine=\"clamd\"} 1\n"), std::string::npos);
}

TEST(MetricsText, GaugesThroughTheWriter) {
  TextWriter w;
  w.Begin("mv_free_bytes", Type::kGauge, "Free.");
  w.Sample({}, 1234567890123);
  w.Begin("mv_queue", Type::kGauge, "By state.");
  w.Sample({{"state", "queued"}}, 2);
  w.Sample({{"state", "failed"}}, 0);
  EXPECT_EQ(w.text(),
            "# HELP mv_free_bytes Free.\n# TYPE mv_free_bytes gauge\nmv_free_bytes 1234567890123\n"
            "# HELP mv_queue By state.\n# TYPE mv_queue gauge\n"
            "mv_queue{state=\"queued\"} 2\nmv_queue{state=\"failed\"} 0\n");
}

TEST(MetricsDeath, AFamilyWrittenTwiceIsABug) {
  TextWriter w;
  w.Begin("mv_x", Type::kGauge, "x");
  EXPECT_DEATH(w.Begin("mv_x", Type::kGauge, "x"), "written twice");
}

TEST(MetricsDeath, BadNamesAreBugs) {
  Registry r;
  EXPECT_DEATH(r.Counters("bad-name", "", {}), "bad metric name");
  EXPECT_DEATH(r.Histograms("mv_h", "", {"le"}, {1}), "le");
  EXPECT_DEATH(r.Counters("mv_c", "", {"a"}).With({"x", "y"}), "wrong number");
}

TEST(Metrics, RegisteringAgainReturnsTheSameFamily) {
  Registry r;
  CounterFamily& a = r.Counters("mv_same_total", "x", {"k"});
  CounterFamily& b = r.Counters("mv_same_total", "x", {"k"});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(&a.With({"v"}), &b.With({"v"}));
  EXPECT_DEATH(r.Counters("mv_same_total", "x", {"other"}), "other labels");
}

// Many threads creating and counting the same children: no count is lost
// and each label set has one child (run under TSan/ASan in `make asan`).
TEST(Metrics, ConcurrentCountingLosesNothing) {
  Registry r;
  CounterFamily& f = r.Counters("mv_conc_total", "x", {"k"});
  Histogram& h = r.HistogramOf("mv_conc_seconds", "x", {1});
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        f.With({std::to_string(i % 5)}).Add();
        h.Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  uint64_t total = 0;
  int children = 0;
  f.ForEach([&](const Labels&, const Counter& c) {
    total += c.value();
    ++children;
  });
  EXPECT_EQ(children, 5);
  EXPECT_EQ(total, uint64_t{kThreads} * kEach);
  EXPECT_EQ(h.Snapshot().count(), uint64_t{kThreads} * kEach);
  EXPECT_DOUBLE_EQ(h.Snapshot().sum, 0.5 * kThreads * kEach);
}

}  // namespace
}  // namespace mailvault::metrics
