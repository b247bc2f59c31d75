// libFuzzer target for the milter protocol (src/intake/milter_codec.h and
// milter_session.h): a byte stream as an MTA, or anyone who reaches the
// milter socket, could send it, built from well-formed frames of every
// command in any order, raw bytes and broken lengths, fed to the frame
// decoder in random chunks, every whole frame decoded and handed to one
// session, the end-of-message decision itself drawn from the input (reply
// codes, header names and values, a new body: any bytes). Nothing may crash,
// and
//   - every reply is a sequence of whole frames with a reply command byte;
//   - end-of-message, when it does not close the session, ends with exactly
//     one final reply, as its last frame;
//   - after a step that closes, the state is closed or the reason is set;
//   - a frame the decoder returns is at most kMaxFrame long.
#include <fuzzer/FuzzedDataProvider.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdlib>
#include <string>

#include "intake/milter_codec.h"
#include "intake/milter_session.h"

namespace {

using mailvault::intake::MilterSession;
using mailvault::intake::Outcome;
using mailvault::intake::Received;
namespace milter = mailvault::intake::milter;

void Check(bool ok) {
  if (!ok) std::abort();
}

const std::string& SpoolDir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/mv-milter-fuzz-XXXXXX";
    Check(::mkdtemp(tmpl) != nullptr);
    return std::string(tmpl);
  }();
  return dir;
}

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

std::string Z(const std::string& s) { return s + std::string(1, '\0'); }

// One frame: mostly well-formed commands (so the fuzzer reaches deep
// states), sometimes anything.
std::string NextChunk(FuzzedDataProvider& in) {
  auto str = [&] { return in.ConsumeRandomLengthString(64); };
  switch (in.ConsumeIntegralInRange<int>(0, 17)) {
    case 0:
      return milter::EncodeFrame('O', U32(in.ConsumeIntegralInRange<uint32_t>(0, 8)) +
                                          U32(in.ConsumeIntegral<uint32_t>()) +
                                          U32(in.ConsumeIntegral<uint32_t>()));
    case 1: {
      std::string p(1, in.ConsumeBool() ? 'E' : in.ConsumeIntegral<char>());
      p += Z(in.ConsumeBool() ? "i" : str()) + Z(str());
      return milter::EncodeFrame('D', p);
    }
    case 2:
      return milter::EncodeFrame(
          'C', Z(str()) + std::string(1, in.ConsumeBool() ? '4' : '6') + "\x01\x19" + Z(str()));
    case 3:
      return milter::EncodeFrame('H', Z(str()));
    case 4:
      return milter::EncodeFrame('M', Z("<" + str() + ">") + Z(str()));
    case 5:
      return milter::EncodeFrame('R', Z("<" + str() + ">"));
    case 6:
      return milter::EncodeFrame('L', Z(in.ConsumeBool() ? "Subject" : str()) + Z(str()));
    case 7:
      return milter::EncodeFrame('N', "");
    case 8:
      return milter::EncodeFrame('B', in.ConsumeRandomLengthString(256));
    case 9:
      return milter::EncodeFrame('E', in.ConsumeBool() ? "" : str());
    case 10:
      return milter::EncodeFrame('A', "");
    case 11:
      return milter::EncodeFrame('T', "");
    case 12:
      return milter::EncodeFrame('K', "");
    case 13:
      return milter::EncodeFrame('U', Z(str()));
    case 14:
      return milter::EncodeFrame('L', Z("X-Mailvault-Release") + Z(str()));
    case 15:  // any command byte, any payload
      return milter::EncodeFrame(in.ConsumeIntegral<char>(), str());
    case 16:  // any length (zero and oversized included)
      return U32(in.ConsumeIntegral<uint32_t>()) + str();
    default:
      return str();
  }
}

Outcome Decide(FuzzedDataProvider& in) {
  Outcome o;
  o.kind = static_cast<Outcome::Kind>(in.ConsumeIntegralInRange<int>(0, 3));
  o.rcode = in.ConsumeBool() ? "550" : in.ConsumeRandomLengthString(4);
  o.xcode = in.ConsumeBool() ? "5.7.1" : in.ConsumeRandomLengthString(8);
  o.text = in.ConsumeRandomLengthString(32);
  if (in.ConsumeBool()) o.delete_rcpt.push_back(in.ConsumeRandomLengthString(16));
  if (in.ConsumeBool())
    o.add_headers.emplace_back(in.ConsumeRandomLengthString(16), in.ConsumeRandomLengthString(16));
  if (in.ConsumeBool())
    o.header_changes.emplace_back(in.ConsumeRandomLengthString(16),
                                  in.ConsumeRandomLengthString(16));
  if (in.ConsumeBool()) o.new_subject = in.ConsumeRandomLengthString(16);
  if (in.ConsumeBool()) o.new_body = in.ConsumeRandomLengthString(128);
  return o;
}

bool IsReply(char c) { return std::string_view("Ocartdpyhim-b").find(c) != std::string_view::npos; }
bool IsFinal(char c) { return std::string_view("cartdy").find(c) != std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  FuzzedDataProvider in(data, size);
  MilterSession session(*mailvault::PosixEnv(), SpoolDir(), [&](const Received& r) {
    // The spool reads back what was appended.
    std::string raw;
    Check(r.raw->ReadAt(0, r.raw->size(), &raw).ok());
    Check(raw.size() == r.raw->size());
    return Decide(in);
  });
  milter::FrameDecoder decoder;
  std::string stream;
  // Three quarters of the input make frames; the rest, chunk sizes and the
  // decisions.
  while (in.remaining_bytes() > size / 4 && stream.size() < 64 * 1024) stream += NextChunk(in);

  size_t off = 0;
  bool closed = false;
  while (off < stream.size() && !closed) {
    const size_t n = std::min(stream.size() - off, in.ConsumeIntegralInRange<size_t>(1, 4096));
    decoder.Feed(std::string_view(stream).substr(off, n));
    off += n;
    while (!closed) {
      auto frame = decoder.Next();
      if (!frame.ok()) {
        Check(!decoder.Next().ok());  // sticky
        closed = true;
        break;
      }
      if (!frame->has_value()) break;
      Check((*frame)->payload.size() + 1 <= milter::kMaxFrame);
      auto command = milter::DecodeCommand(**frame);
      if (!command.ok()) {
        closed = true;
        break;
      }
      const bool eom = command->cmd == milter::Cmd::kBodyEob && session.message_open();
      MilterSession::Step step = session.Handle(*command);
      auto frames = milter::SplitFrames(step.reply);
      Check(frames.ok());
      size_t finals = 0;
      for (const auto& f : *frames) {
        Check(IsReply(f.cmd));
        finals += IsFinal(f.cmd) ? 1 : 0;
      }
      if (eom && !step.close) {
        Check(finals == 1 && !frames->empty() && IsFinal(frames->back().cmd));
      }
      if (step.close) {
        Check(session.state() == MilterSession::State::kClosed || !step.error.ok());
        closed = true;
      }
    }
  }
  return 0;
}
