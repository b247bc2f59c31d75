// libFuzzer target for the release header check (src/crypto/release.h),
// which reads a header any sender can put on a message. The input is split
// at NUL bytes: a header value, then an envelope sender and recipients.
// Properties: Verify never accepts the value as given (it cannot forge the
// MAC) and never crashes on it; a header signed for that envelope (any
// bytes: CR, LF, NUL-free junk, no '@') verifies for it and for each single
// recipient of it, and not once a recipient outside it is added or the
// sender changes. Seeds: tests/fuzz/corpus/release/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/release.h"

namespace {

using mailvault::crypto::CanonicalAddress;
using mailvault::crypto::DigestBody;
using mailvault::crypto::ReleaseEnvelope;
using mailvault::crypto::ReleaseSigner;

const ReleaseSigner& Signer() {
  static const ReleaseSigner* signer = [] {
    mailvault::crypto::SymmetricKey key;
    key.fill(0x5a);
    return new ReleaseSigner(key);
  }();
  return *signer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> pieces;
  for (size_t start = 0;;) {
    size_t nul = in.find('\0', start);
    pieces.emplace_back(in.substr(start, nul == std::string_view::npos ? nul : nul - start));
    if (nul == std::string_view::npos) break;
    start = nul + 1;
  }
  const std::string digest = DigestBody(pieces[0]);
  ReleaseEnvelope envelope;
  if (pieces.size() > 1) envelope.mail_from = pieces[1];
  for (size_t i = 2; i < pieces.size() && i < 40; ++i) envelope.rcpt.push_back(pieces[i]);
  const int64_t now = 2'000'000'000;
  const ReleaseSigner& signer = Signer();

  if (signer.Verify(pieces[0], digest, envelope, now, 300).ok()) std::abort();  // a forgery

  if (envelope.rcpt.empty()) return 0;
  const std::string value = signer.Sign(7, now, digest, envelope);
  auto good = signer.Verify(value, digest, envelope, now, 300);
  if (!good.ok() || good->copy_id != 7 || good->signed_at != now) std::abort();
  for (const std::string& r : envelope.rcpt) {
    if (!signer.Verify(value, digest, {envelope.mail_from, {r}}, now, 300).ok()) std::abort();
  }
  // A recipient outside the signed set (canonically different from each).
  std::string outsider = "outsider-" + envelope.rcpt[0];
  bool inside = false;
  for (const std::string& r : envelope.rcpt)
    inside = inside || CanonicalAddress(r) == CanonicalAddress(outsider);
  ReleaseEnvelope wider = envelope;
  wider.rcpt.push_back(outsider);
  if (!inside && signer.Verify(value, digest, wider, now, 300).ok()) std::abort();
  ReleaseEnvelope other_sender = envelope;
  other_sender.mail_from += "x";
  if (signer.Verify(value, digest, other_sender, now, 300).ok()) std::abort();
  return 0;
}
