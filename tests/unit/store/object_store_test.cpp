// ValidateKey, ListPageBuilder and MakeObjectStore: the backend-independent parts of
// object_store.hpp. Backend behaviour is in conformance_test.cpp.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "sluice/store/object_store.hpp"

namespace sluice {
namespace {

TEST(ObjectTagsText, FormatTaggingEscapesWhatAQueryStringCannotHoldAndParseTaggingUndoesIt) {
  const ObjectTags tags{{"Logger", "Gulf Surveyor"}, {"a+b", "x=y&z/é"}, {"empty", ""}};
  const std::string text = FormatTagging(tags);
  EXPECT_EQ(text, "Logger=Gulf%20Surveyor&a%2Bb=x%3Dy%26z%2F%C3%A9&empty=");
  const auto parsed = ParseTagging(text);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(*parsed, tags);
  EXPECT_EQ(FormatTagging({}), "");
  EXPECT_TRUE(ParseTagging("")->empty());
  const auto plus = ParseTagging("k=a+b");  // form encoding: '+' is a space
  ASSERT_TRUE(plus);
  EXPECT_EQ(plus->at("k"), "a b");
  EXPECT_FALSE(ParseTagging("k=%zz"));
  EXPECT_FALSE(ParseTagging("k=1&k=2"));
}

TEST(ValidateTags, CountsCharactersNotBytesAndNamesTheOffendingTag) {
  EXPECT_TRUE(ValidateTags({{std::string(128, 'k'), std::string(256, 'v')}}));
  std::string value;
  for (int i = 0; i < 256; ++i) value += "é";  // 512 bytes, 256 characters
  EXPECT_TRUE(ValidateTags({{"k", value}}));
  EXPECT_FALSE(ValidateTags({{"k", value + "é"}}));
  const auto bad = ValidateTags({{"fine", "ok"}, {"Logger", "O'Brien"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(bad.error().message.find("'Logger'"), std::string::npos) << bad.error().message;
}

TEST(ValidateKey, AcceptsOrdinaryAndOddButValidKeys) {
  for (const std::string key : {"a", "a/b.c", "..a", "a..", "...", ".sluicex/y", "x/.sluice/y",
                                "sluice/x", "é", "with space", "a\\b"}) {
    EXPECT_TRUE(ValidateKey(key)) << key;
  }
  EXPECT_TRUE(ValidateKey(std::string(1024, 'k')));
}

TEST(ValidateKey, RejectsKeysThatCannotBeFilesOrEscapeTheBucket) {
  const std::vector<std::string> bad_keys = {"",
                                             "/a",
                                             "a/",
                                             "a//b",
                                             ".",
                                             "..",
                                             "a/.",
                                             "./a",
                                             "a/..",
                                             "a/../b",
                                             "../../etc",
                                             ".sluice",
                                             ".sluice/tmp",
                                             std::string("a\0b", 3),
                                             std::string(1025, 'k')};
  for (const auto& key : bad_keys) {
    const auto status = ValidateKey(key);
    ASSERT_FALSE(status) << key;
    EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(status.error().message.find("invalid key"), std::string::npos);
  }
}

TEST(ValidateKey, NamesTheKeyWithUnprintableBytesEscaped) {
  const auto status = ValidateKey(std::string("bad\0key", 7));
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().message.find("bad\\x00key"), std::string::npos)
      << status.error().message;
}

ObjectInfo Info(std::string key) {
  ObjectInfo info;
  info.key = std::move(key);
  return info;
}

TEST(ListPageBuilder, StopsWhenFullAndReturnsLastEntryAsToken) {
  ListOptions options;
  options.max_keys = 2;
  ListPageBuilder builder(options);
  EXPECT_TRUE(builder.Add(Info("a")));
  EXPECT_TRUE(builder.Add(Info("b")));
  EXPECT_FALSE(builder.Full());  // a page of exactly max_keys is not truncated until more come
  EXPECT_FALSE(builder.Add(Info("c")));
  EXPECT_TRUE(builder.Full());
  const ListPage page = std::move(builder).Finish();
  ASSERT_EQ(page.objects.size(), 2U);
  EXPECT_EQ(page.next_continuation_token, "b");
}

TEST(ListPageBuilder, LastPageIsNotTruncated) {
  ListOptions options;
  options.max_keys = 2;
  ListPageBuilder builder(options);
  builder.Add(Info("a"));
  builder.Add(Info("b"));
  EXPECT_FALSE(std::move(builder).Finish().IsTruncated());
}

TEST(ListPageBuilder, SkipsKeysAtOrBeforeTheToken) {
  ListOptions options;
  options.continuation_token = "b";
  ListPageBuilder builder(options);
  EXPECT_EQ(builder.StartAfter(), "b");
  for (const char* key : {"a", "b", "ba", "c"}) builder.Add(Info(key));
  const ListPage page = std::move(builder).Finish();
  ASSERT_EQ(page.objects.size(), 2U);
  EXPECT_EQ(page.objects[0].key, "ba");
  EXPECT_EQ(page.objects[1].key, "c");
}

TEST(ListPageBuilder, SkipsKeysBelowACommonPrefixToken) {
  ListOptions options;
  options.delimiter = "/";
  options.continuation_token = "b/";
  ListPageBuilder builder(options);
  for (const char* key : {"b/1", "b/2/3", "b0", "c/4"}) builder.Add(Info(key));
  const ListPage page = std::move(builder).Finish();
  ASSERT_EQ(page.objects.size(), 1U);
  EXPECT_EQ(page.objects[0].key, "b0");
  EXPECT_EQ(page.common_prefixes, std::vector<std::string>{"c/"});
}

TEST(ListPageBuilder, TokenIsTheGreaterOfLastKeyAndLastCommonPrefix) {
  ListOptions options;
  options.delimiter = "/";
  options.max_keys = 2;
  ListPageBuilder builder(options);
  builder.Add(Info("a"));
  builder.Add(Info("b/1"));
  builder.Add(Info("b/2"));  // same common prefix: not a new entry
  EXPECT_FALSE(builder.Add(Info("c")));
  const ListPage page = std::move(builder).Finish();
  EXPECT_EQ(page.next_continuation_token, "b/");
}

TEST(MakeObjectStore, UnknownSchemeIsInvalidArgumentListingTheSupportedOnes) {
  const auto store = MakeObjectStore("ftp://host/folder");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::InvalidArgument);
  EXPECT_NE(store.error().message.find("file://"), std::string::npos);
  EXPECT_NE(store.error().message.find("memory://"), std::string::npos);
}

TEST(MakeObjectStore, TextWithoutSchemeIsInvalidArgument) {
  const auto store = MakeObjectStore("/srv/lake");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::InvalidArgument);
}

TEST(MakeObjectStore, RelativeFolderIsInvalidArgument) {
  const auto store = MakeObjectStore("file://relative/folder");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::InvalidArgument);
}

TEST(MakeObjectStore, MemoryStoresOfTheSameNameShareObjects) {
  auto first = MakeObjectStore("memory://make-object-store-shared");
  auto second = MakeObjectStore("memory://make-object-store-shared");
  auto other = MakeObjectStore("memory://make-object-store-other");
  ASSERT_TRUE(first && second && other);
  ASSERT_TRUE((*first)->Put("k", "v"));
  EXPECT_EQ((*second)->Get("k").value_or("<error>"), "v");
  EXPECT_FALSE((*other)->Head("k"));
  EXPECT_EQ((*first)->Url(), "memory://make-object-store-shared");
  EXPECT_FALSE((*first)->Capabilities().durable);
}

TEST(MakeObjectStore, FileStoreCreatesItsFolder) {
  const auto root = std::filesystem::temp_directory_path() /
                    ("sluice-make-store-" + std::to_string(::getpid())) / "new" / "deeper";
  auto store = MakeObjectStore("file://" + root.string());
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_TRUE(std::filesystem::is_directory(root));
  EXPECT_EQ((*store)->Url(), "file://" + root.string());
  EXPECT_TRUE((*store)->Capabilities().durable);
  std::filesystem::remove_all(root.parent_path().parent_path());
}

}  // namespace
}  // namespace sluice
