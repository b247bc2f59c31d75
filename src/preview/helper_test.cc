// Tests of the sandboxed helper (mailvault-preview, run as the real program
// MV_PREVIEW_HELPER) and of its request and reply codecs: a forbidden system
// call kills it, pathological HTML gives a sanitized document or "preview
// unavailable" within the deadline, never a hang, and the daemon accepts no
// reply but a well-formed frame of UTF-8.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "base/utf8.h"
#include "env/process.h"
#include "preview/helper_protocol.h"
#include "preview/sandboxed.h"

namespace mailvault::preview {
namespace {

HelperOptions Helper() {
  HelperOptions h;
  h.path = MV_PREVIEW_HELPER;
  h.timeout_micros = 3'000'000;
  h.cpu_seconds = 2;
  return h;
}

Result<ProcessResult> RunRaw(std::vector<std::string> args, std::string_view input = "") {
  ProcessOptions o;
  o.path = MV_PREVIEW_HELPER;
  o.args = std::move(args);
  o.timeout_micros = 10'000'000;
  return RunProcess(o, input);
}

// Each forbidden call must end the process with SIGSYS: only the seccomp
// filter sends that (a failed open or socket would exit 0 with a message;
// RLIMIT_NOFILE alone would make them fail with EMFILE, not kill).
TEST(Helper, ForbiddenSystemCallsKillIt) {
  for (const char* call : {"open", "socket", "stderr"}) {
    auto r = RunRaw({std::string("--try-forbidden=") + call});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE(r->exited) << call << ": " << r->output;
    EXPECT_EQ(r->signal, SIGSYS) << call << ": " << r->output;
    EXPECT_EQ(r->output, "") << call;
  }
}

TEST(Helper, RefusesBadArgumentsAndBadRequests) {
  auto usage = RunRaw({"--memory=lots"});
  ASSERT_TRUE(usage.ok());
  EXPECT_TRUE(usage->exited);
  EXPECT_EQ(usage->exit_code, 2);
  auto bad = RunRaw({}, "not a request");
  ASSERT_TRUE(bad.ok());
  EXPECT_TRUE(bad->exited);
  EXPECT_EQ(bad->exit_code, 5);
  HelperRequest request;
  request.html = std::string(1000, 'x');
  auto large = RunRaw({"--max-input=100"}, EncodeRequest(request));
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->exit_code, 4);
}

TEST(Helper, SanitizesAndConverts) {
  HelperRequest request;
  request.html = "<p onclick=\"x()\">Hi <b>Bob</b><img src=\"https://t.example/p.gif\"></p>";
  auto html = RunHelper(Helper(), request);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_NE(html->body.find("<p>Hi <b>Bob</b><img></p>"), std::string::npos) << html->body;
  EXPECT_TRUE(html->remote_images_blocked);
  request.mode = HelperRequest::Mode::kText;
  auto text = RunHelper(Helper(), request);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->body, "Hi Bob");
  EXPECT_FALSE(text->remote_images_blocked);
}

// Either a document that starts and ends as the sanitizer writes it, or
// Unavailable saying why: never an error of another kind, never a hang (the
// deadline is Helper()'s 3 s).
void ExpectSanitizedOrUnavailable(const std::string& html, const char* what) {
  HelperRequest request;
  request.html = html;
  auto reply = RunHelper(Helper(), request);
  if (reply.ok()) {
    EXPECT_TRUE(reply->body.starts_with("<!DOCTYPE html><html><head>")) << what;
    EXPECT_TRUE(reply->body.ends_with("</body></html>")) << what;
    EXPECT_TRUE(IsValidUtf8(reply->body)) << what;
    EXPECT_EQ(reply->body.find("<script"), std::string::npos) << what;
  } else {
    EXPECT_EQ(reply.status().code(), Code::kUnavailable) << what;
    EXPECT_TRUE(reply.status().message().starts_with("preview unavailable: "))
        << what << ": " << reply.status().message();
  }
}

TEST(Helper, PathologicalHtmlIsSanitizedOrUnavailable) {
  std::string deep;
  for (int i = 0; i < 200000; ++i) deep += "<div>";
  ExpectSanitizedOrUnavailable(deep + "<script>x()</script>", "deep nesting");

  std::string attrs = "<p";
  for (int i = 0; i < 100000; ++i) attrs += " a" + std::to_string(i) + "=1";
  ExpectSanitizedOrUnavailable(attrs + ">x</p><script>x()</script>", "attributes");

  std::string tags;
  while (tags.size() < (10 << 20)) tags += "<b><i><u>x</u></i></b><p><span>y</span></p>";
  ExpectSanitizedOrUnavailable(tags + "<script>x()</script>", "10 MB of tags");

  // Formatting elements left open are re-created for every later text
  // (millions of nodes from a few hundred KB).
  std::string formatting;
  for (int i = 0; i < 200; ++i) formatting += "<b a=" + std::to_string(i) + ">";
  formatting += "</div>";
  for (int i = 0; i < 20000; ++i) formatting += "<div>x</div>";
  ExpectSanitizedOrUnavailable(formatting, "re-created formatting elements");
}

TEST(Helper, MemoryLimitMakesItUnavailable) {
  // A document whose tree cannot fit 64 MB of address space.
  std::string tags;
  while (tags.size() < (8 << 20)) tags += "<b>x</b>";
  HelperOptions h = Helper();
  h.max_memory_bytes = 64ull << 20;
  HelperRequest request;
  request.html = tags;
  auto reply = RunHelper(h, request);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
}

TEST(Helper, OutputBoundMakesItUnavailable) {
  HelperOptions h = Helper();
  h.max_output = 1000;
  HelperRequest request;
  request.html = std::string(5000, 'x');
  auto reply = RunHelper(h, request);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().message(),
            "preview unavailable: the sanitized HTML is larger than 0 MB");
}

TEST(HelperProtocol, RequestRoundTrips) {
  HelperRequest r;
  r.mode = HelperRequest::Mode::kSanitize;
  r.html = std::string("<p>\0\xff</p>", 9);
  r.images = {{"a@x", "image/png", std::string("\x89PNG\0", 5)}, {"", "", ""}};
  auto d = DecodeRequest(EncodeRequest(r));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->mode, r.mode);
  EXPECT_EQ(d->html, r.html);
  ASSERT_EQ(d->images.size(), 2u);
  EXPECT_EQ(d->images[0].content_id, "a@x");
  EXPECT_EQ(d->images[0].data, r.images[0].data);
}

TEST(HelperProtocol, RejectsAnythingButOneFrame) {
  HelperReply reply{"<p>x</p>", true};
  const std::string good = EncodeReply(reply);
  auto d = DecodeReply(good);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->body, "<p>x</p>");
  EXPECT_TRUE(d->remote_images_blocked);
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(DecodeReply(good.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(DecodeReply(good + "x").ok());
  std::string flags = good;
  flags[4] = 2;
  EXPECT_FALSE(DecodeReply(flags).ok());
  std::string huge = good;
  huge[5 + 7] = '\x7f';  // a length far past the end
  EXPECT_FALSE(DecodeReply(huge).ok());
  // An image count the bytes cannot hold is refused before any allocation.
  std::string request = EncodeRequest(HelperRequest{});
  request[5] = request[6] = request[7] = request[8] = '\xff';
  EXPECT_FALSE(DecodeRequest(request).ok());
}

}  // namespace
}  // namespace mailvault::preview
