// Metrics and the Prometheus text format (see metrics.h).
#include "base/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/utf8.h"

namespace mailvault::metrics {
namespace {

[[noreturn]] void Broken(std::string_view what, std::string_view name) {
  std::fprintf(stderr, "metrics: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
               static_cast<int>(name.size()), name.data());
  std::abort();
}

bool NameChar(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (alpha || (colon && c == ':')) return true;
  return !first && c >= '0' && c <= '9';
}

bool ValidName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

void CheckLabels(std::string_view name, const std::vector<std::string>& label_names,
                 bool histogram) {
  if (!IsMetricName(name)) Broken("bad metric name", name);
  for (const std::string& l : label_names) {
    if (!IsLabelName(l) || l.rfind("__", 0) == 0) Broken("bad label name", l);
    if (histogram && l == "le") Broken("a histogram may not have a label le", name);
  }
}

}  // namespace

bool IsMetricName(std::string_view name) { return ValidName(name, true); }
bool IsLabelName(std::string_view name) { return ValidName(name, false); }

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(value, i, &cp);
    if (n == 0) {
      AppendUtf8(0xFFFD, &out);
      ++i;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\n') {
      out += "\\n";
    } else {
      out.append(value.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, r.ptr);
}

uint64_t HistogramSnapshot::count() const {
  uint64_t n = 0;
  for (uint64_t c : counts) n += c;
  return n;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      Broken("histogram bounds must be finite and increasing", FormatValue(bounds_[i]));
    }
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot s;
  s.bounds = bounds_;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts.push_back(counts_[i].load(std::memory_order_relaxed));
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> CountBuckets(double max) {
  std::vector<double> b;
  for (double v = 1; v <= max; v *= 2) b.push_back(v);
  return b;
}

template <typename T>
Family<T>::Child::Child(std::vector<std::string> v, const std::vector<double>& bounds)
    : values(std::move(v)), metric() {
  (void)bounds;
}

template <>
Family<Histogram>::Child::Child(std::vector<std::string> v, const std::vector<double>& bounds)
    : values(std::move(v)), metric(bounds) {}

template <typename T>
Family<T>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

template <typename T>
Family<T>::~Family() {
  for (Child* c = head_.load(); c != nullptr;) {
    Child* next = c->next;
    delete c;
    c = next;
  }
}

template <typename T>
T& Family<T>::With(std::initializer_list<std::string_view> values) {
  // The common case (the child exists) without allocating.
  if (values.size() == label_names_.size()) {
    for (Child* c = head_.load(std::memory_order_acquire); c != nullptr; c = c->next) {
      if (std::equal(c->values.begin(), c->values.end(), values.begin())) return c->metric;
    }
  }
  return With(std::vector<std::string>(values.begin(), values.end()));
}

template <typename T>
T& Family<T>::With(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size()) Broken("wrong number of label values for", name_);
  Child* head = head_.load(std::memory_order_acquire);
  for (Child* c = head; c != nullptr; c = c->next) {
    if (c->values == values) return c->metric;
  }
  // Not there: push a new child. If another thread pushed meanwhile, look
  // at what it pushed before trying again (it may be the same values).
  auto fresh = std::make_unique<Child>(values, bounds_);
  Child* seen = head;
  for (;;) {
    fresh->next = seen;
    if (head_.compare_exchange_weak(seen, fresh.get(), std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      return fresh.release()->metric;
    }
    for (Child* c = seen; c != nullptr && c != fresh->next; c = c->next) {
      if (c->values == values) return c->metric;
    }
  }
}

template class Family<Counter>;
template class Family<Histogram>;

CounterFamily& Registry::Counters(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  CheckLabels(name, label_names, false);
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& f : counters_) {
    if (f->name() != name) continue;
    if (f->label_names() != label_names) Broken("registered with other labels", name);
    return *f;
  }
  for (const auto& f : histograms_) {
    if (f->name() == name) Broken("registered as a histogram", name);
  }
  counters_.push_back(std::make_unique<CounterFamily>(std::string(name), std::string(help),
                                                      std::move(label_names)));
  order_.emplace_back(false, counters_.size() - 1);
  return *counters_.back();
}

HistogramFamily& Registry::Histograms(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names,
                                      std::vector<double> bounds) {
  CheckLabels(name, label_names, true);
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& f : histograms_) {
    if (f->name() != name) continue;
    if (f->label_names() != label_names) Broken("registered with other labels", name);
    return *f;
  }
  for (const auto& f : counters_) {
    if (f->name() == name) Broken("registered as a counter", name);
  }
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::string(name), std::string(help), std::move(label_names), std::move(bounds)));
  order_.emplace_back(true, histograms_.size() - 1);
  return *histograms_.back();
}

void Registry::Write(TextWriter& out) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [histogram, index] : order_) {
    if (histogram) {
      const HistogramFamily& f = *histograms_[index];
      out.Begin(f.name(), Type::kHistogram, f.help());
      f.ForEach([&out](const Labels& labels, const metrics::Histogram& h) {
        out.Histogram(labels, h.Snapshot());
      });
    } else {
      const CounterFamily& f = *counters_[index];
      out.Begin(f.name(), Type::kCounter, f.help());
      f.ForEach([&out](const Labels& labels, const Counter& c) {
        out.Sample(labels, static_cast<double>(c.value()));
      });
    }
  }
}

Registry& Global() {
  static Registry* registry = new Registry();  // never deleted: counted into until exit
  return *registry;
}

void TextWriter::Begin(std::string_view name, Type type, std::string_view help) {
  if (!IsMetricName(name)) Broken("bad metric name", name);
  if (!seen_.insert(std::string(name)).second) Broken("family written twice", name);
  family_ = name;
  type_ = type;
  const char* t = type == Type::kCounter ? "counter" : type == Type::kGauge ? "gauge" : "histogram";
  out_ += "# HELP " + family_ + " " + EscapeHelp(help) + "\n";
  out_ += "# TYPE " + family_ + " " + t + "\n";
}

void TextWriter::Line(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!IsLabelName(labels[i].first)) Broken("bad label name", labels[i].first);
      if (i > 0) out_ += ',';
      out_ += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    out_ += '}';
  }
  out_ += ' ' + FormatValue(value) + '\n';
}

void TextWriter::Sample(const Labels& labels, double value) {
  if (family_.empty() || type_ == Type::kHistogram) Broken("sample outside a family", family_);
  Line(family_, labels, value);
}

void TextWriter::Histogram(const Labels& labels, const HistogramSnapshot& h) {
  if (family_.empty() || type_ != Type::kHistogram) Broken("histogram outside its family", family_);
  uint64_t cumulative = 0;
  Labels with_le = labels;
  with_le.emplace_back("le", "");
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    with_le.back().second = FormatValue(h.bounds[i]);
    Line(family_ + "_bucket", with_le, static_cast<double>(cumulative));
  }
  cumulative += h.counts.back();
  with_le.back().second = "+Inf";
  Line(family_ + "_bucket", with_le, static_cast<double>(cumulative));
  Line(family_ + "_sum", labels, h.sum);
  Line(family_ + "_count", labels, static_cast<double>(cumulative));
}

}  // namespace mailvault::metrics
