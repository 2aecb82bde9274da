#include "sluice/core/log.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/basic_file_sink.h>

#include <cctype>
#include <utility>
#include <spdlog/sinks/stdout_sinks.h>

namespace sluice {
namespace {

thread_local LogContext t_context;

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::string Timestamp(spdlog::log_clock::time_point time, bool iso) {
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(time);
  return iso ? fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", ms) : fmt::format("{:%Y-%m-%d %H:%M:%S}", ms);
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto out = std::back_inserter(dest);
    fmt::format_to(out, R"({{"ts":"{}","level":"{}","msg":"{}")", Timestamp(msg.time, true),
                   LevelName(msg.level),
                   JsonEscape(std::string_view(msg.payload.data(), msg.payload.size())));
    if (!t_context.route.empty()) fmt::format_to(out, R"(,"route":"{}")", JsonEscape(t_context.route));
    if (!t_context.job.empty()) fmt::format_to(out, R"(,"job":"{}")", JsonEscape(t_context.job));
    if (!t_context.key.empty()) fmt::format_to(out, R"(,"key":"{}")", JsonEscape(t_context.key));
    fmt::format_to(out, "}}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

class HumanFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    auto out = std::back_inserter(dest);
    fmt::format_to(out, "{} {:<5} ", Timestamp(msg.time, false), LevelName(msg.level));
    if (!t_context.route.empty() || !t_context.job.empty()) {
      fmt::format_to(out, "[{} job={} {}] ", t_context.route, t_context.job, t_context.key);
    }
    dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<HumanFormatter>();
  }
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "auto") return LogFormat::Auto;
  if (text == "human" || text == "text") return LogFormat::Human;
  if (text == "json") return LogFormat::Json;
  return Fail(ErrorCode::InvalidArgument,
              fmt::format("unknown log format '{}': expected auto, human or json", text));
}

Status InitLogging(LogFormat format, std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("unknown log level '{}': expected debug, info, warn or error", level));
  }
  if (format == LogFormat::Auto) format = isatty(STDERR_FILENO) ? LogFormat::Human : LogFormat::Json;
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (format == LogFormat::Json) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<HumanFormatter>());
  }
  auto logger = std::make_shared<spdlog::logger>("sluice", sink);
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Ok();
}

Status AddLogFile(const std::string& path) {
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
    sink->set_formatter(std::make_unique<HumanFormatter>());
    spdlog::default_logger()->sinks().push_back(std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return Fail(ErrorCode::PermissionDenied, fmt::format("cannot open the log file: {}", e.what()),
                path);
  }
  return Ok();
}

Status SetLogLevel(std::string_view level) {
  std::string lower(level);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "warning") lower = "warn";
  if (lower == "fatal" || lower == "critical") lower = "critical";
  if (lower == "notset") lower = "trace";
  const auto parsed = spdlog::level::from_str(lower);
  if (parsed == spdlog::level::off && lower != "off") {
    return Fail(ErrorCode::InvalidArgument, fmt::format("unknown log level '{}'", level));
  }
  spdlog::default_logger()->set_level(parsed);
  return Ok();
}

LogScope::LogScope(std::string route, std::string job, std::string key)
    : saved_(std::exchange(t_context, LogContext{std::move(route), std::move(job), std::move(key)})) {}

LogScope::LogScope(const LogContext& context) : saved_(std::exchange(t_context, context)) {}

LogScope::~LogScope() { t_context = std::move(saved_); }

LogContext CurrentLogContext() { return t_context; }

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

}  // namespace sluice
