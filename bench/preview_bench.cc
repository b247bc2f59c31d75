// preview_bench: what the sandboxed helper adds to an HTML preview. The same
// 100 KB HTML part (a newsletter: nested layout tables, fonts, styled
// paragraphs, links, remote and inline images) is sanitized (a) in process,
// as the console did before issue 15 §7, with preview::SanitizeHtml, and (b)
// through preview::RunHelper, as the console does now: spawn the
// mailvault-preview program, confine it (rlimits, seccomp), pipe the request
// in and the document out, reap it. (c) is (b) for a 23-byte part: the
// floor of a helper's cost (spawn, dynamic linking, confinement, exit).
// (a), (b) and (c) alternate within each round, so load on a shared machine
// hits them alike. Target: (b) p95 under 20 ms.
#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "env/process.h"
#include "preview/sandboxed.h"
#include "preview/sanitize.h"

namespace mailvault::bench {
namespace {

// A newsletter-like HTML part of at least `size` bytes; deterministic.
std::string Newsletter(size_t size) {
  std::string html =
      "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">"
      "<style>td{font-family:Arial}</style></head><body bgcolor=\"#f4f4f4\">"
      "<table width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" border=\"0\"><tr><td "
      "align=\"center\"><table width=\"600\" style=\"background:#ffffff;border:1px solid "
      "#ddd\"><tr><td><img src=\"cid:logo@shop\" alt=\"Shop\" width=\"200\"></td></tr>";
  for (int i = 0; html.size() < size; ++i) {
    const std::string n = std::to_string(i);
    html +=
        "<tr><td style=\"padding:12px 24px;color:#333333;font-size:14px;line-height:20px\">"
        "<h2 style=\"margin:0 0 8px 0;color:#0a4f8f\">Offer " +
        n + ": save on item " + n + "</h2><p>Dear customer, this week&#39;s <b>deal " + n +
        "</b> &amp; <i>more</i>: <font color=\"#cc0000\" face=\"Verdana\">only 19,99 "
        "&euro;</font>. <a href=\"https://shop.example/item/" +
        n + "?utm_source=mail\" onclick=\"track(" + n +
        ")\">See the offer</a></p>"
        "<img src=\"https://tracker.example/open/" +
        n +
        ".gif\" width=\"1\" height=\"1\">"
        "<ul><li>Free delivery</li><li>30 days return</li></ul></td></tr>";
  }
  html += "</table></td></tr></table><script>track('open')</script></body></html>";
  return html;
}

// The first three fields of /proc/loadavg.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double Ms(Clock::time_point t) { return SecondsSince(t) * 1000; }

// CPU time (user + sys) in ms: of this thread, and of the reaped children.
double CpuMs(int who) {
  struct rusage u;
  getrusage(who, &u);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1e3 + t.tv_usec / 1e3; };
  return ms(u.ru_utime) + ms(u.ru_stime);
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const auto size = static_cast<size_t>(flags.Int("size", 102400));
  const int per_round = static_cast<int>(flags.Int("runs", 100));
  const int rounds = static_cast<int>(flags.Int("rounds", 3));
  std::string helper = flags.Str("helper", "");
  flags.CheckAllUsed();
  if (helper.empty()) {
    std::string self = CheckResult(SelfExecutablePath(), "find this program");
    helper = self.substr(0, self.rfind('/')) + "/../bin/mailvault-preview";
  }
  preview::HelperOptions options;
  options.path = helper;

  std::vector<mime::BodyImage> images = {
      {"logo@shop", "image/png", std::string("\x89PNG\r\n\x1a\n", 8) + std::string(2000, 'p')}};
  preview::HelperRequest request;
  request.html = Newsletter(size);
  request.images = images;
  preview::HelperRequest tiny;
  tiny.html = "<p>Hello <b>Bob</b></p>";
  preview::SanitizeOptions in_process;
  in_process.cid_images = &images;

  // The two paths must agree, or the comparison is of different work.
  const std::string direct = preview::SanitizeHtml(request.html, in_process).html;
  auto via = preview::RunHelper(options, request);
  Check(via.status(), "the helper");
  if (via->body != direct) {
    std::fprintf(stderr, "the helper's document differs from the in-process one\n");
    return 1;
  }

  std::printf("## HTML preview: in process vs the sandboxed helper\n\n`%s`\n\n",
              flags.command_line().c_str());
  std::printf(
      "One %zu-byte HTML part (newsletter: layout tables, fonts, styled paragraphs, links, "
      "remote and inline images; %zu bytes sanitized). (a) preview::SanitizeHtml in process (the "
      "console before issue 15 §7); (b) preview::RunHelper: spawn mailvault-preview, confine it "
      "(rlimits, seccomp), pipe request and document, reap; (c) (b) for a %zu-byte part, the "
      "floor of a helper. %d rounds of %d runs each, (a), (b) and (c) interleaved. Target: (b) "
      "p95 < 20 ms. Load average before: %s.\n\n",
      request.html.size(), direct.size(), tiny.html.size(), rounds, per_round,
      LoadAverage().c_str());

  std::vector<double> all_a, all_b, all_c;
  double cpu_a = 0, cpu_b = 0, cpu_c = 0;  // ms, this thread + the helpers
  Table per({"round", "(a) p50 ms", "(a) p95 ms", "(b) p50 ms", "(b) p95 ms", "(c) p50 ms",
             "(c) p95 ms"});
  for (int round = 1; round <= rounds; ++round) {
    std::vector<double> a, b, c;
    for (int i = 0; i < per_round; ++i) {
      double cpu = CpuMs(RUSAGE_THREAD) + CpuMs(RUSAGE_CHILDREN);
      auto cpu_since = [&cpu] {
        double now = CpuMs(RUSAGE_THREAD) + CpuMs(RUSAGE_CHILDREN);
        double d = now - cpu;
        cpu = now;
        return d;
      };
      auto t = Clock::now();
      preview::SanitizedHtml s = preview::SanitizeHtml(request.html, in_process);
      a.push_back(Ms(t));
      cpu_a += cpu_since();
      if (s.html.size() != direct.size()) return 1;
      t = Clock::now();
      auto r = preview::RunHelper(options, request);
      b.push_back(Ms(t));
      cpu_b += cpu_since();
      Check(r.status(), "the helper");
      t = Clock::now();
      auto r2 = preview::RunHelper(options, tiny);
      c.push_back(Ms(t));
      cpu_c += cpu_since();
      Check(r2.status(), "the helper");
    }
    per.Row({std::to_string(round), Fmt(Median(a), 2), Fmt(Percentile(a, 95), 2), Fmt(Median(b), 2),
             Fmt(Percentile(b, 95), 2), Fmt(Median(c), 2), Fmt(Percentile(c, 95), 2)});
    all_a.insert(all_a.end(), a.begin(), a.end());
    all_b.insert(all_b.end(), b.begin(), b.end());
    all_c.insert(all_c.end(), c.begin(), c.end());
  }
  Table summary({"path", "p50 ms", "p95 ms", "p99 ms", "max ms", "CPU ms/preview"});
  const double n = static_cast<double>(all_a.size());
  auto row = [&](const char* name, const std::vector<double>& v, double cpu) {
    summary.Row({name, Fmt(Median(v), 2), Fmt(Percentile(v, 95), 2), Fmt(Percentile(v, 99), 2),
                 Fmt(Percentile(v, 100), 2), Fmt(cpu / n, 2)});
  };
  row("(a) in process", all_a, cpu_a);
  row("(b) helper", all_b, cpu_b);
  row("(c) helper, tiny part", all_c, cpu_c);
  summary.Print();
  std::printf(
      "\nCPU ms/preview: user + sys of this thread and of the helpers it reaped, which "
      "the load on the machine does not inflate the way it does wall-clock times.\n");
  std::printf(
      "\nAdded by the helper at p95: %s ms ((b) p95 - (a) p95). Load average after: %s.\n\n",
      Fmt(Percentile(all_b, 95) - Percentile(all_a, 95), 2).c_str(), LoadAverage().c_str());
  std::printf("Rounds:\n\n");
  per.Print();
  std::printf("\n");
  return 0;
}

}  // namespace
}  // namespace mailvault::bench

int main(int argc, char** argv) { return mailvault::bench::Main(argc, argv); }
