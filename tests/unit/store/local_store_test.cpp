// What only the file:// store promises: keys as files below the root, atomic commits, temp files
// under .sluice/, ETags right for files other tools write. Shared semantics are in
// conformance_test.cpp.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "sluice/core/hash.hpp"
#include "sluice/store/local/local_store.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHelloWorldMd5 = "5eb63bbbe01eeed093cb22bb8f5acdc3";

void WriteFile(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> next_id{0};
    base_ = fs::temp_directory_path() /
            fmt::format("sluice-local-{}-{}", ::getpid(), next_id.fetch_add(1));
    root_ = base_ / "bucket";
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  void Reopen() {
    store_.reset();
    auto store = MakeLocalStore(root_);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }

  [[nodiscard]] std::size_t TempFileCount() const {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(root_ / ".sluice" / "tmp")) {
      ++count;
    }
    return count;
  }

  std::vector<std::string> ListKeys(const std::string& prefix = "") {
    ListOptions options;
    options.prefix = prefix;
    const auto page = store_->List(options);
    EXPECT_TRUE(page) << page.error().ToString();
    std::vector<std::string> keys;
    if (page) {
      for (const auto& object : page->objects) keys.push_back(object.key);
    }
    return keys;
  }

  fs::path base_;
  fs::path root_;
  std::unique_ptr<ObjectStore> store_;
};

TEST_F(LocalStoreTest, ObjectIsAFileBelowTheRoot) {
  ASSERT_TRUE(store_->Put("a/b/c", "content"));
  EXPECT_TRUE(fs::is_regular_file(root_ / "a" / "b" / "c"));
  EXPECT_EQ(ReadFile(root_ / "a" / "b" / "c"), "content");
  EXPECT_EQ(store_->Url(), "file://" + root_.string());
}

TEST_F(LocalStoreTest, ConcurrentReaderSeesOnlyWholeOldOrNewContent) {
  // Sizes above the read chunk, so a torn read would show as a mix or a wrong length.
  const std::string old_content(300 * 1024, 'o');
  const std::string new_content(200 * 1024 + 5, 'n');
  ASSERT_TRUE(store_->Put("contended", old_content));
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(store_->Put("contended", i % 2 == 0 ? new_content : old_content));
    }
    writing = false;
  });
  int reads = 0;
  int torn = 0;
  do {
    std::string bytes;
    const auto info = store_->GetTo("contended", [&bytes](std::string_view chunk) {
      bytes.append(chunk);
      return Ok();
    });
    ASSERT_TRUE(info) << info.error().ToString();
    ++reads;
    if (bytes != old_content && bytes != new_content) ++torn;
    // The reported metadata belongs to the version read, too.
    if (info->etag != Md5Hex(bytes) || info->size_bytes != bytes.size()) ++torn;
  } while (writing);
  writer.join();
  EXPECT_EQ(torn, 0);
  EXPECT_GT(reads, 0);
  EXPECT_EQ(TempFileCount(), 0U);
}

TEST_F(LocalStoreTest, CloseLeavesNoTempFiles) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->Put(fmt::format("k{}", i), "bytes"));
  ASSERT_TRUE(store_->Copy("k0", "copied"));
  ASSERT_TRUE(store_->Put("folder/x", "below"));
  EXPECT_FALSE(store_->Put("folder", "refused: a folder is in the way"));
  EXPECT_EQ(TempFileCount(), 0U);
}

TEST_F(LocalStoreTest, WriterDestroyedWithoutCloseRemovesItsTempFile) {
  auto writer = store_->OpenWriter("abandoned");
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Write("partial"));
  EXPECT_EQ(TempFileCount(), 1U);
  writer->reset();
  EXPECT_EQ(TempFileCount(), 0U);
  EXPECT_FALSE(fs::exists(root_ / "abandoned"));
}

TEST_F(LocalStoreTest, SluiceFolderNeverAppearsInListings) {
  ASSERT_TRUE(store_->Put("visible", "x"));
  WriteFile(root_ / ".sluice" / "other-state", "internal");
  auto writer = store_->OpenWriter("in-flight");  // a temp file exists meanwhile
  ASSERT_TRUE(writer);
  EXPECT_EQ(ListKeys(), std::vector<std::string>{"visible"});
  EXPECT_TRUE(ListKeys(".sluice").empty());
  ListOptions options;
  options.delimiter = "/";
  const auto page = store_->List(options);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->common_prefixes.empty());
}

TEST_F(LocalStoreTest, EtagOfFileWrittenByAnotherToolIsHexMd5) {
  WriteFile(root_ / "dropped" / "in.txt", "hello world");
  const auto head = store_->Head("dropped/in.txt");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->etag, kHelloWorldMd5);
  EXPECT_EQ(head->size_bytes, 11U);
  const auto page = store_->List({});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].etag, kHelloWorldMd5);
  const auto got = store_->GetTo(
      "dropped/in.txt", [](std::string_view) { return Ok(); }, ByteRange{0, 4});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->etag, kHelloWorldMd5);

  // Where the file system has user xattrs, the ETag is now cached with the file's stamp.
  char value[128];
  const auto length =
      ::getxattr((root_ / "dropped" / "in.txt").c_str(), "user.sluice.etag", value, sizeof(value));
  if (length >= 0) {
    const std::string cached(value, static_cast<std::size_t>(length));
    EXPECT_TRUE(cached.ends_with(fmt::format(":11:{}", kHelloWorldMd5))) << cached;
  }
}

TEST_F(LocalStoreTest, ListingWithoutEtagsHashesNothing) {
  WriteFile(root_ / "dropped" / "in.txt", "hello world");
  ListOptions options;
  options.need_etags = false;
  auto page = store_->List(options);
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].size_bytes, 11U);
  EXPECT_EQ(page->objects[0].etag, "");  // not computed
  char value[128];
  EXPECT_LT(::getxattr((root_ / "dropped" / "in.txt").c_str(), "user.sluice.etag", value,
                       sizeof(value)),
            0);
  // Once known, the cached ETag is reported even when not asked for.
  ASSERT_TRUE(store_->Head("dropped/in.txt"));
  page = store_->List(options);
  ASSERT_TRUE(page);
  if (::getxattr((root_ / "dropped" / "in.txt").c_str(), "user.sluice.etag", value,
                 sizeof(value)) >= 0) {
    EXPECT_EQ(page->objects[0].etag, kHelloWorldMd5);
  }
}

TEST_F(LocalStoreTest, ReaderReadsTheFileItOpenedAndReportsAShrunkenFileAsCorrupt) {
  WriteFile(root_ / "f.bin", std::string(100'000, 'a'));
  auto reader = store_->OpenReader("f.bin");
  ASSERT_TRUE(reader) << reader.error().ToString();
  EXPECT_EQ((*reader)->Info().size_bytes, 100'000U);
  ::truncate((root_ / "f.bin").c_str(), 50'000);  // rewritten in place by another tool
  std::string buffer(80'000, '\0');
  const auto read = (*reader)->ReadAt(0, buffer);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::Corrupt);
  EXPECT_NE(read.error().message.find("shrank"), std::string::npos) << read.error().ToString();
  EXPECT_NE(read.error().context.find("f.bin"), std::string::npos);
}

TEST_F(LocalStoreTest, EtagFollowsExternalModification) {
  ASSERT_TRUE(store_->Put("changing", "hello world"));
  const fs::path path = root_ / "changing";

  // Another tool rewrites it with a different size: the cached ETag is stale by size.
  WriteFile(path, "hello world, again");
  EXPECT_EQ(store_->Head("changing").value_or(ObjectInfo{}).etag, Md5Hex("hello world, again"));

  // Same size, different bytes: stale by mtime (set explicitly so the test does not depend on
  // the file system's timestamp granularity).
  const auto stamp = fs::last_write_time(path);
  WriteFile(path, "HELLO WORLD, AGAIN");
  fs::last_write_time(path, stamp + std::chrono::seconds(10));
  EXPECT_EQ(store_->Head("changing").value_or(ObjectInfo{}).etag, Md5Hex("HELLO WORLD, AGAIN"));
  EXPECT_EQ(store_->Get("changing").value_or("<error>"), "HELLO WORLD, AGAIN");
  const auto page = store_->List({});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->objects.size(), 1U);
  EXPECT_EQ(page->objects[0].etag, Md5Hex("HELLO WORLD, AGAIN"));
}

TEST_F(LocalStoreTest, KeyMappingRejectsTraversal) {
  WriteFile(base_ / "outside", "secret");
  for (const std::string key :
       {"../outside", "a/../../outside", "/etc/passwd", "a/./b", "..", ".sluice/tmp/x"}) {
    SCOPED_TRACE(key);
    const auto get = store_->Get(key);
    ASSERT_FALSE(get);
    EXPECT_EQ(get.error().code, ErrorCode::InvalidArgument);
    const auto put = store_->Put(key, "overwritten");
    ASSERT_FALSE(put);
    EXPECT_EQ(put.error().code, ErrorCode::InvalidArgument);
    EXPECT_FALSE(store_->Delete(key));
  }
  EXPECT_EQ(ReadFile(base_ / "outside"), "secret");
  EXPECT_TRUE(ListKeys().empty());
}

TEST_F(LocalStoreTest, SegmentLongerThanAFileNameIsInvalidArgument) {
  const auto put = store_->Put("dir/" + std::string(300, 'n'), "x");
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().code, ErrorCode::InvalidArgument) << put.error().ToString();
  EXPECT_EQ(TempFileCount(), 0U);
}

TEST_F(LocalStoreTest, HeadAndGetOfAFolderAreNotFound) {
  ASSERT_TRUE(store_->Put("a/b", "x"));
  EXPECT_EQ(store_->Head("a").error().code, ErrorCode::NotFound);
  EXPECT_EQ(store_->Get("a").error().code, ErrorCode::NotFound);
}

TEST_F(LocalStoreTest, PutOverAFolderOrBelowAnObjectIsAlreadyExists) {
  ASSERT_TRUE(store_->Put("a/b", "x"));
  const auto over = store_->Put("a", "y");
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::AlreadyExists);
  EXPECT_NE(over.error().ToString().find("put a"), std::string::npos) << over.error().ToString();

  ASSERT_TRUE(store_->Put("c", "x"));
  const auto below = store_->Put("c/d/e", "y");
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().code, ErrorCode::AlreadyExists);
  EXPECT_NE(below.error().message.find("'c' is an object"), std::string::npos)
      << below.error().ToString();
  EXPECT_EQ(store_->Get("c").value_or("<error>"), "x");
  EXPECT_EQ(TempFileCount(), 0U);
}

TEST_F(LocalStoreTest, DeleteRemovesEmptiedFoldersButNotTheRoot) {
  ASSERT_TRUE(store_->Put("x/y/z", "1"));
  ASSERT_TRUE(store_->Put("x/w", "2"));
  ASSERT_TRUE(store_->Delete("x/y/z"));
  EXPECT_FALSE(fs::exists(root_ / "x" / "y"));
  EXPECT_TRUE(fs::exists(root_ / "x" / "w"));
  ASSERT_TRUE(store_->Delete("x/w"));
  EXPECT_FALSE(fs::exists(root_ / "x"));
  EXPECT_TRUE(fs::is_directory(root_));
  EXPECT_TRUE(fs::is_directory(root_ / ".sluice" / "tmp"));
}

TEST_F(LocalStoreTest, SymlinksAndSpecialFilesAreNotObjects) {
  ASSERT_TRUE(store_->Put("real", "r"));
  ASSERT_TRUE(store_->Put("d/x", "x"));
  fs::create_symlink(root_ / "real", root_ / "link");
  fs::create_directory_symlink(root_ / "d", root_ / "dirlink");
  fs::create_directory_symlink(root_, root_ / "loop");
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(ListKeys(), (std::vector<std::string>{"d/x", "real"}));
  EXPECT_EQ(store_->Head("link").error().code, ErrorCode::NotFound);
  EXPECT_EQ(store_->Head("fifo").error().code, ErrorCode::NotFound);  // and does not hang
  EXPECT_EQ(store_->Get("fifo").error().code, ErrorCode::NotFound);
}

TEST_F(LocalStoreTest, ObjectsSurviveReopening) {
  ASSERT_TRUE(store_->Put("durable/key", "still here"));
  Reopen();
  EXPECT_EQ(store_->Get("durable/key").value_or("<error>"), "still here");
  EXPECT_EQ(store_->Head("durable/key").value_or(ObjectInfo{}).etag, Md5Hex("still here"));
}

TEST_F(LocalStoreTest, OpeningRemovesOnlyStaleTempFiles) {
  const fs::path temp = root_ / ".sluice" / "tmp";
  WriteFile(temp / "crashed-writer", "old");
  fs::last_write_time(temp / "crashed-writer",
                      fs::file_time_type::clock::now() - std::chrono::hours(48));
  WriteFile(temp / "live-writer", "new");
  Reopen();
  EXPECT_FALSE(fs::exists(temp / "crashed-writer"));
  EXPECT_TRUE(fs::exists(temp / "live-writer"));
}

TEST_F(LocalStoreTest, RelativeRootIsInvalidArgument) {
  const auto store = MakeLocalStore("relative/bucket");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::InvalidArgument);
}

TEST_F(LocalStoreTest, RootThatIsAFileIsAlreadyExists) {
  WriteFile(base_ / "plain-file", "x");
  const auto store = MakeLocalStore(base_ / "plain-file");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::AlreadyExists);
}

TEST_F(LocalStoreTest, RecreatesTempFolderIfRemoved) {
  fs::remove_all(root_ / ".sluice");
  EXPECT_TRUE(store_->Put("after/removal", "x"));
  EXPECT_EQ(store_->Get("after/removal").value_or("<error>"), "x");
}

}  // namespace
}  // namespace sluice
