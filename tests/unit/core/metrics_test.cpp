#include "sluice/core/metrics.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sluice/core/http_client.hpp"
#include "sluice/core/http_server.hpp"

namespace sluice {
namespace {

TEST(Metrics, CountersAndGaugesSerialiseInTheTextFormat) {
  MetricsRegistry metrics;
  metrics.Declare("sluice_events_received_total", MetricType::Counter, "Events delivered.\nBy source.");
  metrics.Increment("sluice_events_received_total", {{"source", "hooks"}});
  metrics.Increment("sluice_events_received_total", {{"source", "hooks"}}, 2);
  metrics.Increment("sluice_events_received_total", {{"source", "a\"b\\c\nd"}});
  metrics.Set("sluice_queue_depth", {{"route", "r"}}, 7);
  metrics.Set("sluice_queue_depth", {{"route", "r"}}, 5);
  EXPECT_EQ(metrics.Serialize(),
            "# HELP sluice_events_received_total Events delivered.\\nBy source.\n"
            "# TYPE sluice_events_received_total counter\n"
            "sluice_events_received_total{source=\"a\\\"b\\\\c\\nd\"} 1\n"
            "sluice_events_received_total{source=\"hooks\"} 3\n"
            "# TYPE sluice_queue_depth gauge\n"
            "sluice_queue_depth{route=\"r\"} 5\n");
}

TEST(Metrics, LabelOrderDoesNotMakeANewSeries) {
  MetricsRegistry metrics;
  metrics.Increment("x_total", {{"a", "1"}, {"b", "2"}});
  metrics.Increment("x_total", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(metrics.Value("x_total", {{"a", "1"}, {"b", "2"}}), 2);
  EXPECT_EQ(metrics.Serialize(), "# TYPE x_total counter\nx_total{a=\"1\",b=\"2\"} 2\n");
}

TEST(Metrics, CountersNeverGoDown) {
  MetricsRegistry metrics;
  metrics.Increment("x_total", {}, 3);
  metrics.Increment("x_total", {}, -1);
  EXPECT_EQ(metrics.Value("x_total", {}), 3);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  MetricsRegistry metrics;
  metrics.Declare("d_seconds", MetricType::Histogram, "", {0.1, 1});
  metrics.Observe("d_seconds", {{"route", "r"}}, 0.05);
  metrics.Observe("d_seconds", {{"route", "r"}}, 0.1);  // le is inclusive
  metrics.Observe("d_seconds", {{"route", "r"}}, 0.5);
  metrics.Observe("d_seconds", {{"route", "r"}}, 3);
  EXPECT_EQ(metrics.Serialize(),
            "# TYPE d_seconds histogram\n"
            "d_seconds_count{route=\"r\"} 4\n"
            "d_seconds_sum{route=\"r\"} 3.65\n"
            "d_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{route=\"r\",le=\"1\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n");
  EXPECT_EQ(metrics.Count("d_seconds", {{"route", "r"}}), 4u);
}

TEST(Metrics, FamiliesAreSortedByNameAndGaugesWithSeveralLabelsSortTheirLabelsByName) {
  MetricsRegistry metrics;
  metrics.Declare("sluice_jobs", MetricType::Gauge, "Jobs in the queue by route and state.");
  metrics.Set("sluice_jobs", {{"state", "pending"}, {"route", "b"}}, 2);
  metrics.Set("sluice_jobs", {{"state", "dead"}, {"route", "a"}}, 1.5);
  metrics.Set("sluice_jobs", {{"state", "pending"}, {"route", "a"}}, 0);
  metrics.Increment("a_total", {});
  EXPECT_EQ(metrics.Serialize(),
            "# TYPE a_total counter\n"
            "a_total 1\n"
            "# HELP sluice_jobs Jobs in the queue by route and state.\n"
            "# TYPE sluice_jobs gauge\n"
            "sluice_jobs{route=\"a\",state=\"dead\"} 1.5\n"
            "sluice_jobs{route=\"a\",state=\"pending\"} 0\n"
            "sluice_jobs{route=\"b\",state=\"pending\"} 2\n");
  EXPECT_EQ(metrics.Value("sluice_jobs", {{"route", "a"}, {"state", "dead"}}), 1.5);
}

TEST(Metrics, DeclaredHistogramBucketsApplyToEverySeriesAndUndeclaredOnesGetDurationBuckets) {
  MetricsRegistry metrics;
  metrics.Declare("size_bytes", MetricType::Histogram, "Sizes.", {1024});
  metrics.Observe("size_bytes", {{"route", "a"}}, 10);
  metrics.Observe("size_bytes", {{"route", "b"}}, 4096);
  metrics.Observe("t_seconds", {}, 0.002);
  const std::string text = metrics.Serialize();
  EXPECT_NE(text.find("size_bytes_bucket{route=\"a\",le=\"1024\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size_bytes_bucket{route=\"b\",le=\"1024\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size_bytes_bucket{route=\"b\",le=\"+Inf\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("t_seconds_bucket{le=\"0.001\"} 0\nt_seconds_bucket{le=\"0.005\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t_seconds_bucket{le=\"300\"} 1\nt_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos)
      << text;
}

TEST(Metrics, InvalidNamesAreDroppedWithoutThrowing) {
  MetricsRegistry metrics;
  metrics.Increment("bad name_total", {});
  metrics.Set("good", {{"bad-label", "v"}}, 1);
  metrics.Set("good", {{"ok", "v"}}, 2);
  metrics.Increment("good", {{"ok", "v"}});  // a gauge, not a counter: ignored
  EXPECT_EQ(metrics.Serialize(), "# TYPE good gauge\ngood{ok=\"v\"} 2\n");
}

TEST(Metrics, CollectorsRunAtEachScrapeAndMayClearTheirSeries) {
  MetricsRegistry metrics;
  int scrapes = 0;
  metrics.AddCollector([&scrapes](MetricsRegistry& registry) {
    ++scrapes;
    registry.ClearSeries("jobs");
    registry.Set("jobs", {{"state", scrapes == 1 ? "pending" : "dead"}}, scrapes);
  });
  EXPECT_NE(metrics.Serialize().find("jobs{state=\"pending\"} 1\n"), std::string::npos);
  const std::string second = metrics.Serialize();
  EXPECT_EQ(second.find("pending"), std::string::npos) << second;
  EXPECT_NE(second.find("jobs{state=\"dead\"} 2\n"), std::string::npos) << second;
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 10000; ++i) metrics.Increment("n_total", {{"k", "v"}});
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(metrics.Value("n_total", {{"k", "v"}}), 40000);
}

// --- HttpServer ----------------------------------------------------------------------------

TEST(HttpServer, EphemeralPortIsReportedAndRequestsReachTheHandler) {
  auto server = HttpServer::Start(HttpServerOptions{}, [](const HttpServerRequest& request) {
    HttpServerResponse response;
    response.status = request.method == "POST" ? 201 : 200;
    response.body = request.method + " " + request.path + " " + std::string(request.Header("x-test").value_or("-")) +
                    " " + request.body;
    return response;
  });
  ASSERT_TRUE(server) << server.error().ToString();
  ASSERT_GT((*server)->Port(), 0);
  HttpClient client;
  HttpRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string((*server)->Port()) + "/p?q=1";
  request.headers = {{"X-Test", "yes"}};
  request.body = "hello";
  auto response = client.Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "POST /p yes hello");
  (*server)->Stop();
  (*server)->Stop();  // idempotent
  EXPECT_FALSE(client.Send(request));  // nothing listens any more
}

TEST(HttpServer, PortInUseIsTransient) {
  auto first = HttpServer::Start(HttpServerOptions{}, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  ASSERT_TRUE(first) << first.error().ToString();
  HttpServerOptions options;
  options.port = (*first)->Port();
  auto second = HttpServer::Start(options, [](const HttpServerRequest&) { return HttpServerResponse{}; });
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::Transient);
  EXPECT_NE(second.error().context.find(std::to_string(options.port)), std::string::npos);
}

TEST(HttpServer, BodyOverTheLimitIs413AndTheHandlerNeverRuns) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_body_bytes = 16;
  auto server = HttpServer::Start(options, [&calls](const HttpServerRequest&) {
    ++calls;
    return HttpServerResponse{};
  });
  ASSERT_TRUE(server) << server.error().ToString();
  HttpClient client;
  HttpRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string((*server)->Port()) + "/";
  request.body = "0123456789abcdefX";
  auto response = client.Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(calls, 0);
  request.body = "0123456789abcdef";
  response = client.Send(request);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(calls, 1);
}

TEST(HttpServer, StopWaitsForARequestInProgress) {
  std::atomic<bool> entered{false};
  std::atomic<bool> finished{false};
  auto server = HttpServer::Start(HttpServerOptions{}, [&](const HttpServerRequest&) {
    entered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    finished = true;
    HttpServerResponse response;
    response.body = "slow";
    return response;
  });
  ASSERT_TRUE(server) << server.error().ToString();
  Result<HttpResponse> response = Fail(ErrorCode::Internal, "not sent");
  std::thread client_thread([&] {
    HttpClient client;
    HttpRequest request;
    request.url = "http://127.0.0.1:" + std::to_string((*server)->Port()) + "/";
    response = client.Send(request);
  });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  (*server)->Stop();
  EXPECT_TRUE(finished);
  client_thread.join();
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->body, "slow");
}

}  // namespace
}  // namespace sluice
