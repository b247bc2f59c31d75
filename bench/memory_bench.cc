// memory_bench: peak resident memory (VmHWM) of storing one 50 MB message,
// and four 50 MB messages put concurrently, against the process's own peak
// just before the puts (store open, messages built and held by the caller).
// The difference is what the store itself needs; a store that streams or
// bounds its large-message work keeps it flat as writers are added instead
// of growing with size x writers. Each configuration runs in a fresh
// process (this program re-executes itself), so no high-water mark of one
// run leaks into another.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/bench_util.h"
#include "mailvault/store.h"

extern char** environ;

namespace mailvault::bench {
namespace {

// A field of /proc/self/status, in KB.
uint64_t StatusKb(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::stoull(line.substr(n + 1));
    }
  }
  return 0;
}

// The child: prints "baseline_kb peak_kb".
int Child(int writers, size_t size) {
  TempDir dir("memory");
  StoreOptions o;
  o.dir = dir.path() + "/store";
  Check(Store::Init(o), "init");
  std::unique_ptr<Store> store = CheckResult(Store::Open(o), "open");
  std::vector<std::string> msgs;
  for (int i = 0; i < writers; ++i) msgs.push_back(MakeMessage(static_cast<uint64_t>(i), size));
  const uint64_t baseline = StatusKb("VmHWM");
  std::vector<std::thread> ts;
  for (int i = 0; i < writers; ++i) {
    ts.emplace_back([&, i] {
      PutRequest r;
      r.raw = msgs[static_cast<size_t>(i)];
      r.mail_from = "news@example-shop.com";
      r.rcpt = {"user@corp.example"};
      r.statuses = {{"content-filtering", "size-exceeded"}};
      CheckResult(store->Put(r), "put");
    });
  }
  for (auto& t : ts) t.join();
  const uint64_t peak = StatusKb("VmHWM");
  std::printf("%llu %llu\n", static_cast<unsigned long long>(baseline),
              static_cast<unsigned long long>(peak));
  return 0;
}

std::pair<double, double> RunChild(int writers, size_t size) {
  std::string w = "--child_writers=" + std::to_string(writers);
  std::string s = "--size=" + std::to_string(size);
  char exe[] = "/proc/self/exe";
  char* argv[] = {exe, w.data(), s.data(), nullptr};
  int fds[2];
  if (::pipe(fds) != 0) std::exit(1);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  pid_t pid;
  if (posix_spawn(&pid, exe, &fa, nullptr, argv, environ) != 0) std::exit(1);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  std::string out;
  char buf[256];
  for (ssize_t k; (k = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<size_t>(k));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  unsigned long long base = 0, peak = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      std::sscanf(out.c_str(), "%llu %llu", &base, &peak) != 2) {
    std::fprintf(stderr, "memory child (%d writers) failed\n", writers);
    std::exit(1);
  }
  return {static_cast<double>(base) / 1024.0, static_cast<double>(peak) / 1024.0};
}

int Main(int argc, char** argv) {
  Flags flags(argc, argv);
  const int child = static_cast<int>(flags.Int("child_writers", 0));
  const size_t size = static_cast<size_t>(flags.Int("size", 50 << 20));
  const int reps = static_cast<int>(flags.Int("reps", 3));
  flags.CheckAllUsed();
  if (child > 0) return Child(child, size);

  std::cout << "## Peak memory while storing large messages\n\n`" << flags.command_line()
            << "`\n\nVmHWM of a fresh process per run; baseline = its peak after opening the "
               "store and building the messages it is about to put (the caller's own copies), "
               "store extra = peak during the puts minus that baseline. "
            << reps
            << " runs each, medians. Target: bounded, not proportional to size x "
               "writers.\n\n";
  Table t({"puts", "message size", "caller's messages MB", "baseline MB", "peak MB",
           "store extra MB", "extra / (size x writers)"});
  const double mb = static_cast<double>(size) / 1048576.0;
  for (int writers : {1, 4}) {
    std::vector<double> base, peak, extra;
    for (int rep = 0; rep < reps; ++rep) {
      auto [b, p] = RunChild(writers, size);
      base.push_back(b);
      peak.push_back(p);
      extra.push_back(p - b);
    }
    t.Row({writers == 1 ? "1" : std::to_string(writers) + " concurrent", Fmt(mb, 0) + " MB",
           Fmt(mb * writers, 0), Fmt(Median(base), 0), Fmt(Median(peak), 0), Fmt(Median(extra), 0),
           Fmt(Median(extra) / (mb * writers), 2)});
  }
  t.Print();
  return 0;
}

}  // namespace
}  // namespace mailvault::bench

int main(int argc, char** argv) { return mailvault::bench::Main(argc, argv); }
