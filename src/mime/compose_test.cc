// Tests of the compose functions: header edits that keep every other byte,
// the mailbox checker against a table of good and bad addresses, and the
// as-attachment wrapper, checked by parsing it back with GMime and by
// comparing the attached bytes with the original.
#include "mime/compose.h"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "mime/gmime_util.h"

namespace mailvault::mime {
namespace {

using namespace std::string_literals;

// --- BodyOffset ---------------------------------------------------------

TEST(BodyOffset, FindsTheEmptyLine) {
  EXPECT_EQ(BodyOffset("A: b\r\nC: d\r\n\r\nbody\r\n"), 14u);
  EXPECT_EQ(BodyOffset("A: b\nC: d\n\nbody\n"), 11u);
  EXPECT_EQ(BodyOffset("A: b\r\n folded\r\n\r\n"), 17u);
}

TEST(BodyOffset, NoEmptyLineMeansNoBody) {
  EXPECT_EQ(BodyOffset(""), 0u);
  EXPECT_EQ(BodyOffset("A: b\r\nC: d\r\n"), 12u);
  EXPECT_EQ(BodyOffset("A: b\r\nC: d"), 10u);
}

TEST(BodyOffset, MessageStartingWithTheEmptyLineHasNoHeaders) {
  EXPECT_EQ(BodyOffset("\r\nbody\r\n"), 2u);
  EXPECT_EQ(BodyOffset("\nbody\n"), 1u);
}

TEST(BodyOffset, LinesOfBlanksOrBareCrDoNotEndTheHeaders) {
  EXPECT_EQ(BodyOffset("A: b\r\n \r\nC: d\r\n\r\nx"), 17u);  // " \r\n" continues A
  EXPECT_EQ(BodyOffset("A: b\r\r\nC: d\n\nx"), 13u);         // "\r\r\n" is not empty
}

// --- RemoveHeaderFields --------------------------------------------------

std::string Remove(std::string_view raw, std::string_view name, size_t expect_removed) {
  size_t removed = 99;
  std::string out = RemoveHeaderFields(raw, name, &removed);
  EXPECT_EQ(removed, expect_removed) << name << " in " << raw;
  return out;
}

TEST(RemoveHeaderFields, MissingFieldLeavesTheInputAlone) {
  const std::string raw = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n";
  EXPECT_EQ(Remove(raw, "Message-ID", 0), raw);
  EXPECT_EQ(RemoveHeaderFields(raw, "Message-ID"), raw);  // no counter wanted
  EXPECT_EQ(Remove(raw, "", 0), raw);
  EXPECT_EQ(Remove("", "Message-ID", 0), "");
}

TEST(RemoveHeaderFields, CrlfMessage) {
  EXPECT_EQ(Remove("From: a@example.com\r\nMessage-ID: <1@example.com>\r\nSubject: hi\r\n"
                   "\r\nbody\r\n",
                   "Message-ID", 1),
            "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n");
}

TEST(RemoveHeaderFields, LfMessage) {
  EXPECT_EQ(Remove("From: a@example.com\nMessage-ID: <1@example.com>\nSubject: hi\n\nbody\n",
                   "Message-ID", 1),
            "From: a@example.com\nSubject: hi\n\nbody\n");
}

TEST(RemoveHeaderFields, NameIsCaseInsensitiveAndMayHaveBlanksBeforeTheColon) {
  EXPECT_EQ(Remove("message-id: <1@x>\r\nA: b\r\nMESSAGE-ID :<2@x>\r\nMessage-Id\t: <3@x>\r\n"
                   "\r\n",
                   "Message-ID", 3),
            "A: b\r\n\r\n");
  // A longer or shorter name is another field.
  const std::string other = "Message-IDs: x\r\nMessage-I: y\r\nX-Message-ID: z\r\n\r\n";
  EXPECT_EQ(Remove(other, "Message-ID", 0), other);
}

TEST(RemoveHeaderFields, FoldedFieldGoesWithItsContinuationLines) {
  EXPECT_EQ(Remove("A: 1\r\nMessage-ID:\r\n <1@example.com>\r\n\t(comment)\r\nB: 2\r\n\r\nbody",
                   "Message-ID", 1),
            "A: 1\r\nB: 2\r\n\r\nbody");
  // The folded field before it keeps its own continuation.
  EXPECT_EQ(Remove("Subject: one\r\n two\r\nMessage-ID: <1@x>\r\n\r\n", "message-id", 1),
            "Subject: one\r\n two\r\n\r\n");
}

TEST(RemoveHeaderFields, EveryFieldOfTheNameGoes) {
  EXPECT_EQ(Remove("Message-ID: <1@x>\r\nA: b\r\nMessage-ID: <2@x>\r\n\r\nc", "Message-ID", 2),
            "A: b\r\n\r\nc");
}

TEST(RemoveHeaderFields, BodyIsNeverTouched) {
  const std::string body = "Message-ID: <in-body@x>\r\n\r\nMessage-ID: <again@x>\r\n";
  EXPECT_EQ(Remove("Message-ID: <1@x>\r\nA: b\r\n\r\n" + body, "Message-ID", 1),
            "A: b\r\n\r\n" + body);
  // With no headers at all, everything is body.
  EXPECT_EQ(Remove("\r\n" + body, "Message-ID", 0), "\r\n" + body);
}

TEST(RemoveHeaderFields, MessageWithoutBody) {
  EXPECT_EQ(Remove("A: b\r\nMessage-ID: <1@x>\r\nC: d\r\n", "Message-ID", 1), "A: b\r\nC: d\r\n");
}

TEST(RemoveHeaderFields, LastHeaderWithoutNewline) {
  EXPECT_EQ(Remove("A: b\r\nMessage-ID: <1@x>", "Message-ID", 1), "A: b\r\n");
  EXPECT_EQ(Remove("Message-ID: <1@x>\r\nA: b", "Message-ID", 1), "A: b");
  EXPECT_EQ(Remove("Message-ID: <1@x>", "Message-ID", 1), "");
}

TEST(RemoveHeaderFields, MalformedLinesPassThrough) {
  // No colon, bare CR, 8-bit bytes, a leading continuation line: kept as is.
  const std::string raw =
      " Message-ID: <leading@x>\r\nno colon here\r\nX: a\rb\r\nY: \xff\xfe\r\n"
      "Message-ID: <1@x>\r\n\r\n";
  EXPECT_EQ(Remove(raw, "Message-ID", 1),
            " Message-ID: <leading@x>\r\nno colon here\r\nX: a\rb\r\nY: \xff\xfe\r\n\r\n");
}

TEST(RemoveHeaderFields, OnlyTheRemovedBytesChange) {
  // Whatever is removed, the output is the input minus whole fields.
  const std::string raw =
      "Received: from a\r\n\tby b\r\nReceived: from c\r\nTo: x@y\r\nReceived: d\r\n\r\nR: e\r\n";
  size_t removed = 0;
  std::string out = RemoveHeaderFields(raw, "received", &removed);
  EXPECT_EQ(removed, 3u);
  EXPECT_EQ(out, "To: x@y\r\n\r\nR: e\r\n");
  EXPECT_EQ(BodyOffset(out), 11u);
}

// --- ParseMailbox -------------------------------------------------------

struct Good {
  std::string text;
  std::string addr;
};

TEST(ParseMailbox, AcceptsOneMailboxAndReturnsItsAddrSpec) {
  const std::vector<Good> table = {
      {"user@example.com", "user@example.com"},
      {"<user@example.com>", "user@example.com"},
      {"Bob Smith <bob@example.com>", "bob@example.com"},
      {"\"Smith, Bob\" <bob@example.com>", "bob@example.com"},
      {"\"a <odd> name\" (x>y) <bob@example.com>", "bob@example.com"},
      {"< bob@example.com >", "bob@example.com"},
      {"Bob <bob@example.com> (not <eve@example.com>)", "bob@example.com"},
      // An unquoted '@' in the display name is common; the brackets decide.
      {"bob@example.com <alice@example.org>", "alice@example.org"},
      {"J\xc3\xb6rg <joerg@example.com>", "joerg@example.com"},  // UTF-8 name is fine
      {"bob@example.com (Bob)", "bob@example.com"},
      {"  bob@example.com  ", "bob@example.com"},
      {"\"odd name\"@example.com", "\"odd name\"@example.com"},
      {"\"a\\\"b\"@example.com", "\"a\\\"b\"@example.com"},
      {"user@[192.0.2.1]", "user@[192.0.2.1]"},
      {"user@[IPv6:2001:db8::1]", "user@[IPv6:2001:db8::1]"},
      {"user+tag@sub.example.co.uk", "user+tag@sub.example.co.uk"},
      {"Mixed.Case@Example.COM", "Mixed.Case@Example.COM"},  // not lower-cased
      {"bob@xn--exmple-cua.com", "bob@xn--exmple-cua.com"},  // IDN already in punycode
      {"a@b", "a@b"},
      {std::string(64, 'l') + "@example.com", std::string(64, 'l') + "@example.com"},
  };
  for (const Good& g : table) {
    Result<std::string> r = ParseMailbox(g.text);
    ASSERT_TRUE(r.ok()) << g.text << ": " << r.status().ToString();
    EXPECT_EQ(*r, g.addr) << g.text;
  }
}

struct Bad {
  std::string text;
  std::string why;  // a substring of the message
};

TEST(ParseMailbox, RejectsAnythingElseSayingWhy) {
  const std::string long_label(64, 'd');
  std::string long_name;  // valid labels, 259 bytes in all
  for (int i = 0; i < 4; ++i) long_name += std::string(63, 'd') + ".";
  const std::vector<Bad> table = {
      {"", "empty"},
      {"   ", "empty"},
      {"bob", "'bob' is not an address: no domain"},
      {"@example.com", "no local part"},
      {"bob@", "no domain"},
      {"<>", "null address"},
      {"a@b@c", "unexpected text around 'a@b'"},
      {"a@example.com, b@example.com", "names 2 addresses; give one"},
      {"group: a@example.com;", "is a group"},
      {"bob@exa mple.com", "unexpected text after 'bob@exa'"},
      {"Bob <bob@example.com> trailing", "unexpected text"},
      {"bob @ example.com", "unexpected text"},
      {"bob@example.com.", "unexpected text"},
      {"bob@example.com;", "unexpected text"},
      {"<bob@example.com", "unbalanced"},
      {"bob@example.com>", "unbalanced"},
      {"<<bob@example.com>>", "unbalanced"},
      {"aple.com>e", "unbalanced '<' '>'"},
      {"<a@example.com> <b@example.com>", "unexpected text after 'a@example.com'"},
      {"r@[192.0.2.1] (", "unbalanced '(' ')'"},
      {"bob@example.com (a))", "unbalanced '(' ')'"},
      {"\"bob@example.com", "unterminated quoted string"},
      {"bob@-bad-.com", "not a host name"},
      {"bob@bad-.com", "not a host name"},
      {"bob@ex_ample.com", "not a host name"},
      {"bob@" + long_label + ".com", "not a host name"},
      {"bob@[]", "not"},
      {"b\xc3\xb3"
       "b@example.com",
       "non-ASCII"},
      {"bob@ex\xc3\xa4mple.com", "non-ASCII"},
      {"bob@example.com\r\nRCPT TO:<x@y>", "line break"},
      {"bob@example.com\n", "line break"},
      {"bob@exam\x01ple.com", "control character"},
      {"\"\"@example.com", "local part"},
      {"\"a<b\"@example.com", "local part"},
      {std::string(65, 'l') + "@example.com", "local part longer than 64"},
      {"bob@" + long_name + "com", "domain longer than 255"},
      {std::string(5000, 'a'), "longer than 4096"},
  };
  for (const Bad& b : table) {
    Result<std::string> r = ParseMailbox(b.text);
    ASSERT_FALSE(r.ok()) << b.text << " gave " << *r;
    const Status s = r.status();
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << b.text;
    EXPECT_NE(s.message().find(b.why), std::string::npos) << b.text << ": " << s.message();
    // The message is one printable line, whatever the input held.
    for (char c : s.message()) EXPECT_FALSE(c == '\r' || c == '\n') << b.text;
  }
}

TEST(ParseMailbox, DomainLengthLimitIsExact) {
  std::string domain;
  while (domain.size() < 255)
    domain += std::string(std::min<size_t>(63, 254 - domain.size()), 'd') + ".";
  domain.pop_back();
  domain += "x";
  ASSERT_EQ(domain.size(), 255u);
  EXPECT_TRUE(ParseMailbox("a@" + domain).ok()) << ParseMailbox("a@" + domain).status().ToString();
  EXPECT_FALSE(ParseMailbox("a@" + domain + "x").ok());
}

// --- BuildAsAttachment --------------------------------------------------

struct ParsedBack {
  GRef<GMimeStream> stream;
  GRef<GMimeMessage> msg;
};

ParsedBack Parse(const std::string& raw) {
  ParsedBack p;
  ParserOptions();  // g_mime_init
  p.stream.reset(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  GRef<GMimeParser> parser(g_mime_parser_new_with_stream(p.stream.get()));
  p.msg.reset(g_mime_parser_construct_message(parser.get(), nullptr));
  return p;
}

// The bytes of the last part of the top multipart of `raw`, between its
// header block and the closing delimiter (whose CRLF is not content).
std::string LastPartContent(const std::string& raw, const std::string& boundary) {
  const std::string delimiter = "\r\n--" + boundary;
  size_t last = raw.rfind(delimiter + "\r\n");
  size_t close = raw.rfind(delimiter + "--");
  if (last == std::string::npos || close == std::string::npos || close < last) return "<none>";
  size_t body = raw.find("\r\n\r\n", last + delimiter.size());
  if (body == std::string::npos || body > close) return "<none>";
  return raw.substr(body + 4, close - body - 4);
}

std::string ToCrlf(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

Wrapper TestWrapper() {
  Wrapper w;
  w.from = "Mail gateway <postmaster@gw.example>";
  w.to = {"alice@example.com", "Bob.Smith@example.org"};
  w.subject = "Quarant\xc3\xa4ne: Rechnung \xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8";
  w.text = "The attached message was held.\nReason: suspicious attachment (f\xc3\xbcr dich).\n";
  w.id_domain = "gw.example";
  w.date = 1700000000;  // 2023-11-14 22:13:20 UTC
  return w;
}

const std::string kCrlfOriginal =
    "From: Eve <eve@example.net>\r\n"
    "To: alice@example.com\r\n"
    "Subject: Invoice\r\n"
    "Message-ID: <orig-1@example.net>\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Please pay.\r\n"
    "--=-not-our-boundary\r\n"
    "From the desk of Eve\r\n"
    ".\r\n"
    "  trailing spaces  \r\n";

TEST(BuildAsAttachment, StructureAndHeaders) {
  const Wrapper w = TestWrapper();
  Result<std::string> out = BuildAsAttachment(w, kCrlfOriginal);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ParsedBack p = Parse(*out);
  ASSERT_TRUE(p.msg);
  GMimeMessage* msg = p.msg.get();

  // Headers.
  EXPECT_STREQ(g_mime_message_get_subject(msg), w.subject.c_str());
  GDateTime* date = g_mime_message_get_date(msg);
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(g_date_time_to_unix(date), w.date);
  std::string id(View(g_mime_message_get_message_id(msg)));
  EXPECT_GT(id.size(), std::string("@gw.example").size());
  EXPECT_EQ(id.substr(id.size() - 11), "@gw.example");
  InternetAddressList* to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
  ASSERT_EQ(internet_address_list_length(to), 2);
  for (int i = 0; i < 2; ++i) {
    auto* mb = INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(to, i));
    EXPECT_EQ(View(internet_address_mailbox_get_addr(mb)), w.to[static_cast<size_t>(i)]);
  }
  InternetAddressList* from = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_FROM);
  ASSERT_EQ(internet_address_list_length(from), 1);
  InternetAddress* sender = internet_address_list_get_address(from, 0);
  EXPECT_EQ(View(internet_address_get_name(sender)), "Mail gateway");
  EXPECT_EQ(View(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(sender))),
            "postmaster@gw.example");
  EXPECT_NE(out->find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);

  // The raw Subject is encoded (headers stay ASCII).
  const size_t header_end = out->find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  for (char c : out->substr(0, header_end)) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  EXPECT_NE(out->substr(0, header_end).find("=?"), std::string::npos);

  // Body: multipart/mixed with the text, then the original.
  GMimeObject* top = g_mime_message_get_mime_part(msg);
  ASSERT_TRUE(GMIME_IS_MULTIPART(top));
  EXPECT_TRUE(
      g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart", "mixed"));
  auto* mixed = GMIME_MULTIPART(top);
  ASSERT_EQ(g_mime_multipart_get_count(mixed), 2);

  GMimeObject* text = g_mime_multipart_get_part(mixed, 0);
  ASSERT_TRUE(GMIME_IS_TEXT_PART(text));
  EXPECT_TRUE(g_mime_content_type_is_type(g_mime_object_get_content_type(text), "text", "plain"));
  EXPECT_EQ(View(g_mime_object_get_content_type_parameter(text, "charset")), "utf-8");
  GChars decoded(g_mime_text_part_get_text(GMIME_TEXT_PART(text)));
  EXPECT_EQ(View(decoded.get()), ToCrlf(w.text));

  GMimeObject* attached = g_mime_multipart_get_part(mixed, 1);
  EXPECT_TRUE(
      g_mime_content_type_is_type(g_mime_object_get_content_type(attached), "message", "rfc822"));
  EXPECT_EQ(View(g_mime_object_get_disposition(attached)), "attachment");
  EXPECT_EQ(View(g_mime_object_get_content_disposition_parameter(attached, "filename")),
            "original.eml");
  ASSERT_TRUE(GMIME_IS_MESSAGE_PART(attached));
  GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(attached));
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(View(g_mime_message_get_subject(inner)), "Invoice");
  EXPECT_EQ(View(g_mime_message_get_message_id(inner)), "orig-1@example.net");

  // Byte for byte, and declared 7bit.
  std::string boundary(View(g_mime_multipart_get_boundary(mixed)));
  EXPECT_EQ(LastPartContent(*out, boundary), kCrlfOriginal);
  EXPECT_NE(out->find("Content-Transfer-Encoding: 7bit\r\nContent-Disposition: attachment"),
            std::string::npos)
      << *out;
}

TEST(BuildAsAttachment, WholeOutputIsCrlf) {
  for (const std::string& original :
       {kCrlfOriginal, std::string("Subject: lf\n\nline\nline\n"), std::string("A: b")}) {
    Result<std::string> out = BuildAsAttachment(TestWrapper(), original);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    for (size_t i = 0; i < out->size(); ++i) {
      if ((*out)[i] == '\n') {
        ASSERT_TRUE(i > 0 && (*out)[i - 1] == '\r') << "at " << i;
      }
    }
  }
}

std::string AttachedBytes(const std::string& out) {
  ParsedBack p = Parse(out);
  if (!p.msg) return "<unparsable>";
  GMimeObject* top = g_mime_message_get_mime_part(p.msg.get());
  if (!GMIME_IS_MULTIPART(top)) return "<not multipart>";
  return LastPartContent(out,
                         std::string(View(g_mime_multipart_get_boundary(GMIME_MULTIPART(top)))));
}

TEST(BuildAsAttachment, OriginalBytesSurviveWhateverTheyAre) {
  // Each original with the transfer encoding it must be declared with.
  struct Case {
    std::string original;
    std::string encoding;
  };
  std::string big;  // many GMime read chunks, CRs at chunk edges somewhere
  for (int i = 0; big.size() < 300 * 1024; ++i) big += "Line " + std::to_string(i) + " of text\r\n";
  const std::vector<Case> cases = {
      {kCrlfOriginal, "7bit"},
      {"Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n", "8bit"},
      {"Subject: x\r\n\r\n" + std::string(998, 'a') + "\r\n", "7bit"},
      {"Subject: x\r\n\r\n" + std::string(999, 'a') + "\r\n", "binary"},
      {"Subject: x\r\n\r\nnul\0byte\r\n"s, "binary"},
      {"Subject: x\r\n\r\nbinary keeps\nbare LF\0\r\n"s, "binary"},
      {"Subject: bare\rCR\r\n\r\nx\ry\r\n", "7bit"},
      {"Subject: no final newline\r\n\r\nend", "7bit"},
      {"no headers at all", "7bit"},
      {"Subject: big\r\n\r\n" + big, "7bit"},
  };
  for (const Case& c : cases) {
    Result<std::string> out = BuildAsAttachment(TestWrapper(), c.original);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(AttachedBytes(*out), c.original) << c.original.substr(0, 40);
    EXPECT_NE(out->find("message/rfc822\r\nContent-Transfer-Encoding: " + c.encoding + "\r\n"),
              std::string::npos)
        << c.encoding << " for " << c.original.substr(0, 40);
  }
}

TEST(BuildAsAttachment, BareLfOriginalBecomesCrlf) {
  // The SMTP stage sends CRLF anyway; the output is consistently CRLF.
  const std::string original = "Subject: lf\n\nline one\nline two\n";
  Result<std::string> out = BuildAsAttachment(TestWrapper(), original);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(AttachedBytes(*out), ToCrlf(original));
}

TEST(BuildAsAttachment, AsciiTextStaysReadable) {
  Wrapper w = TestWrapper();
  w.subject = "Held message";
  w.text = "Plain ASCII explanation.";
  Result<std::string> out = BuildAsAttachment(w, kCrlfOriginal);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(out->find("\r\nSubject: Held message\r\n"), std::string::npos);
  EXPECT_NE(out->find("Plain ASCII explanation."), std::string::npos);
}

TEST(BuildAsAttachment, NonAsciiTextIsQuotedPrintableWithCrlf) {
  Wrapper w = TestWrapper();
  w.text =
      "\xe8\xab\x8b\xe6\xb1\x82\xe6\x9b\xb8\n\xe8\xab\x8b\xe6\xb1\x82\n" + std::string(1200, 'x');
  Result<std::string> out = BuildAsAttachment(w, kCrlfOriginal);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_NE(out->find("charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"),
            std::string::npos);
  ParsedBack p = Parse(*out);
  ASSERT_TRUE(p.msg);
  GMimeObject* text =
      g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(p.msg.get())), 0);
  ASSERT_TRUE(GMIME_IS_TEXT_PART(text));
  GChars decoded(g_mime_text_part_get_text(GMIME_TEXT_PART(text)));
  EXPECT_EQ(View(decoded.get()), ToCrlf(w.text));
}

TEST(BuildAsAttachment, RejectsBadInput) {
  auto code = [](const Wrapper& w, std::string_view original) {
    return BuildAsAttachment(w, original).status().code();
  };
  EXPECT_EQ(code(TestWrapper(), ""), Code::kInvalidArgument);
  Wrapper w = TestWrapper();
  w.to.clear();
  EXPECT_EQ(code(w, kCrlfOriginal), Code::kInvalidArgument);
  w = TestWrapper();
  w.to.push_back("not an address");
  Status s = BuildAsAttachment(w, kCrlfOriginal).status();
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("to: ", 0), 0u) << s.message();
  w = TestWrapper();
  w.from = "gateway";
  EXPECT_EQ(code(w, kCrlfOriginal), Code::kInvalidArgument);
  w = TestWrapper();
  w.subject = "hi\r\nBcc: victim@example.com";
  EXPECT_EQ(code(w, kCrlfOriginal), Code::kInvalidArgument);
  w = TestWrapper();
  w.subject = "\xff";
  EXPECT_EQ(code(w, kCrlfOriginal), Code::kInvalidArgument);
  w = TestWrapper();
  w.text = "\xc3";
  EXPECT_EQ(code(w, kCrlfOriginal), Code::kInvalidArgument);
  for (const char* domain : {"", "gw example", "[192.0.2.1]", "-gw.example"}) {
    w = TestWrapper();
    w.id_domain = domain;
    EXPECT_EQ(code(w, kCrlfOriginal), Code::kInvalidArgument) << domain;
  }
}

TEST(BuildAsAttachment, MessageIdsDiffer) {
  Result<std::string> a = BuildAsAttachment(TestWrapper(), kCrlfOriginal);
  Result<std::string> b = BuildAsAttachment(TestWrapper(), kCrlfOriginal);
  ASSERT_TRUE(a.ok() && b.ok());
  ParsedBack pa = Parse(*a), pb = Parse(*b);
  EXPECT_STRNE(g_mime_message_get_message_id(pa.msg.get()),
               g_mime_message_get_message_id(pb.msg.get()));
}

TEST(Compose, ThreadSafe) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Result<std::string> out = BuildAsAttachment(TestWrapper(), kCrlfOriginal);
        if (!out.ok() || AttachedBytes(*out) != kCrlfOriginal) ++failures;
        if (!ParseMailbox("Bob <bob@example.com>").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace mailvault::mime
