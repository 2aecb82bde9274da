#pragma once
/// MD5, as S3 uses it for ETags and Content-MD5 (RFC 1321; AWS S3 API reference, "Common
/// Response Headers: ETag"), and HMAC-SHA256 (RFC 2104) for webhook signatures. Implemented with
/// OpenSSL.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sluice {

/// Incremental MD5. Not thread-safe: one instance per stream.
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(Md5&&) noexcept;
  Md5& operator=(Md5&&) noexcept;

  /// Feeds bytes.
  void Update(std::string_view bytes);
  /// Finishes and returns the 16-byte digest; the instance must not be updated afterwards.
  std::array<std::uint8_t, 16> Finish();
  /// Finishes and returns the digest as 32 lower-case hex characters.
  std::string FinishHex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Hex MD5 of `bytes` (32 lower-case characters). Thread-safe.
std::string Md5Hex(std::string_view bytes);

/// Lower-case hex of arbitrary bytes.
std::string ToHex(std::string_view bytes);

/// HMAC-SHA256 (RFC 2104 with SHA-256) of `data` under `key`: the 32 raw digest bytes.
/// Thread-safe.
std::string HmacSha256(std::string_view key, std::string_view data);

/// Compares two secrets in time that depends on neither their contents nor their lengths (both
/// are hashed with SHA-256 and the digests compared with CRYPTO_memcmp), for checking tokens and
/// signatures without a timing side channel. Thread-safe.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace sluice
