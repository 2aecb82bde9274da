#include "sluice/core/hash.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

// RFC 1321, appendix A.5 ("Test suite").
TEST(Md5Hex, MatchesTheRfc1321TestSuite) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Md5Hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5, IncrementalUpdatesGiveTheSameDigestAsOneShot) {
  Md5 md5;
  md5.Update("message ");
  md5.Update("");
  md5.Update("digest");
  EXPECT_EQ(md5.FinishHex(), "f96b697d7cb7938d525a2f31aaf161d0");
}

TEST(Md5, FinishReturnsSixteenRawBytes) {
  Md5 md5;
  md5.Update("abc");
  const auto digest = md5.Finish();
  EXPECT_EQ(digest[0], 0x90);
  EXPECT_EQ(digest[15], 0x72);
}

TEST(Md5Hex, HandlesBinaryBytesIncludingNul) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Md5Hex(with_nul), Md5Hex("a"));
  EXPECT_EQ(Md5Hex(with_nul).size(), 32u);
}

TEST(ToHex, WritesLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(ToHex(std::string("\x00\x0f\xff\xa5", 4)), "000fffa5");
  EXPECT_EQ(ToHex(""), "");
}

}  // namespace
}  // namespace sluice
