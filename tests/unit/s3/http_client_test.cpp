// HttpClient (core/http_client.hpp) against the loopback server: bodies both ways, headers,
// streaming, and how transport failures map onto ErrorCode.

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "loopback_server.hpp"
#include "sluice/core/http_client.hpp"

namespace sluice {
namespace {

using testing::CannedResponse;
using testing::LoopbackServer;
using testing::RecordedRequest;

TEST(HttpClient, SendsBodyWithContentLengthAndReadsStatusHeadersAndBody) {
  LoopbackServer server([](const RecordedRequest& request) {
    CannedResponse response;
    response.status = 201;
    response.headers = {{"X-Echo-Length", std::to_string(request.body.size())},
                        {"ETag", "\"abc\""}};
    response.body = "created";
    return response;
  });
  HttpClient client;
  HttpRequest request;
  request.method = "PUT";
  request.url = server.Url() + "/bucket/key?x=1";
  request.headers = {{"Content-Type", "text/plain"}};
  request.body = "twelve bytes";
  const auto response = client.Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "created");
  EXPECT_EQ(response->Header("x-echo-length"), "12");
  EXPECT_EQ(response->Header("ETAG"), "\"abc\"");
  EXPECT_EQ(response->Header("missing"), std::nullopt);
  const auto received = server.Requests().at(0);
  EXPECT_EQ(received.method, "PUT");
  EXPECT_EQ(received.target, "/bucket/key?x=1");
  EXPECT_EQ(received.body, "twelve bytes");
  EXPECT_EQ(received.Header("content-length"), "12");
  EXPECT_EQ(received.Header("content-type"), "text/plain");
  EXPECT_EQ(received.Header("expect"), "");
  EXPECT_EQ(received.Header("transfer-encoding"), "");
}

TEST(HttpClient, StreamsABodySourceWithAContentLengthAndReturnsItsError) {
  LoopbackServer server([](const RecordedRequest&) { return CannedResponse{}; });
  HttpClient client;
  std::string bytes(700 * 1024 + 5, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 31 % 251);
  std::vector<std::uint64_t> offsets;
  HttpRequest request;
  request.method = "PUT";
  request.url = server.Url() + "/bucket/key";
  request.body_size_bytes = bytes.size();
  request.body_source = [&](std::uint64_t offset, std::span<char> buffer) -> Result<std::size_t> {
    offsets.push_back(offset);
    return bytes.copy(buffer.data(), buffer.size(), offset);
  };
  const auto response = client.Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  const auto received = server.Requests().at(0);
  EXPECT_TRUE(received.body == bytes) << "body differs";
  EXPECT_EQ(received.Header("content-length"), std::to_string(bytes.size()));
  EXPECT_EQ(received.Header("transfer-encoding"), "");
  ASSERT_GT(offsets.size(), 1U);  // read piecewise, in order
  EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end()));

  request.body_source = [](std::uint64_t offset, std::span<char>) -> Result<std::size_t> {
    return Fail(ErrorCode::Corrupt, fmt::format("cannot read at {}", offset), "read file");
  };
  const auto failed = client.Send(request);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::Corrupt);
  EXPECT_NE(failed.error().message.find("cannot read at 0"), std::string::npos);

  // A source that ends early cannot leave the server waiting for the promised length.
  request.body_source = [](std::uint64_t, std::span<char> buffer) -> Result<std::size_t> {
    return buffer.size() / 2;
  };
  const auto short_body = client.Send(request);
  ASSERT_FALSE(short_body);
  EXPECT_EQ(short_body.error().code, ErrorCode::Corrupt);
}

TEST(HttpClient, PostAndDeleteUseTheirMethodsAndAnEmptyPostHasContentLengthZero) {
  LoopbackServer server([](const RecordedRequest&) { return CannedResponse{}; });
  HttpClient client;
  for (const char* method : {"POST", "DELETE", "HEAD", "GET"}) {
    HttpRequest request;
    request.method = method;
    request.url = server.Url() + "/x";
    ASSERT_TRUE(client.Send(request)) << method;
  }
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 4U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].Header("content-length"), "0");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[2].method, "HEAD");
  EXPECT_EQ(requests[3].method, "GET");
}

TEST(HttpClient, StreamsSuccessfulBodiesToTheSinkAndCollectsErrorBodies) {
  const std::string big(3 * 1024 * 1024, 'z');
  LoopbackServer server([&](const RecordedRequest& request) {
    CannedResponse response;
    if (request.target == "/missing") {
      response.status = 404;
      response.body = "<Error/>";
    } else {
      response.body = big;
    }
    return response;
  });
  HttpClient client;
  std::size_t received = 0;
  int chunks = 0;
  const HttpBodySink sink = [&](std::string_view chunk) {
    received += chunk.size();
    ++chunks;
    return Ok();
  };
  bool head_seen = false;
  HttpRequest request;
  request.url = server.Url() + "/big";
  request.on_head = [&](const HttpResponse& head) {
    head_seen = head.status == 200 && head.body.empty() && received == 0;
    return Ok();
  };
  const auto ok = client.Send(request, sink);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(head_seen);
  EXPECT_EQ(received, big.size());
  EXPECT_GT(chunks, 1);
  EXPECT_TRUE(ok->body.empty());

  received = 0;
  request.url = server.Url() + "/missing";
  request.on_head = nullptr;
  const auto missing = client.Send(request, sink);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "<Error/>");
  EXPECT_EQ(received, 0U);
}

TEST(HttpClient, SinkAndHeadErrorsStopTheTransferAndAreReturned) {
  LoopbackServer server([](const RecordedRequest&) {
    CannedResponse response;
    response.body = std::string(1024 * 1024, 'q');
    return response;
  });
  HttpClient client;
  HttpRequest request;
  request.url = server.Url() + "/x";
  const auto sunk = client.Send(request, [](std::string_view) -> Status {
    return Fail(ErrorCode::Cancelled, "enough");
  });
  ASSERT_FALSE(sunk);
  EXPECT_EQ(sunk.error().code, ErrorCode::Cancelled);
  EXPECT_EQ(sunk.error().message, "enough");

  request.on_head = [](const HttpResponse&) -> Status {
    return Fail(ErrorCode::Corrupt, "wrong object");
  };
  const auto refused = client.Send(request, [](std::string_view) { return Ok(); });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::Corrupt);
}

TEST(HttpClient, RefusedConnectionIsTransient) {
  HttpClient client;
  HttpRequest request;
  request.url = "http://127.0.0.1:1/x?X-Amz-Signature=secret";
  const auto response = client.Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::Transient);
  EXPECT_EQ(response.error().context, "GET http://127.0.0.1:1/x");  // no query
  EXPECT_EQ(response.error().ToString().find("secret"), std::string::npos);
}

TEST(HttpClient, ResetAndTruncatedAnswersAreTransient) {
  LoopbackServer server([](const RecordedRequest& request) {
    CannedResponse response;
    response.body = std::string(100000, 'b');
    if (request.target == "/reset") response.reset = true;
    if (request.target == "/cut") response.cut_body_at = 10;
    return response;
  });
  HttpClient client;
  for (const char* path : {"/reset", "/cut"}) {
    HttpRequest request;
    request.url = server.Url() + path;
    const auto response = client.Send(request);
    ASSERT_FALSE(response) << path;
    EXPECT_EQ(response.error().code, ErrorCode::Transient) << response.error().ToString();
  }
}

TEST(HttpClient, StalledServerIsATimeout) {
  LoopbackServer server([](const RecordedRequest&) {
    CannedResponse response;
    response.stall = true;
    return response;
  });
  HttpClientOptions options;
  options.stall_timeout = std::chrono::seconds(1);
  HttpClient client(options);
  HttpRequest request;
  request.url = server.Url() + "/slow";
  const auto started = std::chrono::steady_clock::now();
  const auto response = client.Send(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::Timeout) << response.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(HttpClient, ManyThreadsShareOneClient) {
  LoopbackServer server([](const RecordedRequest& request) {
    CannedResponse response;
    response.body = request.target;
    return response;
  });
  HttpClient client;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        HttpRequest request;
        request.url = server.Url() + "/" + std::to_string(t * 100 + i);
        const auto response = client.Send(request);
        if (response && response->body == "/" + std::to_string(t * 100 + i)) good.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 80);
}

}  // namespace
}  // namespace sluice
