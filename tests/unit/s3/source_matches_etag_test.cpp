// SourceMatchesEtag: recognising local bytes behind an S3 ETag on resume, plain MD5 and multipart
// "<hex>-N" with sluice's part size or whole-MiB part sizes (AWS CLI, boto3, rclone).

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "sluice/core/hash.hpp"
#include "sluice/store/memory/memory_store.hpp"
#include "sluice/store/s3/s3_protocol.hpp"
#include "sluice/store/s3/s3_store.hpp"

namespace sluice {
namespace {

using s3::kMiB;

std::string RandomBytes(std::size_t size, unsigned seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (auto& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

/// The multipart ETag of `bytes` cut in parts of `part_size`, computed here from first
/// principles: MD5 of the concatenated binary part MD5s, "-", the number of parts.
std::string MultipartEtagOf(const std::string& bytes, std::uint64_t part_size) {
  Md5 whole;
  std::size_t parts = 0;
  for (std::size_t offset = 0; offset < bytes.size(); offset += part_size, ++parts) {
    Md5 part;
    part.Update(std::string_view(bytes).substr(offset, part_size));
    const auto digest = part.Finish();
    whole.Update(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  }
  return whole.FinishHex() + "-" + std::to_string(parts);
}

class SourceMatchesEtagTest : public ::testing::Test {
 protected:
  /// A reader over `bytes`.
  std::unique_ptr<ObjectReader> Reader(const std::string& bytes) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    store_ = MakeMemoryStore(std::string("SourceMatchesEtag.") + info->name());
    EXPECT_TRUE(store_->Put("object", bytes));
    auto reader = store_->OpenReader("object");
    EXPECT_TRUE(reader) << reader.error().ToString();
    return std::move(*reader);
  }

  bool Matches(const std::string& bytes, std::string_view etag,
               std::uint64_t part_size = 8 * kMiB) {
    auto reader = Reader(bytes);
    auto result = SourceMatchesEtag(*reader, etag, part_size);
    EXPECT_TRUE(result) << result.error().ToString();
    return result.value_or(false);
  }

  std::unique_ptr<ObjectStore> store_;
};

TEST_F(SourceMatchesEtagTest, APlainEtagIsTheMd5OfTheBytes) {
  const std::string bytes = RandomBytes(100'000, 1);
  EXPECT_TRUE(Matches(bytes, Md5Hex(bytes)));
  std::string other = bytes;
  other[50'000] ^= 1;
  EXPECT_FALSE(Matches(other, Md5Hex(bytes)));
  EXPECT_TRUE(Matches("", "d41d8cd98f00b204e9800998ecf8427e"));
  EXPECT_FALSE(Matches("x", "d41d8cd98f00b204e9800998ecf8427e"));
}

TEST_F(SourceMatchesEtagTest, AMultipartEtagWithSluicesPartSizeMatches) {
  // 5 MiB parts (sluice's smallest): 12 MiB + 3 bytes is three parts.
  const std::string bytes = RandomBytes(12 * kMiB + 3, 2);
  const std::string etag = MultipartEtagOf(bytes, 5 * kMiB);
  ASSERT_TRUE(etag.ends_with("-3"));
  EXPECT_TRUE(Matches(bytes, etag, 5 * kMiB));
  // One byte different in the last part: no match.
  std::string other = bytes;
  other.back() ^= 1;
  EXPECT_FALSE(Matches(other, etag, 5 * kMiB));
}

TEST_F(SourceMatchesEtagTest, AMultipartEtagOfWholeMiBPartsMatchesWhateverSluicesPartSize) {
  // An object another tool uploaded in 6 MiB parts: two parts, not sluice's 8 MiB split.
  const std::string bytes = RandomBytes(10 * kMiB + 1, 3);
  const std::string etag = MultipartEtagOf(bytes, 6 * kMiB);
  ASSERT_TRUE(etag.ends_with("-2"));
  ASSERT_NE(etag, MultipartEtagOf(bytes, 8 * kMiB));
  EXPECT_TRUE(Matches(bytes, etag, 8 * kMiB));
}

TEST_F(SourceMatchesEtagTest, APartCountThatCannotBeTheBytesDoesNotMatch) {
  const std::string bytes = RandomBytes(6 * kMiB, 4);
  const std::string etag = MultipartEtagOf(bytes, 5 * kMiB);  // "-2"
  const std::string hex = etag.substr(0, etag.find('-'));
  EXPECT_FALSE(Matches(bytes, hex + "-3", 5 * kMiB));
  EXPECT_FALSE(Matches(bytes, hex + "-0", 5 * kMiB));
  EXPECT_FALSE(Matches(bytes, hex + "-", 5 * kMiB));
  EXPECT_FALSE(Matches(bytes, hex + "-x", 5 * kMiB));
  EXPECT_FALSE(Matches(bytes, hex + "-10001", 5 * kMiB));
  // An ETag that is no MD5 at all (SSE-KMS): never a match.
  EXPECT_FALSE(Matches(bytes, "not-an-md5", 5 * kMiB));
  EXPECT_TRUE(Matches(bytes, etag, 5 * kMiB));
}

}  // namespace
}  // namespace sluice
