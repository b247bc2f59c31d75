// The milter wire protocol (version 2 to 6, as Postfix and Sendmail speak
// it), as a pure codec: bytes in, typed commands out; typed replies in,
// bytes out. No I/O, no state beyond the bytes of a frame not yet complete.
//
// A frame is a 4-byte big-endian length N, then N bytes: a command byte and
// N-1 bytes of payload. N = 0 and N > kMaxFrame are protocol errors (the
// connection cannot be resynchronised after either). Every payload is
// checked against its command's layout (NUL-terminated strings, fixed-size
// integers); a payload that does not fit is InvalidArgument, never a crash
// or an out-of-bounds read. Strings are byte strings: what the MTA sent,
// unchanged (not UTF-8, may hold anything but NUL).
//
// Written from the protocol as Postfix src/milter/milter8.c and Sendmail's
// libmilter use it; constants keep libmilter's names (mfdef.h) for grep.
// Thread-compatible: a FrameDecoder belongs to one connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::intake::milter {

// Largest frame accepted (length field): a body chunk is at most 64 KiB
// (1 MiB with SMFIP_MDS_1M, which mailvault does not negotiate), a header
// at most Postfix's header_size_limit (100 KiB); the slack covers macros.
inline constexpr uint32_t kMaxFrame = (1u << 20) + 64 * 1024;
// Protocol versions: below kMinVersion is refused (as libmilter does);
// above kVersion is answered with kVersion.
inline constexpr uint32_t kMinVersion = 2;
inline constexpr uint32_t kVersion = 6;

// Actions the milter may take (SMFIF_*), negotiated in OPTNEG.
inline constexpr uint32_t SMFIF_ADDHDRS = 0x01, SMFIF_CHGBODY = 0x02, SMFIF_ADDRCPT = 0x04,
                          SMFIF_DELRCPT = 0x08, SMFIF_CHGHDRS = 0x10, SMFIF_QUARANTINE = 0x20,
                          SMFIF_CHGFROM = 0x40, SMFIF_ADDRCPT_PAR = 0x80, SMFIF_SETSYMLIST = 0x100;
// Protocol flags (SMFIP_*): stages not sent, stages not answered (NR),
// header values with their leading space.
inline constexpr uint32_t SMFIP_NOCONNECT = 0x1, SMFIP_NOHELO = 0x2, SMFIP_NOMAIL = 0x4,
                          SMFIP_NORCPT = 0x8, SMFIP_NOBODY = 0x10, SMFIP_NOHDRS = 0x20,
                          SMFIP_NOEOH = 0x40, SMFIP_NR_HDR = 0x80, SMFIP_NOUNKNOWN = 0x100,
                          SMFIP_NODATA = 0x200, SMFIP_SKIP = 0x400, SMFIP_RCPT_REJ = 0x800,
                          SMFIP_NR_CONN = 0x1000, SMFIP_NR_HELO = 0x2000, SMFIP_NR_MAIL = 0x4000,
                          SMFIP_NR_RCPT = 0x8000, SMFIP_NR_DATA = 0x10000, SMFIP_NR_UNKN = 0x20000,
                          SMFIP_NR_EOH = 0x40000, SMFIP_NR_BODY = 0x80000,
                          SMFIP_HDR_LEADSPC = 0x100000;

// Command bytes, MTA -> milter (SMFIC_*).
enum class Cmd : char {
  kAbort = 'A',
  kBody = 'B',
  kConnect = 'C',
  kMacro = 'D',
  kBodyEob = 'E',
  kHelo = 'H',
  kQuitNc = 'K',
  kHeader = 'L',
  kMail = 'M',
  kEoh = 'N',
  kOptneg = 'O',
  kQuit = 'Q',
  kRcpt = 'R',
  kData = 'T',
  kUnknown = 'U',
};

// One raw frame: the command byte and its payload.
struct Frame {
  char cmd = 0;
  std::string payload;
};

// A decoded command. Which fields are set depends on `cmd`:
//   kOptneg: version, actions, protocol
//   kMacro: macro_for (the command the macros belong to), macros
//   kConnect: hostname, family ('4', '6', 'L' (unix), 'U' (unknown)), port,
//             address (empty for 'U')
//   kHelo: args[0];  kMail, kRcpt: args (address first, then ESMTP args)
//   kHeader: name, value;  kBody, kBodyEob: body (kBodyEob may carry the
//            last chunk);  kUnknown: args[0] (the SMTP command line)
//   kData, kEoh, kAbort, kQuit, kQuitNc: nothing
struct Command {
  Cmd cmd = Cmd::kAbort;
  uint32_t version = 0, actions = 0, protocol = 0;
  char macro_for = 0;
  std::vector<std::pair<std::string, std::string>> macros;
  std::string hostname, address;
  char family = 'U';
  uint16_t port = 0;
  std::vector<std::string> args;
  std::string name, value;
  std::string body;
};

// Splits a byte stream into frames. Feed bytes as they arrive; Next returns
// each complete frame once. An error (zero or oversized length) is sticky:
// the stream cannot be resynchronised.
class FrameDecoder {
 public:
  void Feed(std::string_view bytes);
  // A frame, nullopt if more bytes are needed, InvalidArgument on a bad
  // length. The oversized check happens as soon as the length is known, so
  // a hostile length never makes the buffer grow past kMaxFrame + 4.
  Result<std::optional<Frame>> Next();
  // Bytes of a frame begun but not complete (a stalled packet).
  bool partial() const { return buf_.size() > pos_; }

 private:
  std::string buf_;
  size_t pos_ = 0;  // start of the next frame in buf_
  Status error_;
};

// The typed command of a frame; InvalidArgument for an unknown command
// byte or a payload that does not fit the command's layout.
Result<Command> DecodeCommand(const Frame& frame);

// One frame's bytes (length, command, payload).
std::string EncodeFrame(char cmd, std::string_view payload);

// Replies, milter -> MTA (SMFIR_*), each one whole frame.
std::string EncodeOptnegReply(uint32_t version, uint32_t actions, uint32_t protocol);
std::string EncodeContinue();  // 'c'
std::string EncodeAccept();    // 'a'
std::string EncodeReject();    // 'r'
std::string EncodeTempfail();  // 't'
std::string EncodeDiscard();   // 'd'
std::string EncodeProgress();  // 'p'
// 'y': "rcode xcode text". rcode must be 4xx or 5xx and xcode (may be
// empty) must start with the same digit; CR, LF and NUL in the text become
// spaces (one reply line). InvalidArgument if the codes do not fit.
Result<std::string> EncodeReplyCode(std::string_view rcode, std::string_view xcode,
                                    std::string_view text);
std::string EncodeAddHeader(std::string_view name, std::string_view value);  // 'h'
std::string EncodeInsertHeader(uint32_t index, std::string_view name,
                               std::string_view value);  // 'i'
// 'm': the index-th (1-based) header of that name; an empty value deletes it.
std::string EncodeChangeHeader(uint32_t index, std::string_view name, std::string_view value);
std::string EncodeDeleteRcpt(std::string_view rcpt);  // '-'
// 'b': one chunk of the new body; call once per chunk of at most 64 KiB.
std::string EncodeReplaceBody(std::string_view chunk);

// The decoded form of a reply frame, for tests and the fuzz target: the
// command byte and payload of each whole frame in `bytes`; InvalidArgument
// if `bytes` is not a sequence of whole frames.
Result<std::vector<Frame>> SplitFrames(std::string_view bytes);

}  // namespace mailvault::intake::milter
