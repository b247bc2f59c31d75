// Options of the scanning engines, filled from the [engines.*] tables of the
// config file (src/config). Plain values; durations in microseconds, sizes
// in bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailvault::scan {

struct ClamdOptions {
  bool enabled = true;
  // "unix:/run/clamav/clamd.ctl" or "tcp:127.0.0.1:3310" (also
  // "tcp:[::1]:3310"); ParseClamdAddress (scan/clamd.h) is the parser.
  std::string address = "unix:/run/clamav/clamd.ctl";
  int64_t timeout_micros = 30'000'000;  // whole scan, connect to answer
  // clamd's StreamMaxLength: larger messages are sent only up to it and the
  // verdict of the prefix stands, with a detail saying so.
  uint64_t max_stream = 25'000'000;
};

struct RspamdOptions {
  bool enabled = true;
  std::string url = "http://127.0.0.1:11333";  // the normal worker; /checkv2 is appended
  std::string password;                        // sent as the Password header if set
  int64_t timeout_micros = 15'000'000;
  uint64_t max_size = 25'000'000;  // larger messages are not sent: not-scanned
  // Site URL list for Anti-Phishing: a message linking to a host on this list
  // (or a subdomain) is labelled malicious-link. Lower-case host names.
  std::vector<std::string> malicious_hosts;
};

// The file formats (libmagic MIME types, as `file --mime-type` names them)
// a gateway stops by content whatever the attachment is called: programs of
// every platform in every name libmagic gives them, installers, shortcuts,
// and the script and container formats the shipped banned_names stop by
// name. conf/mailvault.toml spells out the same list (config_test checks
// that they agree); content_filter_test runs real files through it.
inline std::vector<std::string> DefaultBannedFormats() {
  return {
      // Windows and DOS programs and libraries (EXE, DLL, SCR, CPL, SYS):
      // libmagic 5.44 says portable-executable for PE, older versions and
      // plain MZ files x-dosexec; some databases x-msdownload; 16-bit NE and
      // LX (OS/2, VxD) have names of their own.
      "application/vnd.microsoft.portable-executable",
      "application/x-dosexec",
      "application/x-msdownload",
      "application/x-ms-ne-executable",
      "application/x-lx-executable",
      // ELF: static programs, position-independent programs (/bin/ls),
      // shared objects (.so) and relocatable objects (.o, kernel modules).
      // A core dump (application/x-coredump) runs nothing and is not here.
      "application/x-executable",
      "application/x-pie-executable",
      "application/x-sharedlib",
      "application/x-object",
      // Mach-O (thin and universal).
      "application/x-mach-binary",
      // Windows Installer packages and patches (OLE compound files that
      // libmagic recognises as installers, by CLSID or creating application).
      "application/x-msi",
      "application/vnd.ms-msi",
      // Windows shortcuts (.lnk), which run any command line.
      "application/x-ms-shortcut",
      // What banned_names stops by name, by content: batch files (.bat,
      // .cmd), registry files (.reg), JavaScript (.js, recognised by its
      // shebang), compiled HTML help (.chm), Java archives (.jar) and ISO
      // images (.iso, .img). VBScript, PowerShell, HTA and WSF read as
      // plain text, HTML or XML to libmagic: only their names stop them.
      "text/x-msdos-batch",
      "text/x-ms-regedit",
      "application/javascript",
      "text/javascript",
      "application/vnd.ms-htmlhelp",
      "application/java-archive",
      "application/x-iso9660-image",
  };
}

struct ContentOptions {
  bool enabled = true;
  // Globs over attachment file names, case-insensitive ("*.exe"); also
  // applied to the names inside zip (and other) archives.
  std::vector<std::string> banned_names;
  // File formats by content (libmagic MIME type, "application/x-dosexec";
  // globs allowed), never by the declared type or the extension.
  std::vector<std::string> banned_formats = DefaultBannedFormats();
  uint64_t max_message_size = 0;           // 0: no limit; larger -> size-exceeded
  uint64_t max_archive_size = 50'000'000;  // archives larger are not opened
};

struct ListOptions {
  // Addresses ("user@example.com") and domains ("example.com", which also
  // covers its subdomains; "@example.com" only that domain), case-insensitive.
  std::vector<std::string> blacklist;
  std::vector<std::string> whitelist;  // white wins over black
};

struct EngineOptions {
  ClamdOptions clamd;
  RspamdOptions rspamd;
  ContentOptions content;
  ListOptions lists;
};

}  // namespace mailvault::scan
