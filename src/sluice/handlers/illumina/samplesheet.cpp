#include "sluice/handlers/illumina/samplesheet.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <unordered_set>

namespace sluice::illumina {

namespace {

std::string_view Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// Splits one line into cells: ',' separated, double quotes group (with "" for a quote), cells
/// trimmed, trailing empty cells dropped (Excel pads every row to the widest one).
std::vector<std::string> SplitCells(std::string_view line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false;
  bool was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"' && Trim(cell).empty()) {
      quoted = true;
      was_quoted = true;
      cell.clear();
    } else if (c == ',') {
      cells.emplace_back(was_quoted ? cell : std::string(Trim(cell)));
      cell.clear();
      was_quoted = false;
    } else {
      cell += c;
    }
  }
  cells.emplace_back(was_quoted ? cell : std::string(Trim(cell)));
  while (!cells.empty() && cells.back().empty()) cells.pop_back();
  return cells;
}

bool IsDataSectionName(std::string_view name) {
  return EqualsIgnoreCase(name, "Data") ||
         (name.size() > 5 && EqualsIgnoreCase(name.substr(name.size() - 5), "_Data"));
}

struct Line {
  std::string_view text;
  int number = 0;
};

/// Splits on "\r\n", "\n" or "\r", after dropping a UTF-8 byte-order mark.
std::vector<Line> SplitLines(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<Line> lines;
  int number = 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      lines.push_back({text.substr(start, i - start), number++});
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < text.size()) lines.push_back({text.substr(start), number});
  return lines;
}

}  // namespace

std::vector<std::string> Samplesheet::SampleIds() const {
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  for (const DataSection& section : data) {
    for (const Sample& sample : section.samples) {
      if (seen.insert(sample.id).second) ids.push_back(sample.id);
    }
  }
  return ids;
}

Result<Samplesheet> ParseSamplesheet(std::string_view text) {
  Samplesheet sheet;
  std::vector<std::vector<int>> row_lines;  // line number of each row, per section
  for (const Line& line : SplitLines(text)) {
    std::vector<std::string> cells = SplitCells(line.text);
    if (cells.empty()) continue;                   // blank or ",,,," row
    if (cells.front().starts_with('#')) continue;  // comment
    const std::string& first = cells.front();
    if (first.size() >= 2 && first.front() == '[' && first.back() == ']') {
      sheet.sections.push_back(
          {std::string(Trim(first.substr(1, first.size() - 2))), line.number, {}});
      row_lines.emplace_back();
      continue;
    }
    if (sheet.sections.empty()) continue;  // text before the first section
    sheet.sections.back().rows.push_back(std::move(cells));
    row_lines.back().push_back(line.number);
  }

  for (std::size_t s = 0; s < sheet.sections.size(); ++s) {
    const SamplesheetSection& section = sheet.sections[s];
    if (EqualsIgnoreCase(section.name, "Header")) {
      for (const auto& row : section.rows) {
        if (row.size() >= 2 && EqualsIgnoreCase(row[0], "FileFormatVersion") && row[1] == "2") {
          sheet.version = 2;
        }
      }
    }
    if (!IsDataSectionName(section.name)) continue;
    if (EqualsIgnoreCase(section.name, "BCLConvert_Data")) sheet.version = 2;
    DataSection data;
    data.name = section.name;
    std::size_t header_row = section.rows.size();
    for (std::size_t r = 0; r < section.rows.size() && header_row == section.rows.size(); ++r) {
      const auto& row = section.rows[r];
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (EqualsIgnoreCase(row[c], "Sample_ID")) {
          header_row = r;
          data.sample_id_column = c;
          break;
        }
      }
    }
    if (header_row == section.rows.size()) {
      if (section.rows.empty()) continue;  // an empty data section: nothing to check
      return Fail(ErrorCode::Corrupt,
                  fmt::format("line {}: section [{}] has no header row with a Sample_ID column",
                              section.line, section.name));
    }
    data.columns = section.rows[header_row];
    data.header_line = row_lines[s][header_row];
    std::size_t lane_column = data.columns.size();
    for (std::size_t c = 0; c < data.columns.size(); ++c) {
      if (EqualsIgnoreCase(data.columns[c], "Lane")) lane_column = c;
    }
    for (std::size_t r = header_row + 1; r < section.rows.size(); ++r) {
      const auto& row = section.rows[r];
      const int line = row_lines[s][r];
      if (data.sample_id_column >= row.size() || row[data.sample_id_column].empty()) {
        return Fail(ErrorCode::Corrupt,
                    fmt::format("line {}: [{}] row has an empty Sample_ID", line, section.name));
      }
      Sample sample{row[data.sample_id_column], line, {}};
      if (lane_column < row.size()) sample.lane = row[lane_column];
      data.samples.push_back(std::move(sample));
    }
    sheet.data.push_back(std::move(data));
  }
  if (sheet.data.empty()) {
    return Fail(
        ErrorCode::Corrupt,
        "no data section ([Data], [BCLConvert_Data], [Cloud_Data]) with a Sample_ID header");
  }
  return sheet;
}

std::vector<std::string> SamplesNotMatching(const Samplesheet& sheet, const PyRegex& sample_regex) {
  std::vector<std::string> failing;
  for (const std::string& id : sheet.SampleIds()) {
    if (!sample_regex.Search(id)) failing.push_back(id);
  }
  return failing;
}

bool IsSamplesheetName(std::string_view file_name) {
  // s3_upload's pattern, used with re.search and re.IGNORECASE (research §1.5).
  static const std::regex kPattern(".*sample[-_ ]?sheet.*.csv$",
                                   std::regex::ECMAScript | std::regex::icase);
  return std::regex_search(file_name.begin(), file_name.end(), kPattern);
}

SamplesheetChoice ChooseSamplesheet(std::span<const SamplesheetFile> files) {
  SamplesheetChoice choice;
  for (const SamplesheetFile& file : files) choice.names.push_back(file.name);
  std::sort(choice.names.begin(), choice.names.end());
  if (files.empty()) {
    choice.reason = "no samplesheet in the run folder";
    return choice;
  }
  const bool identical = std::all_of(files.begin(), files.end(), [&](const SamplesheetFile& f) {
    return f.content == files.front().content;
  });
  const bool has_default =
      std::find(choice.names.begin(), choice.names.end(), "SampleSheet.csv") != choice.names.end();
  if (identical || has_default) {
    choice.kind = SamplesheetChoiceKind::Chosen;
    choice.chosen = has_default ? std::string("SampleSheet.csv") : choice.names.front();
    if (!identical) {
      choice.reason = fmt::format("{} samplesheets with different content: using SampleSheet.csv",
                                  files.size());
    }
    return choice;
  }
  choice.kind = SamplesheetChoiceKind::Held;
  choice.reason = fmt::format("{} samplesheets with different content and no SampleSheet.csv: {}",
                              files.size(), fmt::join(choice.names, ", "));
  return choice;
}

}  // namespace sluice::illumina
