// Tests of ExtractMetadata and BccFromEnvelope: decoding of headers in their
// many real-world spellings, the attachment list (names, types, decoded
// sizes, nesting), and robustness on malformed, hostile and large input.
#include "mime/metadata.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "mime/gmime_util.h"
#include "mime/text.h"

namespace mailvault::mime {
namespace {

std::string Base64(std::string_view in, size_t line = 76) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t col = 0;
  auto put = [&](char c) {
    out.push_back(c);
    if (++col == line) {
      out += "\r\n";
      col = 0;
    }
  };
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    put(kAlphabet[v >> 18]), put(kAlphabet[(v >> 12) & 63]);
    put(kAlphabet[(v >> 6) & 63]), put(kAlphabet[v & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    put(kAlphabet[v >> 18]), put(kAlphabet[(v >> 12) & 63]), put('='), put('=');
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    put(kAlphabet[v >> 18]), put(kAlphabet[(v >> 12) & 63]), put(kAlphabet[(v >> 6) & 63]),
        put('=');
  }
  if (col != 0) out += "\r\n";
  return out;
}

// Deterministic binary payload of `n` bytes.
std::string Payload(size_t n) {
  std::string s(n, '\0');
  uint32_t x = 12345;
  for (char& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

void ExpectAllUtf8(const MessageHeaders& h) {
  for (const std::string* s : {&h.from, &h.to, &h.cc, &h.subject, &h.message_id}) {
    EXPECT_TRUE(IsValidUtf8(*s)) << *s;
  }
  for (const auto& a : h.to_addresses) EXPECT_TRUE(IsValidUtf8(a)) << a;
  for (const auto& a : h.attachments) {
    EXPECT_TRUE(IsValidUtf8(a.name)) << a.name;
    EXPECT_TRUE(IsValidUtf8(a.type)) << a.type;
  }
}

TEST(ExtractMetadata, SimpleMessage) {
  MessageHeaders h = ExtractMetadata(
      "From: Alice Example <alice@example.com>\r\n"
      "To: Bob <bob@example.com>, carol@example.com\r\n"
      "Cc: \"Doe, Dave\" <DAVE@Example.COM>\r\n"
      "Subject: Quarterly report\r\n"
      "Message-ID: <abc.123@mail.example.com>\r\n"
      "Date: Tue, 15 Nov 1994 08:12:31 -0500\r\n"
      "\r\n"
      "Hello Bob.\r\n");
  EXPECT_EQ(h.from, "Alice Example <alice@example.com>");
  EXPECT_EQ(h.to, "Bob <bob@example.com>, carol@example.com");
  EXPECT_EQ(h.cc, "\"Doe, Dave\" <DAVE@Example.COM>");
  EXPECT_EQ(h.subject, "Quarterly report");
  EXPECT_EQ(h.message_id, "abc.123@mail.example.com");
  EXPECT_EQ(h.sent_at, int64_t{784905151} * 1000000);
  EXPECT_EQ(h.to_addresses,
            (std::vector<std::string>{"bob@example.com", "carol@example.com", "dave@example.com"}));
  EXPECT_TRUE(h.attachments.empty());
}

TEST(ExtractMetadata, BareLfLineEndings) {
  MessageHeaders h = ExtractMetadata("From: a@example.com\nSubject: lf only\n\nbody\n");
  EXPECT_EQ(h.from, "a@example.com");
  EXPECT_EQ(h.subject, "lf only");
}

TEST(ExtractMetadata, Rfc2047EncodedWords) {
  MessageHeaders h = ExtractMetadata(
      "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\r\n"
      "To: =?ISO-8859-1?Q?Fran=E7ois?= <f@example.fr>\r\n"
      "Subject: =?UTF-8?B?w4RwZmVsIHVuZCBCaXJuZW4=?= =?ISO-8859-1?Q?_Caf=E9_cr=E8me?=\r\n"
      "\r\n");
  EXPECT_EQ(h.from, "J\xC3\xBCrgen M\xC3\xBCller <jm@example.de>");
  EXPECT_EQ(h.to, "Fran\xC3\xA7ois <f@example.fr>");
  // Whitespace between adjacent encoded words is dropped (RFC 2047 §6.2).
  EXPECT_EQ(h.subject, "\xC3\x84pfel und Birnen Caf\xC3\xA9 cr\xC3\xA8me");
}

TEST(ExtractMetadata, BrokenEncodedWordsStayReadable) {
  MessageHeaders h = ExtractMetadata(
      "Subject: =?UTF-8?B?not base64 at all =?x-unknown?Q?abc?= =?UTF-8?Q?=FF=FE?= tail\r\n"
      "From: =?UTF-8?B?\r\n"
      "\r\n");
  ExpectAllUtf8(h);
  EXPECT_NE(h.subject.find("tail"), std::string::npos) << h.subject;
}

TEST(ExtractMetadata, Raw8BitUtf8Subject) {
  MessageHeaders h = ExtractMetadata(
      "Subject: Gr\xC3\xBC\xC3\x9F"
      "e aus K\xC3\xB6ln\r\n\r\n");
  EXPECT_EQ(h.subject,
            "Gr\xC3\xBC\xC3\x9F"
            "e aus K\xC3\xB6ln");
}

TEST(ExtractMetadata, Raw8BitLatin1Subject) {
  MessageHeaders h = ExtractMetadata(
      "From: J\xFCrgen <j@example.de>\r\n"
      "Subject: Gr\xFC\xDF"
      "e aus K\xF6ln\r\n\r\n");
  EXPECT_EQ(h.subject,
            "Gr\xC3\xBC\xC3\x9F"
            "e aus K\xC3\xB6ln");
  EXPECT_EQ(h.from, "J\xC3\xBCrgen <j@example.de>");
}

TEST(ExtractMetadata, ControlCharactersRemoved) {
  MessageHeaders h =
      ExtractMetadata(std::string("Subject: a\x01"
                                  "b\tc\x7F"
                                  "d\x1B[31m\r\n\r\n"));
  EXPECT_EQ(h.subject, "ab cd[31m");
}

TEST(ExtractMetadata, NulBytesInHeadersAndBody) {
  std::string raw("Subject: before\0after\r\nFrom: x@example.com\r\n\r\n\0\0body", 51);
  MessageHeaders h = ExtractMetadata(raw);
  ExpectAllUtf8(h);
  EXPECT_EQ(h.subject.find('\0'), std::string::npos);
  EXPECT_EQ(h.subject.rfind("before", 0), 0u) << h.subject;
}

TEST(ExtractMetadata, MissingHeaders) {
  MessageHeaders h = ExtractMetadata("Subject: only a subject\r\n\r\nbody\r\n");
  EXPECT_EQ(h.subject, "only a subject");
  EXPECT_EQ(h.from, "");
  EXPECT_EQ(h.to, "");
  EXPECT_EQ(h.cc, "");
  EXPECT_EQ(h.message_id, "");
  EXPECT_EQ(h.sent_at, 0);
  EXPECT_TRUE(h.to_addresses.empty());
  EXPECT_TRUE(h.attachments.empty());
}

TEST(ExtractMetadata, EmptyAndHeaderlessInput) {
  for (std::string_view raw : {std::string_view(""), std::string_view("\r\n"),
                               std::string_view("just a body line without headers"),
                               std::string_view("\r\n\r\nbody after empty headers")}) {
    MessageHeaders h = ExtractMetadata(raw);
    EXPECT_EQ(h.from, "") << raw;
    EXPECT_EQ(h.subject, "") << raw;
    EXPECT_EQ(h.sent_at, 0) << raw;
    // Bytes without a header block are one undeclared part: an attachment,
    // as the content filter sees (and would remove) it.
    if (h.attachments.empty()) continue;
    ASSERT_EQ(h.attachments.size(), 1u) << raw;
    EXPECT_EQ(h.attachments[0].type, "application/octet-stream") << raw;
    EXPECT_EQ(h.attachments[0].size, raw.size()) << raw;
  }
}

TEST(ExtractMetadata, HeaderOnlyMessage) {
  MessageHeaders h = ExtractMetadata("From: a@example.com\r\nSubject: no body");
  EXPECT_EQ(h.from, "a@example.com");
  EXPECT_EQ(h.subject, "no body");
}

TEST(ExtractMetadata, GarbageBytes) {
  std::string raw = Payload(64 * 1024);
  MessageHeaders h = ExtractMetadata(raw);
  ExpectAllUtf8(h);
  // No header block: the bytes are one undeclared attachment.
  ASSERT_EQ(h.attachments.size(), 1u);
  EXPECT_EQ(h.attachments[0], (Attachment{"", "application/octet-stream", raw.size()}));
}

TEST(ExtractMetadata, MessageIdVariants) {
  EXPECT_EQ(ExtractMetadata("Message-ID:   <x@y>  \r\n\r\n").message_id, "x@y");
  EXPECT_EQ(ExtractMetadata("Message-Id: <x@y> (comment)\r\n\r\n").message_id, "x@y");
  // No angle brackets: kept as written.
  EXPECT_EQ(ExtractMetadata("Message-ID: bare-id@host\r\n\r\n").message_id, "bare-id@host");
}

TEST(ExtractMetadata, Dates) {
  EXPECT_EQ(ExtractMetadata("Date: Thu, 29 Feb 2024 23:59:59 +0100\r\n\r\n").sent_at,
            int64_t{1709247599} * 1000000);
  EXPECT_EQ(ExtractMetadata("Date: 29 Feb 2024 22:59:59 GMT\r\n\r\n").sent_at,
            int64_t{1709247599} * 1000000);
  EXPECT_EQ(ExtractMetadata("Subject: no date\r\n\r\n").sent_at, 0);
  EXPECT_EQ(ExtractMetadata("Date: the day after tomorrow\r\n\r\n").sent_at, 0);
  EXPECT_EQ(ExtractMetadata("Date:\r\n\r\n").sent_at, 0);
}

TEST(ExtractMetadata, GroupsAndDuplicateAddresses) {
  MessageHeaders h = ExtractMetadata(
      "To: Team: Ann <ANN@example.com>, ben@example.com;, ann@example.com\r\n"
      "Cc: undisclosed-recipients:;\r\n\r\n");
  EXPECT_EQ(h.to_addresses, (std::vector<std::string>{"ann@example.com", "ben@example.com"}));
}

std::string MultipartMessage(const std::string& pdf, const std::string& png) {
  return "From: Alice <alice@example.com>\r\n"
         "To: bob@example.com\r\n"
         "Subject: with attachments\r\n"
         "MIME-Version: 1.0\r\n"
         "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
         "\r\n"
         "preamble\r\n"
         "--outer\r\n"
         "Content-Type: multipart/related; boundary=\"rel\"\r\n"
         "\r\n"
         "--rel\r\n"
         "Content-Type: text/html; charset=utf-8\r\n"
         "\r\n"
         "<p>hi <img src=cid:logo></p>\r\n"
         "--rel\r\n"
         "Content-Type: image/PNG\r\n"
         "Content-Disposition: inline; filename=\"logo.png\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "Content-ID: <logo>\r\n"
         "\r\n" +
         Base64(png) +
         "--rel--\r\n"
         "--outer\r\n"
         "Content-Type: Application/PDF; name=\"report.pdf\"\r\n"
         "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n"
         "\r\n" +
         Base64(pdf) +
         "--outer\r\n"
         "Content-Type: message/rfc822\r\n"
         "\r\n"
         "From: inner@example.com\r\n"
         "Subject: forwarded\r\n"
         "Content-Type: multipart/mixed; boundary=inner\r\n"
         "\r\n"
         "--inner\r\n"
         "Content-Type: text/plain\r\n"
         "\r\n"
         "inner body\r\n"
         "--inner\r\n"
         "Content-Type: application/octet-stream\r\n"
         "Content-Disposition: attachment\r\n"
         "\r\n"
         "0123456789\r\n"
         "--inner--\r\n"
         "--outer--\r\n"
         "epilogue\r\n";
}

TEST(ExtractMetadata, MultipartAttachments) {
  std::string pdf = "%PDF-1.4\n" + Payload(10000);
  std::string png = "\x89PNG\r\n\x1a\n" + Payload(777);
  MessageHeaders h = ExtractMetadata(MultipartMessage(pdf, png));
  EXPECT_EQ(h.subject, "with attachments");
  ASSERT_EQ(h.attachments.size(), 3u);
  EXPECT_EQ(h.attachments[0], (Attachment{"logo.png", "image/png", png.size()}));
  EXPECT_EQ(h.attachments[1], (Attachment{"report.pdf", "application/pdf", pdf.size()}));
  // The forwarded message is one attachment (its parts belong to it), as
  // long as GMime writes it.
  EXPECT_EQ(h.attachments[2].name, "");
  EXPECT_EQ(h.attachments[2].type, "message/rfc822");
  EXPECT_GT(h.attachments[2].size, 200u);
  EXPECT_LT(h.attachments[2].size, 300u);
  // The forwarded message's headers are not the outer message's.
  EXPECT_EQ(h.from, "Alice <alice@example.com>");
}

TEST(ExtractMetadata, DigestChildrenAreMessages) {
  MessageHeaders h = ExtractMetadata(
      "Subject: digest\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n"
      "--d\r\n"
      "\r\n"  // no Content-Type: message/rfc822 in a digest
      "Subject: first\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
      "--m\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=a.csv\r\n\r\n"
      "1,2\r\n--m--\r\n"
      "--d--\r\n");
  EXPECT_EQ(h.subject, "digest");
  ASSERT_EQ(h.attachments.size(), 1u);  // the digest's one message
  EXPECT_EQ(h.attachments[0].type, "message/rfc822");
  EXPECT_GT(h.attachments[0].size, 100u);
}

TEST(ExtractMetadata, QuotedPrintableAndNameFromContentType) {
  MessageHeaders h = ExtractMetadata(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\n"
      "Content-Type: text/plain; name=notes.txt\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "caf=C3=A9=\r\n"
      " ok\r\n"
      "--b--\r\n");
  ASSERT_EQ(h.attachments.size(), 1u);
  EXPECT_EQ(h.attachments[0].name, "notes.txt");
  EXPECT_EQ(h.attachments[0].type, "text/plain");
  EXPECT_EQ(h.attachments[0].size, 8u);  // "caf\xC3\xA9 ok"
}

TEST(ExtractMetadata, Rfc2231AndRfc2047FileNames) {
  MessageHeaders h = ExtractMetadata(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\n"
      "Content-Type: application/pdf\r\n"
      "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf\r\n\r\n"
      "x\r\n"
      "--b\r\n"
      "Content-Type: application/pdf\r\n"
      "Content-Disposition: attachment;\r\n"
      " filename*0*=ISO-8859-1''Gr%FC%DF;\r\n"
      " filename*1=\"e.pdf\"\r\n\r\n"
      "y\r\n"
      "--b\r\n"
      "Content-Type: application/pdf\r\n"
      "Content-Disposition: attachment; filename=\"=?UTF-8?B?w6TDtsO8LnBkZg==?=\"\r\n\r\n"
      "z\r\n"
      "--b--\r\n");
  ASSERT_EQ(h.attachments.size(), 3u);
  EXPECT_EQ(h.attachments[0].name, "\xE2\x82\xAC rates.pdf");
  EXPECT_EQ(h.attachments[1].name,
            "Gr\xC3\xBC\xC3\x9F"
            "e.pdf");
  EXPECT_EQ(h.attachments[2].name, "\xC3\xA4\xC3\xB6\xC3\xBC.pdf");
}

TEST(ExtractMetadata, UnterminatedMultipart) {
  std::string data = Payload(3000);
  MessageHeaders h = ExtractMetadata(
      "Subject: cut off\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
      "--zz\r\n"
      "Content-Type: application/zip\r\n"
      "Content-Disposition: attachment; filename=a.zip\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      Base64(data));  // no closing boundary, message ends
  EXPECT_EQ(h.subject, "cut off");
  ASSERT_EQ(h.attachments.size(), 1u);
  EXPECT_EQ(h.attachments[0], (Attachment{"a.zip", "application/zip", data.size()}));
}

TEST(ExtractMetadata, BoundaryNeverAppears) {
  MessageHeaders h = ExtractMetadata(
      "Subject: wrong boundary\r\nContent-Type: multipart/mixed; boundary=declared\r\n\r\n"
      "--other\r\n"
      "Content-Disposition: attachment; filename=lost.txt\r\n\r\n"
      "text\r\n"
      "--other--\r\n");
  EXPECT_EQ(h.subject, "wrong boundary");
  EXPECT_TRUE(h.attachments.empty());
}

TEST(ExtractMetadata, MultipartWithoutBoundaryParameter) {
  MessageHeaders h =
      ExtractMetadata("Subject: s\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n\r\n--\r\n");
  EXPECT_EQ(h.subject, "s");
}

TEST(ExtractMetadata, DeepNestingIsBounded) {
  for (int levels : {60, 3000, 200000}) {
    std::string raw = "Subject: deep\r\n";
    for (int i = 0; i < levels; ++i) {
      raw += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
             std::to_string(i) + "\r\n";
    }
    raw +=
        "Content-Type: text/plain\r\nContent-Disposition: attachment; "
        "filename=deep.txt\r\n\r\nx\r\n";
    MessageHeaders h = ExtractMetadata(raw);
    EXPECT_EQ(h.subject, "deep");
    EXPECT_TRUE(h.attachments.empty()) << levels;  // beyond the depth cap of 50
  }
}

TEST(ExtractMetadata, NestedMessagesAreBounded) {
  std::string raw;
  for (int i = 0; i < 5000; ++i) raw += "Subject: level\r\nContent-Type: message/rfc822\r\n\r\n";
  MessageHeaders h = ExtractMetadata(raw);
  EXPECT_EQ(h.subject, "level");
}

TEST(ExtractMetadata, ManyPartsAreBounded) {
  std::string raw = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 100000; ++i) raw += "--p\r\nContent-Disposition: attachment\r\n\r\nx\r\n";
  raw += "--p--\r\n";
  MessageHeaders h = ExtractMetadata(raw);
  EXPECT_EQ(h.attachments.size(), 1000u);
  EXPECT_EQ(h.attachments[999].size, 1u);

  std::string empty_parts = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 1000000; ++i) empty_parts += "--p\r\n";
  h = ExtractMetadata(empty_parts);
  EXPECT_TRUE(h.attachments.empty());
}

TEST(ExtractMetadata, HugeHeaderBlocksAreBounded) {
  // Millions of header lines would cost GMime gigabytes; the headers that
  // fit the budget still count.
  std::string raw = "Subject: many headers\r\nFrom: a@example.com\r\n";
  for (int i = 0; i < 2000000; ++i) raw += "X-A: b\r\n";
  raw += "\r\nbody\r\n";
  MessageHeaders h = ExtractMetadata(raw);
  EXPECT_EQ(h.subject, "many headers");
  EXPECT_EQ(h.from, "a@example.com");

  std::string one_line =
      "From: a@example.com\r\nSubject: " + std::string(30 << 20, 'y') + "\r\n\r\n";
  h = ExtractMetadata(one_line);
  EXPECT_EQ(h.from, "a@example.com");
}

TEST(ExtractMetadata, LongTextAttachmentIsNotMistakenForHeaders) {
  // A 7bit log file full of "Name: value" lines sits in a body, not in a
  // header block: it must not use up the header budget.
  std::string log;
  for (int i = 0; i < 100000; ++i) log += "INFO: line " + std::to_string(i) + "\r\n";
  std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=app.log\r\n"
      "\r\n" +
      log +
      "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=z.pdf\r\n"
      "\r\n%PDF\r\n--b--\r\n";
  MessageHeaders h = ExtractMetadata(raw);
  ASSERT_EQ(h.attachments.size(), 2u);
  EXPECT_EQ(h.attachments[0].name, "app.log");
  EXPECT_EQ(h.attachments[0].size, log.size() - 2);  // the last CRLF belongs to the boundary
  EXPECT_EQ(h.attachments[1], (Attachment{"z.pdf", "application/pdf", 4}));
}

TEST(ExtractMetadata, LongFieldsAreBounded) {
  std::string to = "To: ";
  for (int i = 0; i < 20000; ++i) to += "user" + std::to_string(i) + "@example.com, ";
  MessageHeaders h =
      ExtractMetadata("Subject: " + std::string(100000, 'x') + "\r\n" + to + "\r\n\r\n");
  EXPECT_EQ(h.subject.size(), 4096u);
  EXPECT_LE(h.to.size(), 65536u);
  EXPECT_GT(h.to.size(), 60000u);
  EXPECT_EQ(h.to_addresses.size(), 1000u);
}

TEST(ExtractMetadata, LargeMessage) {
  const std::string data = Payload(15 * 1024 * 1024);
  std::string raw =
      "From: big@example.com\r\nSubject: large\r\n"
      "Content-Type: multipart/mixed; boundary=big\r\n\r\n"
      "--big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
      "--big\r\n"  // no Content-Type: text/plain by default
      "Content-Disposition: attachment; filename=\"big.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n";
  raw += Base64(data);
  raw += "--big--\r\n";
  ASSERT_GT(raw.size(), 20u * 1000 * 1000);
  MessageHeaders h = ExtractMetadata(raw);
  EXPECT_EQ(h.subject, "large");
  ASSERT_EQ(h.attachments.size(), 1u);
  EXPECT_EQ(h.attachments[0], (Attachment{"big.bin", "text/plain", data.size()}));
}

TEST(ExtractMetadata, ConcurrentCallsAgree) {
  std::string raw = MultipartMessage("%PDF" + Payload(5000), Payload(100));
  MessageHeaders expected = ExtractMetadata(raw);
  ASSERT_EQ(expected.attachments.size(), 3u);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        MessageHeaders h = ExtractMetadata(raw);
        if (h.attachments != expected.attachments || h.from != expected.from) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// Serves a string like StringSource, records the largest single read, and
// fails every read that reaches `fail_from` with IOError.
class TestSource final : public ByteSource {
 public:
  explicit TestSource(std::string_view bytes, uint64_t fail_from = UINT64_MAX)
      : bytes_(bytes), fail_from_(fail_from) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, size_t n, std::string* out) const override {
    largest_read_ = std::max(largest_read_, n);
    if (offset > bytes_.size()) return Status::InvalidArgument("read past the end");
    size_t len = std::min<uint64_t>(n, bytes_.size() - offset);
    if (offset + len > fail_from_) return Status::IOError("test source fails here");
    out->append(bytes_.substr(offset, len));
    return Status::Ok();
  }
  size_t largest_read() const { return largest_read_; }

 private:
  std::string_view bytes_;
  uint64_t fail_from_;
  mutable size_t largest_read_ = 0;
};

void ExpectSameHeaders(const MessageHeaders& a, const MessageHeaders& b) {
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.cc, b.cc);
  EXPECT_EQ(a.subject, b.subject);
  EXPECT_EQ(a.message_id, b.message_id);
  EXPECT_EQ(a.sent_at, b.sent_at);
  EXPECT_EQ(a.to_addresses, b.to_addresses);
  EXPECT_EQ(a.attachments, b.attachments);
}

TEST(ExtractMetadata, ByteSourceAgreesWithStringView) {
  std::vector<std::string> messages = {
      "",
      "\r\n",
      "just a body line without headers",
      "From: Alice Example <alice@example.com>\r\nTo: Bob <bob@example.com>, c@example.com\r\n"
      "Cc: \"Doe, Dave\" <DAVE@Example.COM>\r\nSubject: Quarterly report\r\n"
      "Message-ID: <abc.123@mail.example.com>\r\nDate: Tue, 15 Nov 1994 08:12:31 -0500\r\n"
      "\r\nHello Bob.\r\n",
      "From: a@example.com\nSubject: lf only\n\nbody\n",
      "From: =?UTF-8?Q?J=C3=BCrgen?= <jm@example.de>\r\nSubject: =?UTF-8?B?w4RwZmVs?=\r\n\r\n",
      "From: J\xFCrgen <j@example.de>\r\nSubject: Gr\xFC\xDF"
      "e\r\n\r\n",
      std::string("Subject: before\0after\r\nFrom: x@example.com\r\n\r\n\0\0body", 51),
      "From: a@example.com\r\nSubject: no body",
      Payload(200 * 1024),
      MultipartMessage("%PDF-1.4\n" + Payload(10000), "\x89PNG\r\n\x1a\n" + Payload(777)),
      "Subject: digest\r\nContent-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n"
      "Subject: first\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n"
      "--m\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=a.csv\r\n\r\n"
      "1,2\r\n--m--\r\n--d--\r\n",
      "Subject: cut off\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
      "Content-Disposition: attachment; filename=a.zip\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
          Base64(Payload(3000)),
  };
  // Past the parse budgets: many parts, many header lines, deep nesting.
  std::string many_parts = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 30000; ++i) {
    many_parts += "--p\r\nContent-Disposition: attachment\r\n\r\nx\r\n";
  }
  messages.push_back(many_parts);
  std::string many_headers = "Subject: many headers\r\nFrom: a@example.com\r\n";
  for (int i = 0; i < 30000; ++i) many_headers += "X-A: b\r\n";
  messages.push_back(many_headers + "\r\nbody\r\n");
  std::string deep = "Subject: deep\r\n";
  for (int i = 0; i < 1500; ++i) {
    deep += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
            std::to_string(i) + "\r\n";
  }
  messages.push_back(deep);
  // A multi-MB message with an attachment spanning many source reads.
  const std::string data = Payload(6 * 1024 * 1024);
  messages.push_back(
      "From: big@example.com\r\nSubject: large\r\n"
      "Content-Type: multipart/mixed; boundary=big\r\n\r\n"
      "--big\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
      "--big\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      Base64(data) + "--big--\r\n");

  for (size_t i = 0; i < messages.size(); ++i) {
    SCOPED_TRACE("message " + std::to_string(i));
    const std::string& raw = messages[i];
    MessageHeaders expected = ExtractMetadata(std::string_view(raw));
    TestSource source(raw);
    ExpectSameHeaders(ExtractMetadata(source), expected);
    // Read piecewise: never the whole message at once.
    EXPECT_LE(source.largest_read(), 64u * 1024);
  }
  // The multi-MB one really was parsed.
  MessageHeaders big = ExtractMetadata(TestSource(messages.back()));
  EXPECT_EQ(big.subject, "large");
  ASSERT_EQ(big.attachments.size(), 1u);
  EXPECT_EQ(big.attachments[0].size, data.size());
}

TEST(ExtractMetadata, ByteSourceReadErrorGivesWhatWasRead) {
  std::string raw = MultipartMessage("%PDF-1.4\n" + Payload(300000), Payload(777));
  ASSERT_GT(raw.size(), 300000u);
  // Fails inside the PDF (the third 64 KiB read): the fields before it come out.
  MessageHeaders h = ExtractMetadata(TestSource(raw, 150000));
  ExpectAllUtf8(h);
  EXPECT_EQ(h.subject, "with attachments");
  EXPECT_EQ(h.from, "Alice <alice@example.com>");
  // Fails from the first byte: nothing, and no crash.
  h = ExtractMetadata(TestSource(raw, 0));
  EXPECT_EQ(h.subject, "");
  EXPECT_TRUE(h.attachments.empty());
}

TEST(BccFromEnvelope, RecipientsNotInHeaders) {
  EXPECT_EQ(BccFromEnvelope({"<Bob@Example.com>", "secret@example.com", " <Hidden@Example.org> ",
                             "carol@example.com"},
                            {"bob@example.com", "carol@example.com"}),
            "secret@example.com, Hidden@Example.org");
}

TEST(BccFromEnvelope, EdgeCases) {
  EXPECT_EQ(BccFromEnvelope({}, {"a@example.com"}), "");
  EXPECT_EQ(BccFromEnvelope({"a@example.com"}, {}), "a@example.com");
  EXPECT_EQ(BccFromEnvelope({"A@example.com", "a@EXAMPLE.com", "<>", ""}, {}), "A@example.com");
  EXPECT_EQ(BccFromEnvelope({"x@example.com"}, {"<X@Example.com>"}), "");
}

TEST(BccFromEnvelope, WorksWithExtractedAddresses) {
  MessageHeaders h = ExtractMetadata("To: Ann <Ann@Example.com>\r\nCc: ben@example.com\r\n\r\n");
  EXPECT_EQ(
      BccFromEnvelope({"ann@example.com", "<BEN@example.com>", "boss@example.com"}, h.to_addresses),
      "boss@example.com");
}

TEST(CleanText, Utf8AndLatin1) {
  EXPECT_EQ(CleanText("caf\xC3\xA9", 100), "caf\xC3\xA9");
  EXPECT_EQ(CleanText("caf\xE9", 100), "caf\xC3\xA9");                  // Latin-1
  EXPECT_EQ(CleanText("\xC0\xAF", 100), "\xC3\x80\xC2\xAF");            // overlong: Latin-1
  EXPECT_EQ(CleanText("\xED\xA0\x80", 100), "\xC3\xAD\xC2\xA0");        // surrogate; \x80 is C1
  EXPECT_EQ(CleanText("  a\r\n b\x85 ", 100), "a   b");                 // Latin-1: \x85 is C1
  EXPECT_EQ(CleanText("\xE2\x82\xAC\xE2\x82\xAC", 4), "\xE2\x82\xAC");  // cut at a boundary
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));                        // above U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string_view("a\0b", 3)));
}

// GMime 3.2.13 leaks 128 bytes per parse of an unclosed comment after a
// domain literal. Under the ASan build (leak detection on), this test fails
// at exit without the guard; everywhere it checks what the guard shows.
TEST(ExtractMetadata, UnbalancedAddressHeadersDoNotReachGMimeUnguarded) {
  for (const char* from : {"r@[192.0.2.1] (", "r@[192.0.2.1] (a (b)", "\"Bob <b@[10.0.0.1]> (x"}) {
    std::string raw = std::string("From: ") + from +
                      "\r\nTo: bob@example.com, c@[192.0.2.2] (\r\nCc: d@[192.0.2.3]\r\n (e\r\n"
                      "Subject: guarded\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
                      "--b\r\nContent-Type: message/rfc822\r\n\r\n"
                      "From: inner@[192.0.2.4] (\r\nSubject: inner\r\n\r\nhi\r\n--b--\r\n";
    MessageHeaders h = ExtractMetadata(raw);
    EXPECT_EQ(h.subject, "guarded") << from;
    EXPECT_EQ(h.from.find('('), std::string::npos) << h.from;
    EXPECT_NE(std::find(h.to_addresses.begin(), h.to_addresses.end(), "bob@example.com"),
              h.to_addresses.end())
        << from;
  }
  // A NUL ends the value GMime parses: a comment closed only after it is
  // unclosed to GMime (found by metadata_fuzz).
  MessageHeaders nul = ExtractMetadata(std::string(
      "From: r@[192.0.6.1] (x\0y)\r\nTo: bob@example.com\r\nSubject: nul\r\n\r\nhi\r\n", 68));
  EXPECT_EQ(nul.subject, "nul");
  // A '"' inside a domain literal does not count to GMime: the quotes below
  // pair up only if it did, and the comment after the literal is unclosed
  // (found by metadata_fuzz).
  MessageHeaders literal = ExtractMetadata(
      "From: r@[192.0 boundary=\"o.2.1] (x\" \"\r\nTo: bob@example.com\r\nSubject: "
      "lit\r\n\r\nhi\r\n");
  EXPECT_EQ(literal.subject, "lit");
  EXPECT_EQ(literal.from.find('('), std::string::npos) << literal.from;
  // Balanced headers are untouched: the comment stays where GMime keeps it.
  MessageHeaders h = ExtractMetadata(
      "From: r@[192.0.2.1] (Rob)\r\nTo: Bob <bob@example.com>\r\nSubject: s\r\n\r\nx\r\n");
  EXPECT_NE(h.from.find("192.0.2.1"), std::string::npos) << h.from;
  EXPECT_EQ(h.to_addresses, std::vector<std::string>{"bob@example.com"});
}

TEST(AddressHeaderGuard, BlanksTheDelimitersOfUnbalancedAddressFieldsOnly) {
  const std::string raw =
      "From: r@[192.0.2.1] (\r\nSubject: (kept\r\nCC:\r\n  <c@example.com\r\n"
      "To: <ok@example.com> (fine)\r\n\r\nReply-To: x (\r\nbody (kept\r\n";
  StringSource source(raw);
  AddressHeaderGuard guard(source, raw.size());
  std::string seen;
  ASSERT_TRUE(guard.ReadAt(0, raw.size(), &seen).ok());
  ASSERT_EQ(seen.size(), raw.size());
  std::string want = raw;
  for (size_t at : {want.find("1] (") + 3, want.find("<c@"), want.find("x (") + 2}) want[at] = ' ';
  EXPECT_EQ(seen, want);
  EXPECT_EQ(guard.patched(), 3u);
  // A read at an offset patches the same bytes.
  std::string tail;
  ASSERT_TRUE(guard.ReadAt(10, 20, &tail).ok());
  EXPECT_EQ(tail, want.substr(10, 20));
}

}  // namespace
}  // namespace mailvault::mime
