// Metrics: counters and histograms that the components count into where the
// events happen, and the Prometheus text exposition format (version 0.0.4)
// that GET /metrics answers with (docs/metrics.md lists every metric).
//
// Why base: every component that counts (intake, scan, store, delivery,
// console, later the event log) already depends on base, and metrics need
// neither the OS nor a third-party library, so they sit at the bottom of the
// layering and nothing has to be passed through every Options struct.
//
// Threads: Counter::Add, Histogram::Observe and the families' With() take no
// lock (atomics; a family's children are an append-only lock-free list, so
// With() costs a short walk over the label sets seen so far). Registering a
// family takes the registry's mutex (do it once, e.g. in a function-local
// static) and so does Write (a scrape). Registered objects live as long as
// their registry; Global()'s live for the process.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailvault::metrics {

// Label name/value pairs, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { kCounter, kGauge, kHistogram };

// A monotonic count.
class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// What a histogram holds at one moment: per-bucket counts (not cumulative;
// the last one is above every bound), their sum of observed values.
struct HistogramSnapshot {
  std::vector<double> bounds;    // upper bounds, strictly increasing, finite
  std::vector<uint64_t> counts;  // bounds.size() + 1
  double sum = 0;
  uint64_t count() const;
};

// Observations counted into fixed buckets (upper bounds inclusive, as
// Prometheus's `le`).
class Histogram {
 public:
  // `bounds` strictly increasing and finite (an invariant: aborts otherwise).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  HistogramSnapshot Snapshot() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Bucket bounds for latencies in seconds: 1 ms to 60 s.
std::vector<double> LatencyBuckets();
// Powers of two from 1 to `max` (batch sizes).
std::vector<double> CountBuckets(double max);

// A metric name and the label names its children carry; children by label
// values. With() returns the child for these values (created on first use;
// the values must be as many as the names: an invariant).
template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {});
  ~Family();
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  T& With(std::initializer_list<std::string_view> values);
  T& With(const std::vector<std::string>& values);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls f(labels, child) for every child, oldest first.
  template <typename F>
  void ForEach(F f) const;

 private:
  struct Child {
    std::vector<std::string> values;
    T metric;
    Child* next = nullptr;
    Child(std::vector<std::string> v, const std::vector<double>& bounds);
  };
  const std::string name_, help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;   // histograms only
  std::atomic<Child*> head_{nullptr};  // newest first
};

using CounterFamily = Family<Counter>;
using HistogramFamily = Family<Histogram>;

class TextWriter;

// The families of one process (or of one test). Names must follow
// Prometheus's rules ([a-zA-Z_:][a-zA-Z0-9_:]*, labels [a-zA-Z_][a-zA-Z0-9_]*,
// no "le" on histograms) and be unique: registering a name twice returns the
// family already there if its kind and labels agree (an invariant
// otherwise), so two components may share one.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  CounterFamily& Counters(std::string_view name, std::string_view help,
                          std::vector<std::string> label_names);
  HistogramFamily& Histograms(std::string_view name, std::string_view help,
                              std::vector<std::string> label_names, std::vector<double> bounds);
  // A family without labels: its one child.
  Counter& CounterOf(std::string_view name, std::string_view help) {
    return Counters(name, help, {}).With({});
  }
  Histogram& HistogramOf(std::string_view name, std::string_view help, std::vector<double> bounds) {
    return Histograms(name, help, {}, std::move(bounds)).With({});
  }

  // Every family, in registration order, with its children.
  void Write(TextWriter& out) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;      // guarded by mu_
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;  // guarded by mu_
  std::vector<std::pair<bool, size_t>> order_;                // (histogram?, index)
};

// The process's registry, the one GET /metrics writes.
Registry& Global();

// Writes the text exposition format. Each family is declared once
// (Begin) and followed by its samples; a name declared twice, or a sample
// outside its family, is an invariant broken (aborts), so a scrape never
// carries a duplicate family that a strict parser would refuse.
class TextWriter {
 public:
  void Begin(std::string_view name, Type type, std::string_view help);
  // One sample of the current counter or gauge family.
  void Sample(const Labels& labels, double value);
  // The current histogram family's child: its cumulative _bucket lines
  // (ending with le="+Inf", equal to _count), _sum and _count.
  void Histogram(const Labels& labels, const HistogramSnapshot& h);
  const std::string& text() const { return out_; }

 private:
  void Line(std::string_view name, const Labels& labels, double value);
  std::string out_;
  std::string family_;
  Type type_ = Type::kCounter;
  std::set<std::string> seen_;
};

// The format's pieces, exposed for tests and for other writers.
// A label value: backslash, double quote and line feed escaped; bytes that
// are not UTF-8 become U+FFFD (the format is UTF-8).
std::string EscapeLabelValue(std::string_view value);
// A HELP text: backslash and line feed escaped.
std::string EscapeHelp(std::string_view help);
// "42", "0.25", "+Inf", "-Inf", "NaN": the shortest form that reads back
// as the same double.
std::string FormatValue(double value);
bool IsMetricName(std::string_view name);
bool IsLabelName(std::string_view name);

template <typename T>
template <typename F>
void Family<T>::ForEach(F f) const {
  std::vector<const Child*> children;
  for (const Child* c = head_.load(std::memory_order_acquire); c != nullptr; c = c->next) {
    children.push_back(c);
  }
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    Labels labels;
    for (size_t i = 0; i < label_names_.size(); ++i) {
      labels.emplace_back(label_names_[i], (*it)->values[i]);
    }
    f(labels, (*it)->metric);
  }
}

}  // namespace mailvault::metrics
