#include "sluice/handlers/illumina/run_rules.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <map>
#include <pugixml.hpp>
#include <utility>

namespace sluice::illumina {

namespace {

// S3 object keys are at most 1,024 bytes of UTF-8 (AWS S3 User Guide, "Naming Amazon S3
// objects").
constexpr std::size_t kMaxObjectKeyBytes = 1024;

constexpr std::string_view kRunInfo = "RunInfo.xml";
constexpr std::string_view kCopyComplete = "CopyComplete.txt";
constexpr std::string_view kRtaCompleteTxt = "RTAComplete.txt";
constexpr std::string_view kRtaCompleteXml = "RTAComplete.xml";
constexpr std::string_view kBasecallingNetcopy = "Basecalling_Netcopy_complete.txt";

/// Text of the first element named `name` anywhere in the document (trimmed), or "".
std::string FirstText(const pugi::xml_document& doc, const char* name) {
  const std::string xpath = fmt::format("//{}", name);
  const pugi::xpath_node node = doc.select_node(xpath.c_str());
  if (!node) return {};
  std::string text = node.node().text().get();
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

/// The instrument a control-software name or type names, or Unknown.
Instrument FromSoftwareName(std::string_view name) {
  if (Contains(name, "NovaSeqX") || Contains(name, "NovaSeq X")) return Instrument::NovaSeqX;
  if (Contains(name, "NovaSeq")) return Instrument::NovaSeq6000;
  if (Contains(name, "NextSeq 1000") || Contains(name, "NextSeq 2000") ||
      Contains(name, "NextSeq1000") || Contains(name, "NextSeq2000")) {
    return Instrument::NextSeq2000;
  }
  if (Contains(name, "NextSeq")) return Instrument::NextSeq500;
  if (Contains(name, "MiniSeq")) return Instrument::MiniSeq;
  if (Contains(name, "MiSeq")) return Instrument::MiSeq;
  if (Contains(name, "HiSeq")) return Instrument::HiSeq;  // before "iSeq", its substring
  if (Contains(name, "iSeq")) return Instrument::ISeq;
  return Instrument::Unknown;
}

/// Instrument-id prefixes (RunInfo.xml `Instrument`), longest first.
struct Prefix {
  std::string_view prefix;
  Instrument instrument;
};
constexpr std::array<Prefix, 13> kPrefixes{{
    {"ST-E", Instrument::HiSeq},
    {"MN", Instrument::MiniSeq},
    {"FS", Instrument::ISeq},
    {"NB", Instrument::NextSeq500},
    {"NS", Instrument::NextSeq500},
    {"VH", Instrument::NextSeq2000},
    {"VL", Instrument::NextSeq2000},
    {"LH", Instrument::NovaSeqX},
    {"SN", Instrument::HiSeq},
    {"M", Instrument::MiSeq},
    {"A", Instrument::NovaSeq6000},
    {"D", Instrument::HiSeq},
    {"K", Instrument::HiSeq},
}};

Instrument FromInstrumentId(std::string_view id, std::string_view* matched) {
  for (const auto& [prefix, instrument] : kPrefixes) {
    // A prefix counts only when a digit follows ("M00146", not "ML-PT1-15").
    if (id.starts_with(prefix) && id.size() > prefix.size() &&
        (id[prefix.size()] >= '0' && id[prefix.size()] <= '9')) {
      *matched = prefix;
      return instrument;
    }
  }
  for (std::string_view prefix : {"J", "E"}) {  // HiSeq 3000 and HiSeq X
    if (id.starts_with(prefix) && id.size() > 1 && id[1] >= '0' && id[1] <= '9') {
      *matched = prefix;
      return Instrument::HiSeq;
    }
  }
  return Instrument::Unknown;
}

bool IsCompletionMarker(std::string_view name, Instrument instrument, CompletionPolicy policy) {
  const bool any_s3_upload =
      name == kCopyComplete || name == kRtaCompleteTxt || name == kRtaCompleteXml;
  if (policy == CompletionPolicy::AnyMarker) return any_s3_upload;
  switch (instrument) {
    case Instrument::NovaSeq6000:
    case Instrument::NovaSeqX:
    case Instrument::NextSeq2000:
      return name == kCopyComplete;
    default:
      return any_s3_upload || name == kBasecallingNetcopy;
  }
}

std::string_view RequiredMarkers(Instrument instrument, CompletionPolicy policy) {
  if (policy == CompletionPolicy::AnyMarker) {
    return "CopyComplete.txt, RTAComplete.txt or RTAComplete.xml";
  }
  switch (instrument) {
    case Instrument::NovaSeq6000:
    case Instrument::NovaSeqX:
    case Instrument::NextSeq2000:
      return "CopyComplete.txt";
    default:
      return "CopyComplete.txt, RTAComplete.txt, RTAComplete.xml or "
             "Basecalling_Netcopy_complete.txt";
  }
}

/// Splits on '/', dropping empty and "." segments; false when a ".." segment is present.
bool SplitSegments(std::string_view path, std::vector<std::string_view>& segments) {
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") return false;
    if (!segment.empty() && segment != ".") segments.push_back(segment);
    start = end + 1;
  }
  return true;
}

Status CheckRunFolderName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || Contains(name, "/")) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("'{}' is not a run folder name (a single path segment)", name),
                "object key");
  }
  return Ok();
}

}  // namespace

std::string_view ToString(Instrument instrument) {
  switch (instrument) {
    case Instrument::Unknown:
      return "unknown";
    case Instrument::MiSeq:
      return "MiSeq";
    case Instrument::MiniSeq:
      return "MiniSeq";
    case Instrument::ISeq:
      return "iSeq";
    case Instrument::NextSeq500:
      return "NextSeq 500/550";
    case Instrument::NextSeq2000:
      return "NextSeq 1000/2000";
    case Instrument::HiSeq:
      return "HiSeq";
    case Instrument::NovaSeq6000:
      return "NovaSeq 6000";
    case Instrument::NovaSeqX:
      return "NovaSeq X";
  }
  return "unknown";
}

InstrumentGuess GuessInstrument(std::string_view run_parameters_xml,
                                std::string_view run_info_xml) {
  InstrumentGuess guess;
  pugi::xml_document info;
  if (!run_info_xml.empty() && info.load_buffer(run_info_xml.data(), run_info_xml.size())) {
    guess.instrument_id = FirstText(info, "Instrument");
    guess.flowcell = FirstText(info, "Flowcell");
    if (const pugi::xpath_node run = info.select_node("//Run")) {
      guess.run_id = run.node().attribute("Id").as_string();
    }
  }
  pugi::xml_document params;
  if (!run_parameters_xml.empty() &&
      params.load_buffer(run_parameters_xml.data(), run_parameters_xml.size())) {
    // Most specific first: NovaSeq X names itself only in InstrumentType on early software
    // ("control-software" as Application).
    for (const char* element : {"InstrumentType", "ApplicationName", "Application", "Flowcell"}) {
      const std::string value = FirstText(params, element);
      const Instrument instrument = FromSoftwareName(value);
      if (instrument != Instrument::Unknown) {
        guess.instrument = instrument;
        guess.evidence = fmt::format("RunParameters.xml {} '{}'", element, value);
        return guess;
      }
    }
  }
  std::string_view prefix;
  const Instrument by_id = FromInstrumentId(guess.instrument_id, &prefix);
  if (by_id != Instrument::Unknown) {
    guess.instrument = by_id;
    guess.evidence =
        fmt::format("RunInfo.xml Instrument '{}' (prefix {})", guess.instrument_id, prefix);
  }
  return guess;
}

RunCompletion EvaluateCompletion(std::span<const std::string> root_file_names,
                                 InstrumentGuess guess, CompletionPolicy policy) {
  RunCompletion result;
  result.instrument = std::move(guess);
  const Instrument instrument = result.instrument.instrument;
  for (const std::string& name : root_file_names) {
    if (name == kRunInfo) result.is_run = true;
    if (MarkerRank(name) > 0) result.markers_present.push_back(name);
  }
  std::sort(result.markers_present.begin(), result.markers_present.end());
  if (!result.is_run) {
    result.reason = "no RunInfo.xml: not a run folder";
    return result;
  }
  // Prefer the strongest marker when several prove completion (CopyComplete over RTAComplete).
  int best_rank = 0;
  for (const std::string& name : result.markers_present) {
    if (IsCompletionMarker(name, instrument, policy) && MarkerRank(name) > best_rank) {
      best_rank = MarkerRank(name);
      result.marker = name;
    }
  }
  if (!result.marker.empty()) {
    result.complete = true;
    return result;
  }
  const std::string who = instrument == Instrument::Unknown
                              ? std::string("run of unknown instrument")
                              : fmt::format("{} run", ToString(instrument));
  result.reason = fmt::format("{}: waiting for {}", who, RequiredMarkers(instrument, policy));
  if (!result.markers_present.empty()) {
    result.reason += fmt::format(" (present: {})", fmt::join(result.markers_present, ", "));
  }
  return result;
}

int MarkerRank(std::string_view relative_path) {
  if (Contains(relative_path, "/")) return 0;
  const std::string_view name = relative_path;
  if (name == kCopyComplete) return 4;
  if (name == "SequenceComplete.txt" || name == "RunCompletionStatus.xml") return 3;
  if (name == kRtaCompleteTxt || name == kRtaCompleteXml || name == "RTAExited.txt" ||
      name == kBasecallingNetcopy) {
    return 2;
  }
  if (name.starts_with("RTARead") && name.ends_with("Complete.txt")) return 1;
  if (Contains(name, "_Netcopy_complete") && name.ends_with(".txt")) return 1;
  return 0;
}

Result<ExcludeFilter> ExcludeFilter::Compile(std::span<const std::string> patterns) {
  ExcludeFilter filter;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    auto compiled = PyRegex::Compile(patterns[i]);
    if (!compiled) {
      return Fail(std::move(compiled).error().WithContext(fmt::format("exclude_patterns[{}]", i)));
    }
    filter.patterns_.push_back(std::move(*compiled));
  }
  return filter;
}

bool ExcludeFilter::Excludes(std::string_view absolute_path) const {
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const PyRegex& regex) { return regex.Search(absolute_path); });
}

void SortForUpload(std::vector<RunFile>& files) {
  std::sort(files.begin(), files.end(), [](const RunFile& a, const RunFile& b) {
    if (a.marker_rank != b.marker_rank) return a.marker_rank < b.marker_rank;
    if (a.marker_rank == 0 && a.size_bytes != b.size_bytes) return a.size_bytes > b.size_bytes;
    return a.relative_path < b.relative_path;
  });
}

Result<std::string> NormaliseRemotePath(std::string_view remote_path) {
  std::vector<std::string_view> segments;
  if (!SplitSegments(remote_path, segments)) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("remote_path '{}' has a '..' segment", remote_path), "object key");
  }
  return fmt::format("{}", fmt::join(segments, "/"));
}

Result<std::string> RunKeyPrefix(std::string_view remote_path, std::string_view run_folder_name) {
  SLUICE_RETURN_IF_ERROR(CheckRunFolderName(run_folder_name));
  SLUICE_ASSIGN_OR_RETURN(std::string prefix, NormaliseRemotePath(remote_path));
  if (!prefix.empty()) prefix += '/';
  prefix += run_folder_name;
  prefix += '/';
  return prefix;
}

Result<std::string> BuildObjectKey(std::string_view remote_path, std::string_view run_folder_name,
                                   std::string_view relative_path) {
  SLUICE_ASSIGN_OR_RETURN(std::string key, RunKeyPrefix(remote_path, run_folder_name));
  bool bad = relative_path.empty() || relative_path.starts_with('/');
  std::size_t start = 0;
  while (!bad && start <= relative_path.size()) {
    std::size_t end = relative_path.find('/', start);
    if (end == std::string_view::npos) end = relative_path.size();
    const std::string_view segment = relative_path.substr(start, end - start);
    bad = segment.empty() || segment == "." || segment == "..";
    start = end + 1;
  }
  if (bad) {
    return Fail(ErrorCode::InvalidArgument,
                fmt::format("'{}' is not a relative path inside the run folder", relative_path),
                "object key");
  }
  key += relative_path;
  if (key.size() > kMaxObjectKeyBytes) {
    return Fail(
        ErrorCode::InvalidArgument,
        fmt::format("key is {} bytes, over S3's limit of {}", key.size(), kMaxObjectKeyBytes),
        key.substr(0, 64) + "…");
  }
  return key;
}

SnapshotDiff CompareSnapshots(std::span<const RunFile> before, std::span<const RunFile> after) {
  std::map<std::string_view, const RunFile*> old_files;
  for (const RunFile& file : before) old_files.emplace(file.relative_path, &file);
  SnapshotDiff diff;
  for (const RunFile& file : after) {
    const auto it = old_files.find(file.relative_path);
    if (it == old_files.end()) {
      diff.appeared.push_back(file.relative_path);
      continue;
    }
    if (it->second->size_bytes != file.size_bytes || it->second->mtime != file.mtime) {
      diff.changed.push_back(file.relative_path);
    }
    old_files.erase(it);
  }
  for (const auto& [path, file] : old_files) diff.disappeared.emplace_back(path);
  std::sort(diff.changed.begin(), diff.changed.end());
  std::sort(diff.appeared.begin(), diff.appeared.end());
  return diff;
}

bool WithinMaxAge(std::chrono::system_clock::time_point run_info_mtime,
                  std::chrono::system_clock::time_point now, std::chrono::hours max_age) {
  return run_info_mtime > now - max_age;
}

std::string_view ToString(RunEligibility eligibility) {
  switch (eligibility) {
    case RunEligibility::Upload:
      return "upload";
    case RunEligibility::Resume:
      return "resume";
    case RunEligibility::AlreadyUploaded:
      return "already uploaded";
    case RunEligibility::TooOld:
      return "too old";
  }
  return "unknown";
}

RunEligibility DecideEligibility(UploadState state,
                                 std::chrono::system_clock::time_point run_info_mtime,
                                 std::chrono::system_clock::time_point now,
                                 std::chrono::hours max_age) {
  switch (state) {
    case UploadState::Uploaded:
      return RunEligibility::AlreadyUploaded;
    case UploadState::Partial:
      return RunEligibility::Resume;
    case UploadState::New:
      break;
  }
  return WithinMaxAge(run_info_mtime, now, max_age) ? RunEligibility::Upload
                                                    : RunEligibility::TooOld;
}

}  // namespace sluice::illumina
