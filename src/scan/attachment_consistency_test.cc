// One definition of "attachment": over a table of messages that mail
// clients and parsers disagree on, the attachment list the console shows
// (mime::ExtractMetadata, what the store records with a copy) is exactly
// what the content filter names and a delete-attachment action removes
// (mime::RemoveParts), and the rewritten message has none left. Written
// against the one-shot calls that existed before the shared walker, so it
// ran (and failed) against the three walkers it replaced.
#include <gtest/gtest.h>
#include <strings.h>

#include <string>
#include <vector>

#include "mime/metadata.h"
#include "mime/parts.h"
#include "scan/content_filter.h"

namespace mailvault::scan {
namespace {

constexpr char kTop[] =
    "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n";

// multipart/mixed with a text part first, then `parts` (each a whole MIME
// entity: headers, blank line, content).
std::string Mixed(const std::vector<std::string>& parts) {
  std::string m = std::string(kTop) + "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n" +
                  "--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n";
  for (const std::string& p : parts) m += "--=_b\r\n" + p;
  return m + "--=_b--\r\n";
}

struct Case {
  const char* name;
  std::string raw;
  size_t attachments;  // how many the console must list
};

std::vector<Case> Cases() {
  const std::string pdf = "%PDF-1.4\r\n1 0 obj << >> endobj\r\n";
  return {
      {"inline part with a file name",
       Mixed({"Content-Type: image/png\r\nContent-Disposition: inline; filename=\"logo.png\"\r\n"
              "Content-ID: <logo@x>\r\n\r\n\x89PNG\r\n\x1a\nIHDR\r\n"}),
       1},
      {"attachment disposition without a name",
       Mixed({"Content-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\n" + pdf}),
       1},
      {"name only in Content-Type",
       Mixed({"Content-Type: application/pdf; name=\"report.pdf\"\r\n\r\n" + pdf}), 1},
      {"text/plain with a name",
       Mixed({"Content-Type: text/plain; name=\"readme.txt\"\r\n\r\nread me\r\n"}), 1},
      {"nameless inline non-text part",
       Mixed({"Content-Type: application/octet-stream\r\n\r\nMZ\x90\x00 bytes\r\n"}), 1},
      {"attached message (only text inside)",
       Mixed({"Content-Type: message/rfc822\r\n\r\nFrom: c@example.net\r\nSubject: fwd\r\n\r\n"
              "forwarded text\r\n"}),
       1},
      {"attached message with an attachment inside",
       Mixed({"Content-Type: message/rfc822\r\nContent-Disposition: attachment; "
              "filename=fwd.eml\r\n\r\n"
              "From: c@example.net\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
              "Content-Type: multipart/mixed; boundary=in\r\n\r\n"
              "--in\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
              "--in\r\nContent-Type: application/zip; name=a.zip\r\n\r\nPK\x03\x04zz\r\n"
              "--in--\r\n"}),
       1},
      {"nested multiparts",
       std::string(kTop) +
           "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
           "--o\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
           "--a\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
           "--a\r\nContent-Type: multipart/related; boundary=r\r\n\r\n"
           "--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:i@x\">\r\n"
           "--r\r\nContent-Type: image/gif\r\nContent-ID: <i@x>\r\n\r\nGIF89a....\r\n"
           "--r--\r\n"
           "--a--\r\n"
           "--o\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
           "filename=\"b.pdf\"\r\n\r\n" +
           pdf + "--o--\r\n",
       2},
      {"malformed headers",
       Mixed({"Content-Type: application/octet-stream; name=\"unterminated\r\n"
              "Content-Disposition: attachment; filename=\r\n\r\nbytes\r\n",
              "Content-Type: ;;;\r\nContent-Disposition: attachment;;; =x\r\n\r\nmore bytes\r\n",
              "Content-Type: text/html\r\nContent-Disposition: inline\r\n\r\n<p>text</p>\r\n"}),
       2},
      {"the whole message is the attachment",
       std::string(kTop) + "Content-Type: application/pdf; name=x.pdf\r\n\r\n" + pdf, 1},
  };
}

// The message a milter hands on after `rw`: header changes applied (fields
// of those names dropped, the non-empty ones added), the new body.
std::string Apply(const std::string& raw, const mime::Rewrite& rw) {
  const size_t end = raw.find("\r\n\r\n");
  std::string headers;
  bool dropping = false;
  for (size_t at = 0; at < end + 2;) {
    size_t nl = raw.find("\r\n", at) + 2;
    std::string line = raw.substr(at, nl - at);
    at = nl;
    if (line[0] != ' ' && line[0] != '\t') {
      dropping = false;
      for (const auto& [name, value] : rw.header_changes) {
        if (line.size() > name.size() && line[name.size()] == ':' &&
            strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
          dropping = true;
        }
      }
    }
    if (!dropping) headers += line;
  }
  for (const auto& [name, value] : rw.header_changes) {
    if (!value.empty()) headers += name + ": " + value + "\r\n";
  }
  return headers + "\r\n" + rw.body;
}

// Everything the content filter can name: any name, any format.
std::unique_ptr<ContentFilterEngine> NamesEverything() {
  ContentOptions o;
  o.banned_names = {"*"};
  o.banned_formats = {"*/*"};
  auto e = ContentFilterEngine::Make(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

TEST(OneAttachmentRule, ConsoleListEqualsWhatTheContentFilterRemoves) {
  auto engine = NamesEverything();
  ASSERT_NE(engine, nullptr);
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    const StringSource raw(c.raw);
    const std::vector<Attachment> listed = mime::ExtractMetadata(c.raw).attachments;
    EXPECT_EQ(listed.size(), c.attachments);

    Envelope env;
    std::vector<Verdict> verdicts = engine->Scan(Message{raw, env});
    ASSERT_EQ(verdicts.size(), 1u);
    const std::vector<int>& parts = verdicts[0].parts;
    EXPECT_EQ(parts.size(), listed.size()) << verdicts[0].detail;

    // Removing what the filter named leaves no attachment, and each note
    // names one that was listed.
    Result<mime::Rewrite> rw = mime::RemoveParts(raw, parts, "[removed {filename}]");
    ASSERT_TRUE(rw.ok()) << rw.status().ToString();
    std::string after = Apply(c.raw, *rw);
    EXPECT_TRUE(mime::ExtractMetadata(after).attachments.empty()) << after;
    size_t notes = 0;
    for (size_t at = 0; (at = rw->body.find("[removed ", at)) != std::string::npos; ++at) {
      ++notes;
    }
    EXPECT_EQ(notes, listed.size()) << rw->body;
    for (const Attachment& a : listed) {
      if (!a.name.empty()) {
        EXPECT_NE(rw->body.find("[removed " + a.name + "]"), std::string::npos) << a.name;
      }
    }
  }
}

}  // namespace
}  // namespace mailvault::scan
