#pragma once
/// Illumina samplesheets: v1 (IEM/bcl2fastq, `[Data]`) and v2 (BCL Convert, `[BCLConvert_Data]`,
/// `[Cloud_Data]`, and other `[*_Data]` application sections), parsed section by section.
///
/// s3_upload took every line after the single line *starting* with `Sample_ID` as a sample, to
/// the end of the file, so `Lane,Sample_ID,…` headers (all v2 sheets, v1 sheets with lanes)
/// failed and trailing sections became "samples" (research/s3_upload.md §1.5, bug B6). Here the
/// header row of each data section is found by its `Sample_ID` column wherever that column
/// stands, and a data section ends at the next `[Section]`.
///
/// Pure functions on text; ReadSamplesheets (run_folder.hpp) reads the files.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/core/error.hpp"
#include "sluice/handlers/illumina/py_regex.hpp"

namespace sluice::illumina {

/// One `[Name]` section: its non-blank rows as cells (trimmed, trailing empty cells removed).
struct SamplesheetSection {
  std::string name;  ///< between the brackets, e.g. "Header", "BCLConvert_Data"
  int line = 0;      ///< 1-based line of the `[Name]` row
  std::vector<std::vector<std::string>> rows;  ///< non-blank, non-comment rows after it
};

/// One sample row of a data section.
struct Sample {
  std::string id;    ///< the `Sample_ID` cell, trimmed
  int line = 0;      ///< 1-based line in the file
  std::string lane;  ///< the `Lane` cell when the section has that column, else empty
};

/// A data section (`[Data]` or `[…_Data]`) with its header row and samples.
struct DataSection {
  std::string name;                  ///< e.g. "Data", "BCLConvert_Data", "Cloud_Data"
  int header_line = 0;               ///< 1-based line of the header row
  std::vector<std::string> columns;  ///< header cells, e.g. {"Lane","Sample_ID","Index",…}
  std::size_t sample_id_column = 0;  ///< index of "Sample_ID" in `columns`
  std::vector<Sample> samples;       ///< rows after the header, in file order
};

/// A parsed samplesheet. Immutable after parsing.
struct Samplesheet {
  /// 2 when `[Header]` has `FileFormatVersion,2` or a `[BCLConvert_Data]` section exists;
  /// 1 otherwise (IEM `IEMFileVersion`, bcl2fastq).
  int version = 1;
  std::vector<SamplesheetSection> sections;  ///< every section, in file order
  std::vector<DataSection> data;             ///< the data sections, in file order
  /// Distinct sample ids over all data sections, in first-seen order (a sample on several
  /// lanes, or in both `[BCLConvert_Data]` and `[Cloud_Data]`, appears once).
  [[nodiscard]] std::vector<std::string> SampleIds() const;
};

/// Parses samplesheet text. Tolerates a UTF-8 BOM, CRLF / LF / CR line ends, blank lines,
/// Excel's padding commas (`[Header],,,,`, `,,,,` rows), spaces around cells, double-quoted
/// cells (RFC 4180 `""` escapes), and `#` comment lines. Rows before the first section are
/// ignored. A section named `Data` or ending in `_Data` is a data section: its header is the
/// first row with a cell equal (case-insensitively) to `Sample_ID`; rows before that header are
/// ignored. Errors (Corrupt, "line N: …"): no data section; a data section with rows but no
/// `Sample_ID` header; a sample row whose `Sample_ID` cell is empty. A data section with a
/// header and no rows parses (zero samples). Thread-safe.
Result<Samplesheet> ParseSamplesheet(std::string_view text);

/// The sample ids of `sheet` that `sample_regex` does not `re.search`-match; empty when every
/// sample matches (s3_upload's `check_all_uploadable_samples`, research §1.4 step 4).
/// Thread-safe.
std::vector<std::string> SamplesNotMatching(const Samplesheet& sheet, const PyRegex& sample_regex);

/// True for a samplesheet file name: s3_upload's case-insensitive `.*sample[-_ ]?sheet.*.csv$`
/// (research §1.5): "SampleSheet.csv", "SAMPLESHEET.CSV", "run_sample-sheet_v2.csv" yes;
/// "SampleSheet.txt", "SampleSheet.csv.0", "sample_1.csv" no. Thread-safe.
bool IsSamplesheetName(std::string_view file_name);

/// A samplesheet file found in a run root.
struct SamplesheetFile {
  std::string name;     ///< file name in the run root, e.g. "SampleSheet.csv"
  std::string content;  ///< its bytes
};

/// Outcome of ChooseSamplesheet.
enum class SamplesheetChoiceKind {
  Chosen,   ///< one sheet to use: `chosen`
  Missing,  ///< the run root has no samplesheet
  Held,     ///< several sheets with different content and no SampleSheet.csv among them
};

/// Which samplesheet of a run to use.
struct SamplesheetChoice {
  SamplesheetChoiceKind kind = SamplesheetChoiceKind::Missing;
  std::string chosen;              ///< file name, when Chosen
  std::vector<std::string> names;  ///< every samplesheet file name found (sorted)
  /// Why, for logs and the one alert the caller sends for a held run, e.g.
  /// "2 samplesheets with different content: CorrectSampleSheet.csv, SampleSheet2.csv".
  std::string reason;
};

/// Picks the samplesheet among `files` (research §1.5): none → Missing; one, or several with
/// identical bytes → Chosen (`SampleSheet.csv` if among them, else the first by name); several
/// that differ → Chosen `SampleSheet.csv` when present (the instrument's own copy; s3_upload
/// skipped such runs forever), otherwise Held with the names. Thread-safe.
SamplesheetChoice ChooseSamplesheet(std::span<const SamplesheetFile> files);

}  // namespace sluice::illumina
