// Tests of WalkParts, RemoveParts and HeaderFromAddresses: numbering, names
// and decoded content of parts (also inside attached messages), rewriting
// checked by parsing the result back, robustness on malformed, hostile and
// unreadable input.
#include "mime/parts.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "mime/parse_budget.h"
#include "testutil/base64.h"

namespace mailvault::mime {
namespace {

std::string Base64(std::string_view in) { return Base64Lines(in); }

std::string Payload(size_t n, uint32_t seed = 12345) {
  std::string s(n, '\0');
  for (char& c : s) {
    seed = seed * 1103515245 + 12345;
    c = static_cast<char>(seed >> 16);
  }
  return s;
}

struct Seen {
  Part part;
  std::string content;
};

// Every leaf part with its whole decoded content.
std::vector<Seen> Walk(std::string_view raw, WalkSummary* summary = nullptr) {
  std::vector<Seen> out;
  Status s = WalkParts(
      StringSource(raw),
      [&](const Part& p, const PartBody& body) {
        Seen seen{p, {}};
        Status r = body.Read([&](std::string_view piece) {
          seen.content.append(piece);
          return Status::Ok();
        });
        out.push_back(std::move(seen));
        return r;
      },
      summary);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

const std::string kAttachment = Payload(5000);

// multipart/mixed [0]: text [1], base64 attachment [2], quoted-printable [3].
std::string Multipart() {
  return "From: Alice <alice@example.com>\r\n"
         "To: bob@example.org\r\n"
         "Subject: files\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
         "\r\n"
         "preamble\r\n"
         "--b1\r\n"
         "Content-Type: text/plain; charset=us-ascii\r\n"
         "\r\n"
         "Hello Bob.\r\n"
         "--b1\r\n"
         "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
         "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n" +
         Base64(kAttachment) +
         "--b1\r\n"
         "Content-Type: TEXT/Csv; name=\"=?UTF-8?B?w6R0LmNzdg==?=\"\r\n"
         "Content-Transfer-Encoding: quoted-printable\r\n"
         "\r\n"
         "a=3Db,c=\r\n"
         "d\r\n"
         "--b1--\r\n"
         "epilogue\r\n";
}

// multipart [0]: text [1], message/rfc822 [2] > multipart [3] > text [4],
// base64 attachment [5]; then a last attachment [6].
std::string Nested() {
  return "From: a@example.com\r\n"
         "Content-Type: multipart/mixed; boundary=outer\r\n"
         "\r\n"
         "--outer\r\n"
         "Content-Type: text/plain\r\n"
         "\r\n"
         "see attached\r\n"
         "--outer\r\n"
         "Content-Type: message/rfc822\r\n"
         "Content-Disposition: attachment; filename=fwd.eml\r\n"
         "\r\n"
         "From: c@example.net\r\n"
         "Subject: inner\r\n"
         "Content-Type: multipart/mixed; boundary=inner\r\n"
         "\r\n"
         "--inner\r\n"
         "Content-Type: text/plain\r\n"
         "\r\n"
         "inner text\r\n"
         "--inner\r\n"
         "Content-Type: application/x-msdownload\r\n"
         "Content-Disposition: attachment; filename=\"evil.exe\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n" +
         Base64("MZ-not-really") +
         "--inner--\r\n"
         "--outer\r\n"
         "Content-Type: application/pdf; name=last.pdf\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n" +
         Base64("%PDF-1.4 tiny") + "--outer--\r\n";
}

TEST(WalkParts, SinglePartMessage) {
  auto parts = Walk("Subject: hi\r\n\r\nbody text\r\n");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].part.index, 0);
  EXPECT_EQ(parts[0].part.depth, 0);
  EXPECT_EQ(parts[0].part.content_type, "text/plain");
  EXPECT_FALSE(parts[0].part.attachment);
  EXPECT_EQ(parts[0].content, "body text\r\n");
  EXPECT_EQ(parts[0].part.attachment_index, -1);
  EXPECT_EQ(parts[0].part.size, 0u);  // measured for attachments only
}

TEST(WalkParts, MultipartNamesTypesAndDecodedContent) {
  WalkSummary summary;
  auto parts = Walk(Multipart(), &summary);
  EXPECT_EQ(summary.entities, 4);
  EXPECT_FALSE(summary.truncated);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].part.index, 1);
  EXPECT_EQ(parts[0].part.depth, 1);
  EXPECT_EQ(parts[0].content, "Hello Bob.");
  EXPECT_FALSE(parts[0].part.attachment);

  EXPECT_EQ(parts[1].part.index, 2);
  EXPECT_EQ(parts[1].part.filename, "data.bin");
  EXPECT_EQ(parts[1].part.alt_filename, "");
  EXPECT_EQ(parts[1].part.content_type, "application/octet-stream");
  EXPECT_TRUE(parts[1].part.attachment);
  EXPECT_EQ(parts[1].content, kAttachment);
  EXPECT_EQ(parts[1].part.size, kAttachment.size());

  EXPECT_EQ(parts[2].part.index, 3);
  EXPECT_EQ(parts[2].part.content_type, "text/csv");
  EXPECT_EQ(parts[2].part.filename, "ät.csv");
  EXPECT_TRUE(parts[2].part.attachment);
  EXPECT_EQ(parts[2].content, "a=b,cd");
  EXPECT_EQ(parts[2].part.size, 6u);
}

TEST(WalkParts, DescendsIntoAttachedMessages) {
  WalkSummary summary;
  auto parts = Walk(Nested(), &summary);
  EXPECT_EQ(summary.entities, 7);
  // The attached message is visited (one attachment, no content of its
  // own), then its parts, which belong to it.
  ASSERT_EQ(parts.size(), 5u);
  std::vector<int> indexes, depths, owners;
  for (const auto& p : parts) {
    indexes.push_back(p.part.index), depths.push_back(p.part.depth);
    owners.push_back(p.part.attachment_index);
  }
  EXPECT_EQ(indexes, (std::vector<int>{1, 2, 4, 5, 6}));
  EXPECT_EQ(depths, (std::vector<int>{1, 1, 3, 3, 1}));
  EXPECT_EQ(owners, (std::vector<int>{-1, 2, 2, 2, 6}));
  EXPECT_TRUE(parts[1].part.message);
  EXPECT_TRUE(parts[1].part.attachment);
  EXPECT_EQ(parts[1].part.filename, "fwd.eml");
  EXPECT_EQ(parts[1].part.content_type, "message/rfc822");
  EXPECT_GT(parts[1].part.size, 100u);
  EXPECT_EQ(parts[1].content, "");
  EXPECT_EQ(parts[3].part.filename, "evil.exe");
  EXPECT_FALSE(parts[3].part.attachment);  // inside the attached message
  EXPECT_EQ(parts[3].content, "MZ-not-really");
  EXPECT_EQ(parts[4].part.filename, "last.pdf");
  EXPECT_TRUE(parts[4].part.attachment);
}

TEST(WalkParts, DispositionAndContentTypeNamesThatDisagree) {
  auto parts = Walk(
      "Content-Type: application/octet-stream; name=\"payload.exe\"\r\n"
      "Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n"
      "\r\n"
      "x\r\n");
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].part.filename, "invoice.pdf");
  EXPECT_EQ(parts[0].part.alt_filename, "payload.exe");
}

TEST(WalkParts, HeadAndChunkedRead) {
  std::string big = Payload(300 * 1024, 7);
  std::string raw =
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      Base64(big);
  size_t pieces = 0;
  Status s = WalkParts(StringSource(raw), [&](const Part& p, const PartBody& body) {
    EXPECT_EQ(p.size, big.size());
    auto head = body.Head(100);
    EXPECT_TRUE(head.ok());
    EXPECT_EQ(*head, big.substr(0, 100));
    auto all = body.Head(1 << 30);
    EXPECT_EQ(*all, big);
    std::string joined;
    EXPECT_TRUE(body.Read([&](std::string_view piece) {
                      EXPECT_LE(piece.size(), 64u * 1024);
                      ++pieces;
                      joined.append(piece);
                      return Status::Ok();
                    })
                    .ok());
    EXPECT_EQ(joined, big);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(pieces, 5u);
}

TEST(WalkParts, VisitorErrorStopsTheWalk) {
  int calls = 0;
  Status s = WalkParts(StringSource(Multipart()), [&](const Part&, const PartBody&) {
    ++calls;
    return Status::NotFound("stop here");
  });
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_EQ(calls, 1);
  calls = 0;
  s = WalkParts(StringSource(Multipart()), [&](const Part&, const PartBody& body) {
    ++calls;
    return body.Read([](std::string_view) { return Status::Unavailable("sink full"); });
  });
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(calls, 1);
}

// Fails every read that reaches `fail_at`; records the largest read asked for.
class FlakySource : public ByteSource {
 public:
  FlakySource(std::string bytes, uint64_t fail_at) : bytes_(std::move(bytes)), fail_at_(fail_at) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    max_read_ = std::max(max_read_, n);
    if (offset + n > fail_at_) return Status::IOError("spool page 3 fails its check");
    return StringSource(bytes_).ReadAt(offset, n, out);
  }
  size_t max_read() const { return max_read_; }

 private:
  std::string bytes_;
  uint64_t fail_at_;
  mutable size_t max_read_ = 0;
};

TEST(WalkParts, SourceErrorsAreReturned) {
  std::string raw = Multipart();
  for (uint64_t at : {uint64_t{0}, uint64_t{100}, uint64_t{raw.size() - 10}}) {
    FlakySource source(raw, at);
    Status s = WalkParts(source, [](const Part&, const PartBody&) { return Status::Ok(); });
    EXPECT_EQ(s.code(), Code::kIOError) << at;
    auto rw = RemoveParts(source, {2}, "removed");
    EXPECT_EQ(rw.status().code(), Code::kIOError) << at;
    EXPECT_EQ(HeaderFromAddresses(source).status().code(), Code::kIOError) << at;
  }
}

TEST(WalkParts, ReadsTheSourceInSmallPieces) {
  std::string raw =
      "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      Base64(Payload(2 * 1024 * 1024));
  FlakySource source(raw, UINT64_MAX);
  uint64_t size = 0;
  ASSERT_TRUE(WalkParts(source, [&](const Part& p, const PartBody& body) {
                size = p.size;
                return body.Read([](std::string_view) { return Status::Ok(); });
              }).ok());
  EXPECT_EQ(size, 2u * 1024 * 1024);
  EXPECT_LE(source.max_read(), 64u * 1024);
}

TEST(WalkParts, MalformedInputIsWalkedAsFarAsPossible) {
  // Empty, garbage, header-only, unterminated multipart, boundary never seen.
  EXPECT_LE(Walk("").size(), 1u);
  // Input GMime cannot parse at all is one part holding every byte.
  std::string garbage = "MZ\x90" + Payload(10000, 99);
  auto g = Walk(garbage);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].part.index, 0);
  EXPECT_EQ(g[0].part.content_type, "application/octet-stream");
  EXPECT_EQ(g[0].content, garbage);
  EXPECT_EQ(g[0].part.size, garbage.size());
  EXPECT_EQ(RemoveParts(StringSource(garbage), {}, "n").status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(RemoveParts(StringSource(garbage), {0}, "n").ok());
  EXPECT_TRUE(Walk("Subject: only headers").size() <= 1);
  auto unterminated = Walk(
      "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\n"
      "one\r\n--x\r\nContent-Disposition: attachment; filename=a.exe\r\n\r\nMZ");
  ASSERT_EQ(unterminated.size(), 2u);
  EXPECT_EQ(unterminated[1].part.filename, "a.exe");
  auto never = Walk("Content-Type: multipart/mixed; boundary=nope\r\n\r\njust text\r\n");
  EXPECT_LE(never.size(), 1u);
  auto no_boundary = Walk("Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\ntext\r\n--x--\r\n");
  EXPECT_LE(no_boundary.size(), 2u);
  // Broken base64 decodes to something, never fails; size is an upper bound.
  auto bad64 = Walk("Content-Transfer-Encoding: base64\r\n\r\n!!!!====ab$$cd\r\n");
  ASSERT_EQ(bad64.size(), 1u);
  EXPECT_GE(bad64[0].part.size, bad64[0].content.size());
}

TEST(WalkParts, NestingAndPartCountAreBounded) {
  std::string deep;
  for (int i = 0; i < 200; ++i) {
    deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
            std::to_string(i) + "\r\n";
  }
  deep += "Content-Type: text/plain\r\n\r\ndeep\r\n";
  WalkSummary summary;
  auto parts = Walk(deep, &summary);
  EXPECT_TRUE(summary.truncated);
  EXPECT_LE(summary.entities, 200);

  std::string many = "Content-Type: multipart/mixed; boundary=m\r\n\r\n";
  for (int i = 0; i < 30000; ++i) many += "--m\r\n\r\nx\r\n";
  many += "--m--\r\n";
  parts = Walk(many, &summary);
  EXPECT_TRUE(summary.truncated);
  EXPECT_LE(summary.entities, 20001);
}

uint64_t Budget(std::string_view raw, size_t piece) {
  ParseBudget budget;
  for (size_t i = 0; i < raw.size(); i += piece) {
    if (!budget.Feed(raw.substr(i, piece))) break;
  }
  budget.Finish();
  return budget.limit();
}

TEST(ParseBudget, SameLimitWhateverThePieces) {
  std::string ok = Nested();
  std::string over = "Content-Type: multipart/mixed; boundary=m\r\n\r\n";
  for (size_t i = 0; i < ParseBudget::kMaxBoundaryLines; ++i) over += "--m\r\n\r\nx\r\n";
  const uint64_t cut = over.size();
  over += "--m\r\n\r\nlast\r\n";
  std::string long_header =
      "Subject: " + std::string(ParseBudget::kMaxHeaderBytes, 'a') + "\r\nFrom: x@y\r\n\r\nbody";
  for (size_t piece : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 30}) {
    EXPECT_EQ(Budget(ok, piece), ok.size()) << piece;
    EXPECT_EQ(Budget("no newline at the end", piece), 21u) << piece;
    EXPECT_EQ(Budget(over, piece), cut) << piece;
    EXPECT_EQ(Budget(long_header, piece), 0u) << piece;
  }
  // A long line in a body is not a header line.
  std::string body_line = "Subject: x\r\n\r\n" + std::string(5 << 20, 'b') + "\r\n";
  EXPECT_EQ(Budget(body_line, 65536), body_line.size());
}

// The message after a rewrite: headers with the changes applied + new body.
std::string Apply(std::string_view raw, const Rewrite& rw) {
  size_t split = raw.find("\r\n\r\n");
  std::string headers(raw.substr(0, split + 2));
  for (const auto& [name, value] : rw.header_changes) {
    // Test messages have unfolded headers: drop the old line, append the new.
    size_t at = headers.find(name + ":");
    if (at != std::string::npos) headers.erase(at, headers.find("\r\n", at) + 2 - at);
    if (!value.empty()) headers += name + ": " + value + "\r\n";
  }
  return headers + "\r\n" + rw.body;
}

void ExpectCrlfOnly(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      ASSERT_TRUE(i > 0 && s[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

std::map<int, Seen> ByIndex(const std::vector<Seen>& parts) {
  std::map<int, Seen> out;
  for (const auto& p : parts) out[p.part.index] = p;
  return out;
}

TEST(RemoveParts, ReplacesAnAttachmentAndKeepsTheRest) {
  std::string raw = Multipart();
  auto rw = RemoveParts(StringSource(raw), {2}, "The attachment {filename} was removed.");
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  EXPECT_TRUE(rw->header_changes.empty());
  ExpectCrlfOnly(rw->body);
  EXPECT_NE(rw->body.find("preamble"), std::string::npos);

  auto before = ByIndex(Walk(raw));
  auto after = ByIndex(Walk(Apply(raw, *rw)));
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].part.content_type, "text/plain");
  EXPECT_EQ(after[2].part.filename, "");
  EXPECT_EQ(after[2].content, "The attachment data.bin was removed.\r\n");
  EXPECT_EQ(after[1].content, before[1].content);
  EXPECT_EQ(after[3].content, before[3].content);
  EXPECT_EQ(after[3].part.filename, before[3].part.filename);
  EXPECT_EQ(rw->body.find(Base64(kAttachment).substr(0, 76)), std::string::npos);
  EXPECT_NE(rw->body.find("charset=utf-8"), std::string::npos);
}

TEST(RemoveParts, IndexesMatchWalkParts) {
  // Remove every attachment the walk reports, in one call.
  std::string raw = Nested();
  std::vector<int> attachments;
  std::map<int, std::string> kept;
  for (const auto& p : Walk(raw)) {
    if (p.part.attachment) {
      attachments.push_back(p.part.index);
    } else {
      kept[p.part.index] = p.content;
    }
  }
  // The forwarded message is one attachment, the pdf the other.
  EXPECT_EQ(attachments, (std::vector<int>{2, 6}));
  auto rw = RemoveParts(StringSource(raw), attachments, "removed: {filename}");
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  EXPECT_TRUE(rw->header_changes.empty());
  ExpectCrlfOnly(rw->body);
  auto after = ByIndex(Walk(Apply(raw, *rw)));
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].content, "removed: fwd.eml\r\n");
  EXPECT_EQ(after[3].content, "removed: last.pdf\r\n");
  EXPECT_EQ(after[1].content, kept[1]);
  for (const auto& [index, seen] : after) EXPECT_FALSE(seen.part.attachment) << index;
  EXPECT_EQ(rw->body.find("Subject: inner"), std::string::npos);
}

TEST(RemoveParts, RemovesAWholeAttachedMessage) {
  std::string raw = Nested();
  // The message part and something inside it: one note replaces both.
  auto rw = RemoveParts(StringSource(raw), {2, 5}, "gone: {filename}");
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  auto after = Walk(Apply(raw, *rw));
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[1].part.index, 2);
  EXPECT_EQ(after[1].content, "gone: fwd.eml\r\n");
  EXPECT_EQ(after[2].part.index, 3);  // the last attachment, renumbered
  EXPECT_EQ(after[2].part.filename, "last.pdf");
  EXPECT_EQ(rw->body.find("inner text"), std::string::npos);
}

TEST(RemoveParts, IndexZeroReplacesTheWholeBody) {
  std::string raw = Multipart();
  auto rw = RemoveParts(StringSource(raw), {0, 2}, "Ünïcode note for {filename}");
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  std::map<std::string, std::string> changes(rw->header_changes.begin(), rw->header_changes.end());
  EXPECT_EQ(changes["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_FALSE(changes["Content-Transfer-Encoding"].empty());
  ExpectCrlfOnly(rw->body);
  auto after = Walk(Apply(raw, *rw));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].part.content_type, "text/plain");
  EXPECT_EQ(after[0].content, "Ünïcode note for multipart/mixed\r\n");
}

TEST(RemoveParts, SinglePartAttachmentMessage) {
  std::string raw =
      "Subject: x\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=a.exe\r\nContent-Transfer-Encoding: base64\r\n"
      "\r\n" +
      Base64("MZ....");
  auto rw = RemoveParts(StringSource(raw), {0}, "{filename} removed");
  ASSERT_TRUE(rw.ok());
  auto after = Walk(Apply(raw, *rw));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].content, "a.exe removed\r\n");
  EXPECT_FALSE(after[0].part.attachment);  // Content-Disposition was dropped
}

TEST(RemoveParts, NothingToRemoveKeepsTheMessage) {
  std::string raw = Multipart();
  auto rw = RemoveParts(StringSource(raw), {}, "unused");
  ASSERT_TRUE(rw.ok());
  EXPECT_TRUE(rw->header_changes.empty());
  auto before = Walk(raw), after = Walk(Apply(raw, *rw));
  ASSERT_EQ(before.size(), after.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].content, after[i].content);
}

TEST(RemoveParts, BadIndexes) {
  std::string raw = Multipart();
  StringSource source(raw);
  EXPECT_EQ(RemoveParts(source, {4}, "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveParts(source, {-1}, "x").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(RemoveParts(source, {1, 99}, "x").status().code(), Code::kInvalidArgument);
}

TEST(RemoveParts, LfOnlyInputGivesCrlfOutput) {
  std::string raw = Multipart();
  std::string lf;
  for (char c : raw) {
    if (c != '\r') lf.push_back(c);
  }
  auto rw = RemoveParts(StringSource(lf), {1}, "note");
  ASSERT_TRUE(rw.ok());
  ExpectCrlfOnly(rw->body);
  EXPECT_NE(rw->body.find("data.bin"), std::string::npos);
}

TEST(RemoveParts, MultipartWithoutBoundaryGetsHeaderChange) {
  std::string raw = "Content-Type: multipart/mixed\r\n\r\n--x\r\n\r\ntext\r\n--x--\r\n";
  auto rw = RemoveParts(StringSource(raw), {}, "note");
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  // Whatever GMime made of it, headers + body must parse back consistently.
  std::string again = Apply(raw, *rw);
  Walk(again);
}

TEST(RemoveParts, RefusesMessagesBeyondTheParseBudget) {
  std::string many = "Content-Type: multipart/mixed; boundary=m\r\n\r\n";
  for (int i = 0; i < 25000; ++i) many += "--m\r\n\r\nx\r\n";
  many += "--m--\r\n";
  EXPECT_EQ(RemoveParts(StringSource(many), {1}, "x").status().code(), Code::kInvalidArgument);
}

TEST(RemoveParts, MalformedInputNeverCrashes) {
  for (std::string raw : {std::string(), Payload(3000, 5), std::string("\r\n\r\n"),
                          std::string("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"),
                          std::string("Content-Type: message/rfc822\r\n\r\n")}) {
    for (const std::vector<int>& idx : {std::vector<int>{}, {0}, {1}}) {
      auto rw = RemoveParts(StringSource(raw), idx, "n");
      if (rw.ok()) ExpectCrlfOnly(rw->body);
    }
  }
}

TEST(HeaderFromAddresses, Variants) {
  auto from = [](std::string raw) {
    auto r = HeaderFromAddresses(StringSource(raw));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(from("From: Alice <Alice@Example.COM>\r\nTo: b@x\r\n\r\nFrom: body@x.org\r\n"),
            V{"alice@example.com"});
  EXPECT_EQ(from("Subject: s\r\nfrom :\r\n \"=?UTF-8?Q?B=C3=B6b?=\" <bob@example.org>,\r\n"
                 "\tcarol@example.net\r\n\r\n"),
            (V{"bob@example.org", "carol@example.net"}));
  EXPECT_EQ(from("From: a@x.org\nFrom: b@y.org\nFrom: A@X.org\n\nbody"), (V{"a@x.org", "b@y.org"}));
  EXPECT_EQ(from("From: undisclosed: m1@x.org, m2@x.org;\r\n\r\n"), (V{"m1@x.org", "m2@x.org"}));
  EXPECT_EQ(from("Subject: no from\r\n\r\nFrom: x@y\r\n"), V{});
  EXPECT_EQ(from(""), V{});
  EXPECT_EQ(from("X-From: spoof@x.org\r\nFromage: cheese@x.org\r\n\r\n"), V{});
  EXPECT_EQ(from("From: no end of headers <end@x.org>"), V{"end@x.org"});
  std::string big = "From: first@x.org\r\n" + std::string(200000, 'a') + "\r\n\r\n";
  EXPECT_EQ(from(big), V{"first@x.org"});
}

TEST(WalkParts, ConcurrentCallsAgree) {
  std::string raw = Nested();
  auto expected = Walk(raw);
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto got = Walk(raw);
        if (got.size() != expected.size() || got.back().content != expected.back().content) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace mailvault::mime
