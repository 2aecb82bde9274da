#include "sluice/handlers/illumina/run_log.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace sluice::illumina {

namespace {

using Json = nlohmann::ordered_json;

std::unexpected<Error> Corrupt(std::string message) {
  return Fail(ErrorCode::Corrupt, std::move(message), "upload state log");
}

}  // namespace

std::filesystem::path RunLogPath(const std::filesystem::path& log_dir, std::string_view run_id) {
  return log_dir / "uploads" / (std::string(run_id) + ".upload.log.json");
}

Result<RunLog> ParseRunLog(std::string_view json_text) {
  Json json;
  try {
    json = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    return Corrupt(fmt::format("not JSON: {}", e.what()));
  }
  if (!json.is_object()) return Corrupt("not a JSON object");

  RunLog log;
  auto get_string = [&](const char* key, std::string& out) -> Status {
    const auto it = json.find(key);
    if (it == json.end()) return Corrupt(fmt::format("missing key '{}'", key));
    if (!it->is_string()) return Corrupt(fmt::format("'{}' is not a string", key));
    out = it->get<std::string>();
    return Ok();
  };
  auto get_int = [&](const char* key, std::int64_t& out) -> Status {
    const auto it = json.find(key);
    if (it == json.end()) return Corrupt(fmt::format("missing key '{}'", key));
    if (!it->is_number_integer()) return Corrupt(fmt::format("'{}' is not an integer", key));
    out = it->get<std::int64_t>();
    return Ok();
  };

  SLUICE_RETURN_IF_ERROR(get_string("run_id", log.run_id));
  if (json.contains("run_path")) {
    SLUICE_RETURN_IF_ERROR(get_string("run_path", log.run_path));
  } else if (json.contains("run path")) {
    SLUICE_RETURN_IF_ERROR(get_string("run path", log.run_path));
    log.legacy_run_path_key = true;
  } else {
    return Corrupt("missing key 'run_path'");
  }
  const auto completed = json.find("completed");
  if (completed == json.end()) return Corrupt("missing key 'completed'");
  if (!completed->is_boolean()) return Corrupt("'completed' is not a boolean");
  log.completed = completed->get<bool>();
  SLUICE_RETURN_IF_ERROR(get_int("total_local_files", log.total_local_files));
  SLUICE_RETURN_IF_ERROR(get_int("total_uploaded_files", log.total_uploaded_files));
  SLUICE_RETURN_IF_ERROR(get_int("total_failed_upload", log.total_failed_upload));

  const auto failed = json.find("failed_upload_files");
  if (failed == json.end()) return Corrupt("missing key 'failed_upload_files'");
  if (!failed->is_array()) return Corrupt("'failed_upload_files' is not a list");
  for (const auto& item : *failed) {
    if (!item.is_string()) return Corrupt("'failed_upload_files' holds a non-string");
    log.failed_upload_files.push_back(item.get<std::string>());
  }
  const auto uploaded = json.find("uploaded_files");
  if (uploaded == json.end()) return Corrupt("missing key 'uploaded_files'");
  if (!uploaded->is_object()) return Corrupt("'uploaded_files' is not an object");
  for (const auto& [path, etag] : uploaded->items()) {
    if (!etag.is_string()) {
      return Corrupt(fmt::format("'uploaded_files' value for '{}' is not a string", path));
    }
    log.uploaded_files.emplace_back(path, etag.get<std::string>());
  }
  return log;
}

std::string FormatRunLog(const RunLog& log) {
  Json json = Json::object();
  json["run_id"] = log.run_id;
  json[log.legacy_run_path_key ? "run path" : "run_path"] = log.run_path;
  json["completed"] = log.completed;
  json["total_local_files"] = log.total_local_files;
  json["total_uploaded_files"] = log.total_uploaded_files;
  json["total_failed_upload"] = log.total_failed_upload;
  json["failed_upload_files"] = log.failed_upload_files;
  Json uploaded = Json::object();
  for (const auto& [path, etag] : log.uploaded_files) uploaded[path] = etag;
  json["uploaded_files"] = std::move(uploaded);
  // Python's json.dump(indent=4): ensure_ascii escapes everything outside ' '..'~' as \uXXXX,
  // as nlohmann's ensure_ascii does; invalid UTF-8 in a path becomes U+FFFD instead of throwing.
  return json.dump(4, ' ', true, Json::error_handler_t::replace);
}

RunLog MergeUploadPass(const std::optional<RunLog>& existing, const UploadPass& pass) {
  RunLog log;
  if (existing) {
    log = *existing;
  } else {
    log.run_id = pass.run_id;
    log.run_path = pass.run_path;
    log.total_local_files = pass.local_files;
  }
  log.total_uploaded_files += static_cast<std::int64_t>(pass.uploaded.size());
  log.total_failed_upload = static_cast<std::int64_t>(pass.failed.size());
  log.failed_upload_files = pass.failed;
  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < log.uploaded_files.size(); ++i) {
    index.emplace(log.uploaded_files[i].first, i);
  }
  for (const auto& [path, etag] : pass.uploaded) {
    const auto it = index.find(path);
    if (it != index.end()) {
      log.uploaded_files[it->second].second = etag;
    } else {
      index.emplace(path, log.uploaded_files.size());
      log.uploaded_files.emplace_back(path, etag);
    }
  }
  if (pass.failed.empty() && pass.local_files == log.total_uploaded_files) log.completed = true;
  return log;
}

UploadState StateOf(const std::optional<RunLog>& log) {
  if (!log) return UploadState::New;
  return log->completed ? UploadState::Uploaded : UploadState::Partial;
}

std::vector<std::string> UploadedRelativePaths(const RunLog& log, std::string_view run_path) {
  std::string prefix(run_path.empty() ? std::string_view(log.run_path) : run_path);
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix += '/';
  std::vector<std::string> paths;
  for (const auto& [path, etag] : log.uploaded_files) {
    if (path.starts_with(prefix)) {
      paths.push_back(path.substr(prefix.size()));
    } else if (!path.starts_with('/')) {
      paths.push_back(path);
    }
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

}  // namespace sluice::illumina
