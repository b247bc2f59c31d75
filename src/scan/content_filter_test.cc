// Tests of ContentFilterEngine (and the libmagic/libarchive helpers under
// it): banned formats found by content whatever the name, banned names on
// parts and inside archives built here with libarchive's writer, size cap,
// label priority, part indexes usable by mime::RemoveParts, and robustness
// on empty, garbage and unreadable input.
#include "scan/content_filter.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

#include "mime/parts.h"
#include "testutil/base64.h"

namespace mailvault::scan {
namespace {

std::string Base64(std::string_view in) { return Base64Lines(in); }

// An MS-DOS "MZ" header libmagic 5.44 calls application/x-dosexec
// (`file --mime-type`), padded with zeros.
std::string DosExe() {
  std::string b("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00", 16);
  return b + std::string(200, '\0');
}

// A PE32 header (MZ stub pointing at "PE\0\0"): libmagic 5.44 says
// application/vnd.microsoft.portable-executable.
std::string PeExe() {
  std::string b(256, '\0');
  auto put16 = [&](size_t at, uint16_t v) {
    b[at] = static_cast<char>(v & 0xff);
    b[at + 1] = static_cast<char>(v >> 8);
  };
  b[0] = 'M', b[1] = 'Z';
  put16(0x3c, 0x80);
  std::memcpy(&b[0x80], "PE\0\0", 4);
  put16(0x84, 0x14c), put16(0x86, 1), put16(0x94, 0xe0), put16(0x96, 0x102), put16(0x98, 0x10b);
  return b;
}

struct File {
  std::string name;
  std::string data;
};

// An archive of `files` built with libarchive's writer.
std::string Archive(const std::vector<File>& files, int (*format)(struct archive*),
                    int (*filter)(struct archive*) = nullptr, const char* passphrase = nullptr) {
  std::string buf(1 << 20, '\0');
  size_t used = 0;
  struct archive* a = archive_write_new();
  EXPECT_EQ(format(a), ARCHIVE_OK);
  if (filter != nullptr) {
    EXPECT_EQ(filter(a), ARCHIVE_OK);
  }
  if (passphrase != nullptr) {
    EXPECT_EQ(archive_write_set_options(a, "zip:encryption=zipcrypt"), ARCHIVE_OK)
        << archive_error_string(a);
    EXPECT_EQ(archive_write_set_passphrase(a, passphrase), ARCHIVE_OK);
  }
  EXPECT_EQ(archive_write_open_memory(a, buf.data(), buf.size(), &used), ARCHIVE_OK);
  for (const File& f : files) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, f.name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(f.data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    EXPECT_EQ(archive_write_data(a, f.data.data(), f.data.size()),
              static_cast<la_ssize_t>(f.data.size()));
    archive_entry_free(e);
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

uint32_t Crc32(std::string_view s) {
  uint32_t c = 0xffffffff;
  for (char ch : s) {
    c ^= static_cast<uint8_t>(ch);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320 & (0 - (c & 1)));
  }
  return ~c;
}

// A gzip file (one stored deflate block) with an original name in its header.
std::string Gzip(std::string_view name, std::string_view data) {
  std::string g("\x1f\x8b\x08\x08\0\0\0\0\0\x03", 10);
  g += name;
  g += '\0';
  g += '\x01';  // final stored block
  auto put = [&](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) g += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(static_cast<uint32_t>(data.size()), 2);
  put(static_cast<uint32_t>(~data.size()) & 0xffff, 2);
  g += data;
  put(Crc32(data), 4);
  put(static_cast<uint32_t>(data.size()), 4);
  return g;
}

struct Attach {
  std::string filename;
  std::string type;
  std::string data;
};

// multipart/mixed: a text part [1], then the attachments [2], [3], ...
std::string Mail(const std::vector<Attach>& attachments) {
  std::string m =
      "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"
      "--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease see attached.\r\n";
  for (const Attach& a : attachments) {
    m += "--=_b\r\nContent-Type: " + a.type + "; name=\"" + a.filename +
         "\"\r\nContent-Disposition: attachment; filename=\"" + a.filename +
         "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + Base64(a.data);
  }
  return m + "--=_b--\r\n";
}

ContentOptions Options() {
  ContentOptions o;
  o.banned_names = {"*.exe", "*.SCR", "*.js"};
  o.banned_formats = {"application/x-dosexec", "application/vnd.microsoft.portable-executable"};
  return o;
}

std::unique_ptr<ContentFilterEngine> Engine(const ContentOptions& o = Options()) {
  auto e = ContentFilterEngine::Make(o);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

Verdict ScanBytes(ContentFilterEngine& engine, const ByteSource& raw) {
  Envelope env;
  env.mail_from = "alice@example.com";
  auto verdicts = engine.Scan(Message{raw, env});
  EXPECT_EQ(verdicts.size(), 1u);
  EXPECT_EQ(verdicts.at(0).engine, "content-filtering");
  return verdicts.at(0);
}

Verdict ScanMail(ContentFilterEngine& engine, const std::string& raw) {
  return ScanBytes(engine, StringSource(raw));
}

TEST(ContentFilter, MakeValidatesPatterns) {
  auto bad = [](std::vector<std::string> names, std::vector<std::string> formats) {
    ContentOptions o;
    o.banned_names = std::move(names);
    o.banned_formats = std::move(formats);
    return ContentFilterEngine::Make(o).status().code();
  };
  EXPECT_EQ(bad({""}, {}), Code::kInvalidArgument);
  EXPECT_EQ(bad({"  "}, {}), Code::kInvalidArgument);
  EXPECT_EQ(bad({"dir/*.exe"}, {}), Code::kInvalidArgument);
  EXPECT_EQ(bad({"a\nb"}, {}), Code::kInvalidArgument);
  EXPECT_EQ(bad({}, {"exe"}), Code::kInvalidArgument);
  EXPECT_EQ(bad({}, {"application/"}), Code::kInvalidArgument);
  EXPECT_EQ(bad({}, {"/zip"}), Code::kInvalidArgument);
  EXPECT_EQ(bad({}, {"application/x zip"}), Code::kInvalidArgument);
  EXPECT_EQ(bad({" *.EXE ", "[ab]*.scr"}, {" Application/X-DOSEXEC", "video/*"}), Code::kOk);
  auto e = Engine();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name(), "content");
  EXPECT_EQ(e->covers(), std::vector<std::string>{"content-filtering"});
}

TEST(ContentFilter, CleanMessage) {
  auto e = Engine();
  Verdict v = ScanMail(*e, Mail({{"report.pdf", "application/pdf", "%PDF-1.4\n%...\n"},
                                 {"notes.txt", "text/plain", "just text\n"}}));
  EXPECT_EQ(v.label, "");
  EXPECT_TRUE(v.clean());
  EXPECT_TRUE(v.parts.empty());
  EXPECT_TRUE(v.details.empty()) << v.details.begin()->first;
  EXPECT_FALSE(v.whitelisted);
}

TEST(ContentFilter, ExecutableRenamedTxtIsCaughtByFormat) {
  auto e = Engine();
  Verdict v = ScanMail(*e, Mail({{"invoice.txt", "text/plain", DosExe()}}));
  EXPECT_EQ(v.label, "banned-file-format");
  EXPECT_EQ(v.parts, std::vector<int>{2});
  EXPECT_EQ(v.details["formats"], "application/x-dosexec (invoice.txt)");
  EXPECT_EQ(v.details.count("names"), 0u);
  EXPECT_NE(v.detail.find("application/x-dosexec"), std::string::npos);

  v = ScanMail(*e, Mail({{"a.txt", "text/plain", "hello"}, {"b.jpg", "image/jpeg", PeExe()}}));
  EXPECT_EQ(v.label, "banned-file-format");
  EXPECT_EQ(v.parts, std::vector<int>{3});
  EXPECT_EQ(v.details["formats"], "application/vnd.microsoft.portable-executable (b.jpg)");
}

// The shipped defaults (DefaultBannedFormats, the list conf/mailvault.toml
// spells out) against real programs of this machine and of the ClamAV test
// files, each attached under an innocent name. What libmagic calls each is
// in the comment; a file that is not installed is skipped, saying so.
std::string ReadFileOrEmpty(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return {};
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

TEST(ContentFilter, TheMessageTextIsNotIdentifiedAnAttachmentIs) {
  // A batch file is a text format: identifying it needs libmagic's text
  // tests, which would otherwise run over every message's own text. The
  // body is shown as text and never run; the same bytes with a file name are.
  ContentOptions o = Options();
  o.banned_formats = {"text/x-msdos-batch"};
  auto e = Engine(o);
  const std::string batch = "@echo off\r\ndel /q C:\\*\r\n";
  const std::string inline_text =
      "From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain\r\n\r\n" +
      batch;
  EXPECT_TRUE(ScanMail(*e, inline_text).clean());
  Verdict v = ScanMail(*e, Mail({{"readme.txt", "text/plain", batch}}));
  EXPECT_EQ(v.label, "banned-file-format");
  EXPECT_EQ(v.parts, std::vector<int>{2});
}

TEST(ContentFilter, ShippedDefaultsStopRealProgramsUnderInnocentNames) {
  ContentOptions o;  // built-in defaults
  ASSERT_EQ(o.banned_formats, DefaultBannedFormats());
  auto e = Engine(o);
  struct Case {
    const char* path;
    const char* innocent_name;
    const char* type;  // what libmagic 5.44 calls it
  } cases[] = {
      // `file` says x-pie-executable of the whole file; of the first 64 KiB
      // (what the filter reads) the PIE flag is out of sight: x-sharedlib.
      // Both are banned.
      {"/bin/ls", "tool.txt", "application/x-sharedlib"},
      {"/lib/x86_64-linux-gnu/libc.so.6", "report.pdf", "application/x-sharedlib"},
      {"/usr/lib/x86_64-linux-gnu/crt1.o", "notes.txt", "application/x-object"},
      {"/usr/share/clamav-testfiles/clam.exe", "invoice.pdf",
       "application/vnd.microsoft.portable-executable"},
      {"/usr/share/clamav-testfiles/clam_ISmsi_ext.exe", "setup.txt",
       "application/vnd.microsoft.portable-executable"},
      {"/usr/share/clamav-testfiles/clam.chm", "manual.pdf", "application/vnd.ms-htmlhelp"},
  };
  for (const char* t : {"application/x-pie-executable", "application/x-sharedlib"}) {
    EXPECT_NE(std::find(o.banned_formats.begin(), o.banned_formats.end(), t),
              o.banned_formats.end())
        << t;
  }
  int ran = 0;
  for (const Case& c : cases) {
    std::string data = ReadFileOrEmpty(c.path);
    if (data.empty()) {
      std::printf("skipped: %s is not installed here\n", c.path);
      continue;
    }
    ++ran;
    Verdict v = ScanMail(*e, Mail({{c.innocent_name, "text/plain", data}}));
    EXPECT_EQ(v.label, "banned-file-format") << c.path << " as " << c.innocent_name;
    EXPECT_EQ(v.details["formats"], std::string(c.type) + " (" + c.innocent_name + ")") << c.path;
  }
  if (ran == 0) GTEST_SKIP() << "none of the sample programs is installed";
}

// Formats with no sample file on a Debian machine, built here from their
// documented headers: what `file --mime-type` says of each is the comment.
std::string ElfHeader(uint16_t type) {  // 64-bit little-endian x86-64
  std::string b(512, '\0');
  std::memcpy(&b[0],
              "\x7f"
              "ELF\x02\x01\x01",
              7);
  b[16] = static_cast<char>(type);
  b[18] = 0x3e;  // EM_X86_64
  b[20] = 1;     // EV_CURRENT
  b[52] = 64;    // e_ehsize
  return b;
}

TEST(ContentFilter, ShippedDefaultsStopBuiltSamplesOfOtherFormats) {
  ContentOptions o;
  auto e = Engine(o);
  std::string macho(512, '\0');  // MH_MAGIC_64, CPU_TYPE_X86_64, MH_EXECUTE
  std::memcpy(&macho[0], "\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00", 16);
  std::string lnk(256, '\0');  // header size 0x4C, LinkCLSID 00021401-...-46
  std::memcpy(&lnk[0], "\x4c\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00", 16);
  std::memcpy(&lnk[16], "\x00\x00\x00\x46\x9b\x00\x00\x00", 8);
  struct Case {
    std::string data;
    const char* type;
  } cases[] = {
      {ElfHeader(2), "application/x-executable"},  // ET_EXEC: a static program
      {macho, "application/x-mach-binary"},
      {lnk, "application/x-ms-shortcut"},
      {"@echo off\r\nstart calc.exe\r\n", "text/x-msdos-batch"},
      {"Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\X]\r\n",
       "text/x-ms-regedit"},
      {"#!/usr/bin/env node\nconsole.log(1)\n", "application/javascript"},
  };
  for (const Case& c : cases) {
    Verdict v = ScanMail(*e, Mail({{"readme.txt", "text/plain", c.data}}));
    EXPECT_EQ(v.label, "banned-file-format") << c.type;
    EXPECT_EQ(v.details["formats"], std::string(c.type) + " (readme.txt)");
  }
  // Unix scripts pass by default (see conf/mailvault.toml): listed nowhere
  // by name either.
  Verdict v = ScanMail(*e, Mail({{"build.txt", "text/plain", "#!/bin/sh\necho hi\n"}}));
  EXPECT_EQ(v.label, "") << v.detail;
}

// Every handle of the pool reads one in-memory copy of the compiled magic
// database: none maps the database file, so the resident size does not grow
// by the database's size with each handle the pool adds under load.
TEST(MagicPool, HandlesShareOneCopyOfTheDatabase) {
  auto pool = MagicPool::Open(true);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        Result<std::string> t = (*pool)->MimeType(PeExe());
        if (t.ok() && *t == "application/vnd.microsoft.portable-executable") ++ok;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
  std::string maps = ReadFileOrEmpty("/proc/self/maps");
  if (maps.empty()) GTEST_SKIP() << "no /proc/self/maps here";
  EXPECT_EQ(maps.find(".mgc"), std::string::npos) << "a handle maps the database file";
}

TEST(ContentFilter, BannedNames) {
  auto e = Engine();
  Verdict v = ScanMail(*e, Mail({{"ok.txt", "text/plain", "x"}, {"Setup.EXE", "text/plain", "x"}}));
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.parts, std::vector<int>{3});
  EXPECT_EQ(v.details["names"], "Setup.EXE");

  // Trailing dots and spaces, which Windows drops.
  v = ScanMail(*e, Mail({{"movie.scr. .", "text/plain", "x"}}));
  EXPECT_EQ(v.label, "banned-file-name");

  // A Content-Type name that disagrees with the disposition's filename.
  std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: application/octet-stream; name=\"run.js\"\r\n"
      "Content-Disposition: attachment; filename=\"photo.png\"\r\n\r\nx\r\n--b--\r\n";
  v = ScanMail(*e, raw);
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.details["names"], "run.js");
  EXPECT_EQ(v.parts, std::vector<int>{1});

  // "*.exe" is not "*.exe.txt"; names are not formats.
  v = ScanMail(*e, Mail({{"setup.exe.txt", "application/x-msdownload", "plain text"}}));
  EXPECT_EQ(v.label, "");
}

TEST(ContentFilter, FormatWinsOverNameAndBothAreReported) {
  auto e = Engine();
  Verdict v = ScanMail(*e, Mail({{"tool.exe", "application/octet-stream", "text only"},
                                 {"readme.txt", "text/plain", DosExe()}}));
  EXPECT_EQ(v.label, "banned-file-format");
  EXPECT_EQ(v.parts, (std::vector<int>{2, 3}));
  EXPECT_EQ(v.details["names"], "tool.exe");
  EXPECT_EQ(v.details["formats"], "application/x-dosexec (readme.txt)");
}

TEST(ContentFilter, ZipEntryNames) {
  auto e = Engine();
  std::string zip = Archive({{"docs/readme.txt", "hello"}, {"docs/evil.exe", "MZ"}},
                            archive_write_set_format_zip);
  // Named .dat and declared octet-stream: found as a zip by content.
  Verdict v = ScanMail(*e, Mail({{"data.dat", "application/octet-stream", zip}}));
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.parts, std::vector<int>{2});
  EXPECT_EQ(v.details["names"], "docs/evil.exe (in data.dat)");

  std::string clean = Archive({{"a.txt", "x"}, {"b.pdf", "y"}}, archive_write_set_format_zip);
  v = ScanMail(*e, Mail({{"files.zip", "application/zip", clean}}));
  EXPECT_EQ(v.label, "");
  EXPECT_TRUE(v.details.empty());
}

TEST(ContentFilter, OtherArchiveFormats) {
  auto e = Engine();
  std::string tgz = Archive({{"x/readme", "r"}, {"x/screen.scr", "s"}},
                            archive_write_set_format_ustar, archive_write_add_filter_gzip);
  Verdict v = ScanMail(*e, Mail({{"backup.tgz", "application/gzip", tgz}}));
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.details["names"], "x/screen.scr (in backup.tgz)");

  std::string sevenz = Archive({{"payload.js", "alert(1)"}}, archive_write_set_format_7zip);
  v = ScanMail(*e, Mail({{"pics.7z", "application/x-7z-compressed", sevenz}}));
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.details["names"], "payload.js (in pics.7z)");

  // A bare gzip file: the original name from its header.
  v = ScanMail(*e, Mail({{"invoice.gz", "application/gzip", Gzip("invoice.exe", "MZ..")}}));
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.details["names"], "invoice.exe (in invoice.gz)");
}

TEST(ContentFilter, EncryptedEntriesAreNotedNotLabelled) {
  auto e = Engine();
  std::string zip =
      Archive({{"secret.doc", "confidential"}}, archive_write_set_format_zip, nullptr, "pw");
  Verdict v = ScanMail(*e, Mail({{"secret.zip", "application/zip", zip}}));
  EXPECT_EQ(v.label, "");
  EXPECT_EQ(v.details["encrypted"], "secret.doc (in secret.zip)");

  std::string bad = Archive({{"evil.exe", "MZ"}}, archive_write_set_format_zip, nullptr, "pw");
  v = ScanMail(*e, Mail({{"secret.zip", "application/zip", bad}}));
  EXPECT_EQ(v.label, "banned-file-name");  // names of encrypted entries are readable
  EXPECT_EQ(v.details["encrypted"], "evil.exe (in secret.zip)");
}

TEST(ContentFilter, ArchiveSizeCap) {
  ContentOptions o = Options();
  std::string zip = Archive({{"evil.exe", std::string(5000, 'x')}}, archive_write_set_format_zip);
  o.max_archive_size = zip.size() - 1;
  auto e = Engine(o);
  Verdict v = ScanMail(*e, Mail({{"big.zip", "application/zip", zip}}));
  EXPECT_EQ(v.label, "");
  EXPECT_EQ(v.details["archives_not_opened"], "big.zip");
  o.max_archive_size = zip.size();
  v = ScanMail(*Engine(o), Mail({{"big.zip", "application/zip", zip}}));
  EXPECT_EQ(v.label, "banned-file-name");
  o.max_archive_size = 0;  // never opened
  v = ScanMail(*Engine(o), Mail({{"big.zip", "application/zip", zip}}));
  EXPECT_EQ(v.label, "");
  EXPECT_EQ(v.details["archives_not_opened"], "big.zip");
}

TEST(ContentFilter, TruncatedArchiveListsWhatItCanAndIsNoted) {
  auto e = Engine();
  std::string zip =
      Archive({{"a.txt", std::string(3000, 'a')}, {"b.exe", "MZ"}}, archive_write_set_format_zip);
  zip.resize(zip.size() / 2);  // the central directory is gone, local headers stay
  Verdict v = ScanMail(*e, Mail({{"cut.zip", "application/zip", zip}}));
  EXPECT_EQ(v.label, "banned-file-name");
  EXPECT_EQ(v.details["names"], "b.exe (in cut.zip)");
  EXPECT_TRUE(v.error.empty());
  EXPECT_EQ(v.details["problems"].rfind("cut.zip: cannot read archive", 0), 0u)
      << v.details["problems"];
}

TEST(ListArchive, LimitsAndEdgeCases) {
  std::vector<File> many;
  for (int i = 0; i < 10; ++i) many.push_back({"f" + std::to_string(i) + ".txt", "x"});
  ArchiveListing l = ListArchive(Archive(many, archive_write_set_format_zip), 3);
  EXPECT_TRUE(l.truncated);
  EXPECT_EQ(l.entries.size(), 3u);

  // A big entry before the interesting one: decompressing stops at the cap.
  std::string tgz = Archive({{"zeros", std::string(3 << 20, '\0')}, {"evil.exe", "MZ"}},
                            archive_write_set_format_ustar, archive_write_add_filter_gzip);
  l = ListArchive(tgz, 100, 1 << 20);
  EXPECT_TRUE(l.truncated);
  ASSERT_EQ(l.entries.size(), 1u);
  EXPECT_EQ(l.entries[0].name, "zeros");
  l = ListArchive(tgz, 100, 8 << 20);
  EXPECT_FALSE(l.truncated);
  EXPECT_EQ(l.entries.size(), 2u);

  // Directories are not entries.
  struct archive* a = archive_write_new();
  std::string buf(1 << 16, '\0');
  size_t used = 0;
  archive_write_set_format_ustar(a);
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  struct archive_entry* d = archive_entry_new();
  archive_entry_set_pathname(d, "dir/");
  archive_entry_set_filetype(d, AE_IFDIR);
  archive_entry_set_perm(d, 0755);
  EXPECT_EQ(archive_write_header(a, d), ARCHIVE_OK);
  archive_entry_free(d);
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  l = ListArchive(buf);
  EXPECT_TRUE(l.entries.empty());
  EXPECT_TRUE(l.error.empty()) << l.error;

  l = ListArchive("definitely not an archive");
  EXPECT_TRUE(l.entries.empty());
  EXPECT_FALSE(l.error.empty());
  l = ListArchive("");
  EXPECT_TRUE(l.entries.empty());

  EXPECT_TRUE(IsArchiveType("application/zip"));
  EXPECT_TRUE(IsArchiveType("application/x-7z-compressed"));
  EXPECT_FALSE(IsArchiveType("application/pdf"));
  EXPECT_FALSE(
      IsArchiveType("application/vnd.openxmlformats-officedocument.wordprocessingml.document"));
}

TEST(ContentFilter, SizeExceeded) {
  ContentOptions o = Options();
  std::string raw = Mail({{"Setup.exe", "text/plain", DosExe()}});
  o.max_message_size = raw.size() - 1;
  Verdict v = ScanMail(*Engine(o), raw);
  EXPECT_EQ(v.label, "size-exceeded");
  EXPECT_EQ(v.details["size"], std::to_string(raw.size()));
  EXPECT_TRUE(v.parts.empty());
  o.max_message_size = raw.size();
  EXPECT_EQ(ScanMail(*Engine(o), raw).label, "banned-file-format");
}

TEST(ContentFilter, EmptyGarbageAndHeaderlessInput) {
  auto e = Engine();
  Verdict v = ScanMail(*e, "");
  EXPECT_EQ(v.label, "");
  std::string garbage(20000, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919) >> 3);
  v = ScanMail(*e, garbage);
  EXPECT_TRUE(v.label.empty()) << v.label;
  // An executable sent as the bare message: one part, index 0.
  v = ScanMail(*e, DosExe());
  EXPECT_EQ(v.label, "banned-file-format");
  EXPECT_EQ(v.parts, std::vector<int>{0});
  // A broken multipart still has its attachment scanned.
  v = ScanMail(*e,
               "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
               "Content-Disposition: attachment; filename=a.exe\r\n\r\nMZ");
  EXPECT_EQ(v.label, "banned-file-name");
}

TEST(ContentFilter, FindsPartsInsideAttachedMessagesAndRemovePartsTakesThem) {
  auto e = Engine();
  std::string zip = Archive({{"evil.exe", "MZ"}}, archive_write_set_format_zip);
  std::string raw =
      "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
      "--o\r\nContent-Type: text/plain\r\n\r\nfyi\r\n"
      "--o\r\nContent-Type: message/rfc822\r\n\r\n" +
      Mail({{"files.zip", "application/zip", zip}}) + "--o--\r\n";
  Verdict v = ScanMail(*e, raw);
  EXPECT_EQ(v.label, "banned-file-name");
  // 0 multipart, 1 text, 2 message, 3 inner multipart, 4 inner text, 5 zip:
  // the finding is in the zip, the attachment holding it is the attached
  // message (what the console lists and an action removes).
  ASSERT_EQ(v.parts, std::vector<int>{2});
  EXPECT_NE(v.details["names"].find("evil.exe (in files.zip)"), std::string::npos);
  auto rw = mime::RemoveParts(StringSource(raw), v.parts, "Removed: {filename}");
  ASSERT_TRUE(rw.ok()) << rw.status().ToString();
  std::string cleaned = raw.substr(0, raw.find("\r\n\r\n") + 4) + rw->body;
  EXPECT_EQ(ScanMail(*e, cleaned).label, "");
  EXPECT_NE(rw->body.find("Removed: message/rfc822"), std::string::npos);
  EXPECT_EQ(rw->body.find("files.zip"), std::string::npos);
}

class FailingSource : public ByteSource {
 public:
  explicit FailingSource(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t, size_t, std::string*) const override {
    return Status::IOError("spool unreadable");
  }

 private:
  std::string bytes_;
};

TEST(ContentFilter, UnreadableSourceIsNotScanned) {
  auto e = Engine();
  FailingSource source(Mail({{"a.exe", "text/plain", "x"}}));
  Verdict v = ScanBytes(*e, source);
  EXPECT_EQ(v.label, "not-scanned");
  EXPECT_NE(v.error.find("spool unreadable"), std::string::npos);
}

TEST(ContentFilter, ConcurrentScansAgree) {
  auto e = Engine();
  std::string bad = Mail(
      {{"x.txt", "text/plain", DosExe()},
       {"z.zip", "application/zip", Archive({{"evil.exe", "MZ"}}, archive_write_set_format_zip)}});
  std::string good = Mail({{"x.txt", "text/plain", "hello"}});
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        Verdict v = ScanMail(*e, (i + t) % 2 ? bad : good);
        bool ok =
            (i + t) % 2 ? v.label == "banned-file-format" && v.parts.size() == 2 : v.label.empty();
        if (!ok) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace mailvault::scan
