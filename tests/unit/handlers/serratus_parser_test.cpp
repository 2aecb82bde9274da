// Parser tests for Serratus summaries, built from the verbatim example lines of
// research/serratus.md §1.1 (summary2), §1.2 (psummary) and §1.3 (rsummary).

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/handlers/serratus/summary_json.hpp"
#include "sluice/handlers/serratus/summary_parser.hpp"
#include "support/serratus_lines.hpp"

namespace sluice::serratus {
namespace {

using namespace sluice::serratus::testing;  // the verbatim §1.1 lines

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::string_view kSequenceHq =
    "seqcvg=:a..__uu__a_________o____;seq=HQ728485.1;score=28;pctid=85;depth=0.7;aln=119;glb=98;"
    "len=13015;family=Coronaviridae;name=Miniopterus bat coronavirus/Kenya/KY33/2006 polyprotein "
    "(ORF1ab) gene, partial cds; and spike protein (S), ORF3 protein (ORF3), envelope protein (E), "
    "membrane protein (M), nucleocapsid protein (N), and hypothetical protein ORFx (ORFx) genes, "
    "complete cds;\n";
constexpr std::string_view kHqName =
    "Miniopterus bat coronavirus/Kenya/KY33/2006 polyprotein (ORF1ab) gene, partial cds; and spike "
    "protein (S), ORF3 protein (ORF3), envelope protein (E), membrane protein (M), nucleocapsid "
    "protein (N), and hypothetical protein ORFx (ORFx) genes, complete cds";

std::string NucleotideFile() {
  return std::string(kRunLine) + std::string(kFamilyAmr) + std::string(kFamilyCorona) +
         std::string(kSequenceAmr) + std::string(kSequenceEu) + std::string(kSequenceHq);
}

// §1.2: line 1 verbatim (notebook 201213); the family/gene/sequence lines are the Dicistro
// notebook's with the `sra=` prefix restored, as the generator writes them.
constexpr std::string_view kProteinFile =
    "sra=SRR11780077;SUMZER_COMMENT=sra=SRR11780077,genome=rdrp0,date=201214-05:07,type=protein;"
    "totalalns=18349;readlength=72;truncated=no;\n"
    "sra=SRR11780077;famcvg=.ww:uuawwwwawaauuwwuwowwu;fam=Dicistroviridae;score=100;pctid=68;"
    "alns=265;avgcols=31;\n"
    "sra=SRR11780077;famcvg=_AAUmWmmWAmoAAWMAUmmU:OW_;fam=Deltavirus;score=100;pctid=83;"
    "alns=11028;avgcols=39;\n"
    "sra=SRR11780077;gencvg=_::_::awwwww.::::uwuuowwu;gen=Dicistroviridae.ORF1;score=78;pctid=68;"
    "alns=186;avgcols=32;\n"
    "sra=SRR11780077;seqcvg=__.___:_.uuw_____.:._____;seq=Dicistroviridae.ORF1.KJ938718.1;"
    "score=20;pctid=61;alns=29;avgcols=32;\n";

// §1.3: DRR015317 lines as reconstructed there, plus the pilot's `vir` line (with depth and a
// `cat`, which the final format adds).
constexpr std::string_view kRdrpFile =
    "sra=DRR015317;SUMZER_COMMENT=sra=DRR015317,genome=rdrp1,date=210109-10:00,type=protein;"
    "totalalns=3;readlength=100;truncated=no;\n"
    "sra=DRR015317;phycvg=_________________._______;phy=pisu;score=2;depth=0.1;pctid=50;alns=1;"
    "avgcols=26;\n"
    "sra=DRR015317;famcvg=_________________._______;fam=pisu.Unc159;score=2;depth=0.1;pctid=50;"
    "alns=1;avgcols=26;\n"
    "sra=DRR015317;famcvg=__.______________________;fam=kiti.Tombusviridae-14;score=1;depth=0.0;"
    "pctid=67;alns=1;avgcols=21;\n"
    "sra=DRR015317;vircvg=_________________._______;vir=pisu.Unc159.picalivirus_c:AFR11839;"
    "score=2;depth=0.1;pctid=50;alns=1;avgcols=26;\n"
    "sra=DRR015317;vircvg=:_:u._.:._:_:_:::..:_.._u;"
    "vir=pisu.Caliciviridae.sapovirus_hu_gi_sapporo_mt_2010_1982:ADG03646;cat=n;score=21;"
    "depth=2.3;pctid=87;alns=38;avgcols=57;\n";

/// Replaces the first occurrence of `from` in `text` (which must contain it).
std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

/// Parses text that must fail; returns the error message (Corrupt asserted).
std::string ParseError(SummaryKind kind, std::string text) {
  auto parsed = ParseSummary(kind, std::move(text));
  EXPECT_FALSE(parsed.has_value());
  if (parsed) return {};
  EXPECT_EQ(parsed.error().code, ErrorCode::Corrupt) << parsed.error().ToString();
  return parsed.error().message;
}

std::string Keys(const ParsedSummary& summary, const Record& record) {
  std::string keys;
  for (const Field& field : summary.Fields(record)) {
    if (!keys.empty()) keys += ',';
    keys += field.key;
  }
  return keys;
}

// ---- nucleotide ---------------------------------------------------------------------------

TEST(SummaryParser, ParsesTheNucleotideExampleLinesOfTheResearch) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, NucleotideFile());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const ParsedSummary& summary = *parsed;
  EXPECT_EQ(summary.Kind(), SummaryKind::Nucleotide);
  EXPECT_EQ(summary.RunId(), "ERR2756788");
  ASSERT_EQ(summary.Records().size(), 6U);
  EXPECT_EQ(summary.Count(RecordType::Run), 1U);
  EXPECT_EQ(summary.Count(RecordType::Family), 2U);
  EXPECT_EQ(summary.Count(RecordType::Sequence), 3U);

  const Record& run = summary.Run();
  EXPECT_EQ(run.type, RecordType::Run);
  EXPECT_EQ(run.line, 1);
  EXPECT_EQ(run.id, "ERR2756788");
  EXPECT_EQ(Keys(summary, run), "readlength,sra,genome,version,date");
  EXPECT_EQ(summary.Find(run, "readlength")->integer, 150);
  EXPECT_EQ(summary.Find(run, "date")->text, "200817-21:05");

  const Record& amr = summary.Records()[1];
  EXPECT_EQ(amr.type, RecordType::Family);
  EXPECT_EQ(amr.line, 2);
  EXPECT_EQ(amr.id, "AMR");
  EXPECT_EQ(Keys(summary, amr),
            "famcvg,fam,score,pctid,depth,aln,glb,len,top,topscore,toplen,topname");
  EXPECT_EQ(summary.Find(amr, "famcvg")->text, "mooaoooUmmmmmooooaaoawwwm");
  EXPECT_EQ(summary.Find(amr, "score")->integer, 100);
  EXPECT_EQ(summary.Find(amr, "depth")->type, FieldType::Real);
  EXPECT_DOUBLE_EQ(summary.Find(amr, "depth")->real, 214.8);
  EXPECT_EQ(summary.Find(amr, "depth")->text, "214.8");
  EXPECT_EQ(summary.Find(amr, "aln")->integer, 1382);
  EXPECT_EQ(summary.Find(amr, "toplen")->integer, 861);
  EXPECT_EQ(summary.Find(amr, "topname")->text, "TEM-11,Proteus mirabilis");
  EXPECT_EQ(summary.Find(amr, "topname")->type, FieldType::Text);

  const Record& hq = summary.Records()[5];
  EXPECT_EQ(hq.type, RecordType::Sequence);
  EXPECT_EQ(hq.line, 6);
  EXPECT_EQ(hq.id, "HQ728485.1");
  EXPECT_EQ(Keys(summary, hq), "seqcvg,seq,score,pctid,depth,aln,glb,len,family,name");
  EXPECT_EQ(summary.Find(hq, "name")->text, kHqName);
  EXPECT_DOUBLE_EQ(summary.Find(hq, "depth")->real, 0.7);
  EXPECT_EQ(summary.Find(hq, "family")->text, "Coronaviridae");
  EXPECT_EQ(summary.Find(hq, "nope"), nullptr);
}

TEST(SummaryParser, LastNucleotideFieldKeepsSemicolonsAndEqualsSigns) {
  const std::string file =
      std::string(kRunLine) +
      "seqcvg=aUAUmmm__________________;seq=X1.1;score=45;pctid=85;depth=9.6;aln=1694;glb=399;"
      "len=14335;family=Coronaviridae;name=a=b; c;name=d;;\n";
  auto parsed = ParseSummary(SummaryKind::Nucleotide, file);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  // Trailing ';' are stripped, as the uploader's strip(';\n') does.
  EXPECT_EQ(parsed->Find(parsed->Records()[1], "name")->text, "a=b; c;name=d");
}

TEST(SummaryParser, LastKeyIsOnlyRecognisedAtAFieldStart) {
  // "topname" inside the `top` value or as a suffix of another key must not start the last field.
  const std::string file = Replace(NucleotideFile(), "top=AY874537_3000883", "top=xtopname");
  auto parsed = ParseSummary(SummaryKind::Nucleotide, file);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->Find(parsed->Records()[1], "top")->text, "xtopname");
  EXPECT_EQ(parsed->Find(parsed->Records()[1], "topname")->text, "TEM-11,Proteus mirabilis");
}

TEST(SummaryParser, RunLineAloneIsAValidFile) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, std::string(kRunLine));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->Records().size(), 1U);
  EXPECT_EQ(parsed->Count(RecordType::Family), 0U);
}

TEST(SummaryParser, ToleratesCrlfAndAMissingFinalNewline) {
  std::string crlf;
  for (char c : NucleotideFile()) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  crlf.pop_back();
  crlf.pop_back();  // no final "\r\n"
  auto parsed = ParseSummary(SummaryKind::Nucleotide, crlf);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->Records().size(), 6U);
  EXPECT_EQ(parsed->Find(parsed->Records()[5], "name")->text, kHqName);
}

TEST(SummaryParser, FieldsStayValidAfterTheSummaryMoves) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, std::string(kRunLine));
  ASSERT_TRUE(parsed);
  ParsedSummary moved = std::move(*parsed);
  EXPECT_EQ(moved.RunId(), "ERR2756788");
  EXPECT_EQ(moved.Find(moved.Run(), "genome")->text, "cov3ma");
}

TEST(SummaryParser, EmptyFileIsCorruptAtLineOne) {
  EXPECT_THAT(ParseError(SummaryKind::Nucleotide, ""), StartsWith("line 1: empty file"));
  EXPECT_THAT(ParseError(SummaryKind::Protein, ""), StartsWith("line 1: empty file"));
}

TEST(SummaryParser, MissingKeyNamesTheLineAndKey) {
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "glb=301;", "")),
            "line 2: missing key 'glb'");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "family=AMR;", "")),
            "line 4: missing key 'family'");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), ",version=200818", "")),
            "line 1: missing key 'version'");
}

TEST(SummaryParser, ExtraKeyNamesTheLineAndKey) {
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "fam=Coronaviridae;",
                                                        "fam=Coronaviridae;panlen=9;")),
            "line 3: unexpected key 'panlen'");
  // §1.2: `excepts=` on the run line breaks the strict key check (as it did in the uploader).
  EXPECT_EQ(ParseError(SummaryKind::Protein, Replace(std::string(kProteinFile), "readlength=72;",
                                                     "readlength=72;excepts=3;")),
            "line 1: unexpected key 'excepts'");
}

TEST(SummaryParser, DuplicateKeyIsAnError) {
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide,
                       Replace(NucleotideFile(), "score=45;", "score=45;score=46;")),
            "line 5: duplicate key 'score'");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide,
                       Replace(NucleotideFile(), "genome=cov3ma", "genome=cov3ma,genome=x")),
            "line 1: duplicate key 'genome'");
}

TEST(SummaryParser, SectionsMustComeInOrder) {
  const std::string file = std::string(kRunLine) + std::string(kFamilyAmr) +
                           std::string(kSequenceAmr) + std::string(kFamilyCorona);
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, file),
            "line 4: 'famcvg' line after 'seqcvg' lines: sections must come in the order famcvg, "
            "seqcvg");
  const std::string protein =
      Replace(std::string(kProteinFile), "sra=SRR11780077;gencvg",
              "sra=SRR11780077;seqcvg=_;seq=A.B.C;score=1;pctid=50;alns=1;avgcols=1;\n"
              "sra=SRR11780077;gencvg");
  EXPECT_THAT(ParseError(SummaryKind::Protein, protein),
              StartsWith("line 5: 'gencvg' line after 'seqcvg' lines"));
}

TEST(SummaryParser, UnknownLineTypeIsAnError) {
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, NucleotideFile() + std::string(kRunLine)),
            "line 7: unexpected line type 'readlength' (expected famcvg, seqcvg)");
  EXPECT_EQ(ParseError(SummaryKind::Rdrp, Replace(std::string(kRdrpFile), "phycvg=", "gencvg=")),
            "line 2: unexpected line type 'gencvg' (expected phycvg, famcvg, vircvg)");
}

TEST(SummaryParser, BadIntegerIsAnError) {
  EXPECT_EQ(
      ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "score=28;", "score=2x8;")),
      "line 6: key 'score': '2x8' is not an integer");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "aln=570;", "aln=;")),
            "line 4: key 'aln': '' is not an integer");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide,
                       Replace(NucleotideFile(), "readlength=150", "readlength=150.5")),
            "line 1: key 'readlength': '150.5' is not an integer");
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "alns=265", "alns=99999999999999999999")),
            "line 2: key 'alns': '99999999999999999999' is not an integer");
}

TEST(SummaryParser, UnknownLengthQuestionMarkIsAnError) {
  // §1.1: the generator may write `len=?`; the uploader's int() cast failed on it (§1.7 #4).
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "len=30000;", "len=?;")),
            "line 3: key 'len': '?' is not an integer");
}

TEST(SummaryParser, BadDepthIsAnError) {
  EXPECT_EQ(
      ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "depth=9.6;", "depth=nan;")),
      "line 5: key 'depth': 'nan' is not a finite number");
  EXPECT_EQ(ParseError(SummaryKind::Rdrp, Replace(std::string(kRdrpFile), "depth=0.0;", "depth=;")),
            "line 4: key 'depth': '' is not a finite number");
}

TEST(SummaryParser, ProteinLinesNeedTheSraPrefix) {
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "sra=SRR11780077;gencvg", "gencvg")),
            "line 4: line does not start with 'sra=SRR11780077;'");
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "sra=SRR11780077;SUMZER", "SUMZER")),
            "line 1: line does not start with 'sra=<RUN>;'");
  EXPECT_EQ(ParseError(SummaryKind::Rdrp,
                       Replace(std::string(kRdrpFile), "sra=DRR015317;vircvg", "vircvg")),
            "line 5: line does not start with 'sra=DRR015317;'");
}

TEST(SummaryParser, MismatchedSraPrefixIsAnError) {
  EXPECT_EQ(ParseError(SummaryKind::Protein, Replace(std::string(kProteinFile),
                                                     "sra=SRR11780077;seqcvg", "sra=SRR1;seqcvg")),
            "line 5: line starts with 'sra=SRR1;' but the run of line 1 is 'SRR11780077'");
  EXPECT_EQ(
      ParseError(SummaryKind::Protein,
                 Replace(std::string(kProteinFile), "COMMENT=sra=SRR11780077", "COMMENT=sra=SRR2")),
      "line 1: SUMZER_COMMENT has sra=SRR2 but the line starts with sra=SRR11780077");
}

TEST(SummaryParser, NucleotideLinesMustNotCarryTheSraPrefix) {
  const std::string file = std::string(kRunLine) + "sra=ERR2756788;" + std::string(kFamilyAmr);
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, file),
            "line 2: unexpected line type 'sra' (expected famcvg, seqcvg)");
}

TEST(SummaryParser, TruncatedLineIsAnError) {
  std::string file = NucleotideFile();
  file.resize(file.size() - 20);  // cut inside the last name
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, file),
            "line 6: line does not end with ';' (truncated file?)");
}

TEST(SummaryParser, EmptyLinesAndNulBytesAreErrors) {
  EXPECT_EQ(
      ParseError(SummaryKind::Nucleotide, std::string(kRunLine) + "\n" + std::string(kFamilyAmr)),
      "line 2: empty line");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, NucleotideFile() + "\n"), "line 7: empty line");
  std::string with_nul = NucleotideFile();
  with_nul[kRunLine.size() + kFamilyAmr.size() + 10] = '\0';
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, with_nul), "line 3: NUL byte in the text");
}

TEST(SummaryParser, MalformedFieldsAreErrors) {
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "glb=301;", "glb301;")),
            "line 2: field 'glb301' has no '='");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "glb=301;", "glb=3=01;")),
            "line 2: field 'glb=3=01' has more than one '='");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "glb=301;", "glb=301;;")),
            "line 2: empty field (';;')");
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, Replace(NucleotideFile(), "fam=AMR;", "fam=;")),
            "line 2: empty 'fam'");
}

TEST(SummaryParser, DuplicateRecordIdNamesBothLines) {
  const std::string file = NucleotideFile() + std::string(kSequenceEu);
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, file),
            "line 7: duplicate sequence 'EU769558.1' (first on line 5)");
  const std::string families = std::string(kRunLine) + std::string(kFamilyAmr) +
                               std::string(kFamilyCorona) + std::string(kFamilyAmr);
  EXPECT_EQ(ParseError(SummaryKind::Nucleotide, families),
            "line 4: duplicate family 'AMR' (first on line 2)");
}

TEST(SummaryParser, SameIdInDifferentSectionsIsFine) {
  // A protein family and a protein sequence may share text; only ids within a type are keys.
  const std::string file = std::string(kRunLine) +
                           Replace(std::string(kFamilyAmr), "fam=AMR", "fam=X1.1") +
                           Replace(std::string(kSequenceAmr), "seq=AY874537_3000883", "seq=X1.1");
  EXPECT_TRUE(ParseSummary(SummaryKind::Nucleotide, file));
}

// ---- protein ------------------------------------------------------------------------------

TEST(SummaryParser, ParsesTheProteinExampleLinesAndExpandsIds) {
  auto parsed = ParseSummary(SummaryKind::Protein, std::string(kProteinFile));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const ParsedSummary& summary = *parsed;
  EXPECT_EQ(summary.RunId(), "SRR11780077");
  EXPECT_EQ(summary.Count(RecordType::Family), 2U);
  EXPECT_EQ(summary.Count(RecordType::Protein), 1U);
  EXPECT_EQ(summary.Count(RecordType::Sequence), 1U);

  const Record& run = summary.Run();
  EXPECT_EQ(Keys(summary, run), "sra,genome,date,type,totalalns,readlength,truncated");
  EXPECT_EQ(summary.Find(run, "totalalns")->integer, 18349);
  EXPECT_EQ(summary.Find(run, "readlength")->integer, 72);
  EXPECT_EQ(summary.Find(run, "truncated")->text, "no");
  EXPECT_EQ(summary.Find(run, "type")->text, "protein");

  const Record& family = summary.Records()[1];
  EXPECT_EQ(Keys(summary, family), "famcvg,fam,score,pctid,alns,avgcols");
  EXPECT_EQ(family.family_name, "Dicistroviridae");
  EXPECT_EQ(summary.Find(family, "alns")->integer, 265);

  const Record& gene = summary.Records()[3];
  EXPECT_EQ(gene.type, RecordType::Protein);
  EXPECT_EQ(gene.id, "Dicistroviridae.ORF1");
  EXPECT_EQ(gene.family_name, "Dicistroviridae");
  EXPECT_EQ(gene.protein_name, "ORF1");

  const Record& sequence = summary.Records()[4];
  EXPECT_EQ(sequence.type, RecordType::Sequence);
  EXPECT_EQ(sequence.family_name, "Dicistroviridae");
  EXPECT_EQ(sequence.protein_name, "ORF1");
  EXPECT_EQ(sequence.accession, "KJ938718.1");  // split('.', maxsplit=2) keeps the version
}

TEST(SummaryParser, ProteinIdsMustHaveTheirParts) {
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "gen=Dicistroviridae.ORF1", "gen=A.B.C")),
            "line 4: key 'gen': 'A.B.C' is not <family>.<protein>");
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "gen=Dicistroviridae.ORF1", "gen=AB")),
            "line 4: key 'gen': 'AB' is not <family>.<protein>");
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "seq=Dicistroviridae.ORF1.KJ938718.1",
                               "seq=Dicistroviridae.ORF1")),
            "line 5: key 'seq': 'Dicistroviridae.ORF1' is not <family>.<protein>.<accession>");
}

TEST(SummaryParser, TruncatedFlagMustBeYesOrNo) {
  EXPECT_EQ(ParseError(SummaryKind::Protein,
                       Replace(std::string(kProteinFile), "truncated=no", "truncated=maybe")),
            "line 1: key 'truncated': 'maybe' is neither yes nor no");
}

// ---- rdrp ---------------------------------------------------------------------------------

TEST(SummaryParser, ParsesRdrpLinesAndExpandsLabels) {
  auto parsed = ParseSummary(SummaryKind::Rdrp, std::string(kRdrpFile));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const ParsedSummary& summary = *parsed;
  EXPECT_EQ(summary.RunId(), "DRR015317");
  ASSERT_EQ(summary.Records().size(), 6U);

  const Record& phylum = summary.Records()[1];
  EXPECT_EQ(phylum.type, RecordType::Phylum);
  EXPECT_EQ(phylum.id, "pisu");
  EXPECT_EQ(phylum.phylum_name, "Pisuviricota");
  EXPECT_EQ(Keys(summary, phylum), "phycvg,phy,score,depth,pctid,alns,avgcols");
  EXPECT_DOUBLE_EQ(summary.Find(phylum, "depth")->real, 0.1);

  const Record& unclassified = summary.Records()[2];
  EXPECT_EQ(unclassified.type, RecordType::Family);
  EXPECT_EQ(unclassified.phylum_name, "Pisuviricota");
  EXPECT_EQ(unclassified.family_group, "Unc159");
  EXPECT_EQ(unclassified.family_name, "Unclassified-159");

  const Record& tombus = summary.Records()[3];
  EXPECT_EQ(tombus.phylum_name, "Kitrinoviricota");
  EXPECT_EQ(tombus.family_group, "Tombusviridae-14");
  EXPECT_EQ(tombus.family_name, "Tombusviridae");

  const Record& picali = summary.Records()[4];
  EXPECT_EQ(picali.type, RecordType::Sequence);
  EXPECT_EQ(picali.phylum_name, "Pisuviricota");
  EXPECT_EQ(picali.family_group, "Unc159");
  EXPECT_EQ(picali.family_name, "Unclassified-159");
  EXPECT_EQ(picali.virus_name, "picalivirus_c");
  EXPECT_EQ(picali.accession, "AFR11839");
  EXPECT_EQ(summary.Find(picali, "cat"), nullptr);

  const Record& sapo = summary.Records()[5];
  EXPECT_EQ(sapo.family_name, "Caliciviridae");
  EXPECT_EQ(sapo.family_group, "Caliciviridae");
  EXPECT_EQ(sapo.virus_name, "sapovirus_hu_gi_sapporo_mt_2010_1982");
  EXPECT_EQ(sapo.accession, "ADG03646");
  ASSERT_NE(summary.Find(sapo, "cat"), nullptr);
  EXPECT_EQ(summary.Find(sapo, "cat")->text, "n");
  EXPECT_EQ(Keys(summary, sapo), "vircvg,vir,cat,score,depth,pctid,alns,avgcols");
}

TEST(SummaryParser, EveryPhylumAbbreviationHasItsFullName) {
  const std::pair<std::string_view, std::string_view> phyla[] = {
      {"dupl", "Duplornaviricota"}, {"kiti", "Kitrinoviricota"}, {"levi", "Lenarviricota"},
      {"nega", "Negarnaviricota"},  {"pisu", "Pisuviricota"},    {"rdrp", "Unclassified"},
      {"var", "Deltavirus"}};
  for (const auto& [abbreviation, name] : phyla) {
    auto parsed = ParseSummary(SummaryKind::Rdrp, Replace(std::string(kRdrpFile), "phy=pisu",
                                                          fmt::format("phy={}", abbreviation)));
    ASSERT_TRUE(parsed) << parsed.error().ToString();
    EXPECT_EQ(parsed->Records()[1].phylum_name, name);
  }
  EXPECT_THAT(ParseError(SummaryKind::Rdrp, Replace(std::string(kRdrpFile), "phy=pisu", "phy=xyz")),
              StartsWith("line 2: key 'phy': unknown phylum abbreviation 'xyz'"));
}

TEST(SummaryParser, RdrpLabelsMustHaveTheirParts) {
  EXPECT_EQ(ParseError(SummaryKind::Rdrp,
                       Replace(std::string(kRdrpFile), "fam=pisu.Unc159", "fam=pisu.Unc159.x")),
            "line 3: key 'fam': 'pisu.Unc159.x' is not <phylum>.<family group>");
  EXPECT_EQ(ParseError(SummaryKind::Rdrp,
                       Replace(std::string(kRdrpFile), "vir=pisu.Unc159.picalivirus_c:AFR11839",
                               "vir=pisu.Unc159.picalivirus_c")),
            "line 5: key 'vir': 'pisu.Unc159.picalivirus_c' is not "
            "<phylum>.<family group>.<virus name>:<accession>");
  EXPECT_THAT(ParseError(SummaryKind::Rdrp,
                         Replace(std::string(kRdrpFile), "fam=kiti.Tomb", "fam=abc.Tomb")),
              StartsWith("line 4: key 'fam': unknown phylum abbreviation 'abc'"));
}

TEST(SummaryParser, RdrpCategoryMayNotRepeat) {
  EXPECT_EQ(
      ParseError(SummaryKind::Rdrp, Replace(std::string(kRdrpFile), "cat=n;", "cat=n;cat=K;")),
      "line 6: duplicate key 'cat'");
}

// ---- kinds and JSON ---------------------------------------------------------------------------

TEST(SummaryKindFromKey, GuessesFromFolderAndSuffix) {
  EXPECT_EQ(KindFromKey("summary2/ERR2756788.summary").value(), SummaryKind::Nucleotide);
  EXPECT_EQ(KindFromKey("ERR2756788.summary").value(), SummaryKind::Nucleotide);
  EXPECT_EQ(KindFromKey("/tmp/x/SRR1.summary").value(), SummaryKind::Nucleotide);
  EXPECT_EQ(KindFromKey("psummary/SRR1.psummary").value(), SummaryKind::Protein);
  EXPECT_EQ(KindFromKey("SRR1.psummary").value(), SummaryKind::Protein);
  EXPECT_EQ(KindFromKey("rsummary/SRR1.psummary").value(), SummaryKind::Rdrp);
  EXPECT_EQ(KindFromKey("lake/dsummary/SRR1.psummary").value(), SummaryKind::Rdrp);
  EXPECT_EQ(KindFromKey("summary2/SRR1").value(), SummaryKind::Nucleotide);
  auto unknown = KindFromKey("data/SRR1.txt");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::InvalidArgument);
  EXPECT_THAT(unknown.error().message, HasSubstr("data/SRR1.txt"));
  EXPECT_FALSE(KindFromKey("rsummary"));  // a file named like a folder is not a folder
}

TEST(SummaryKindNames, RoundTrip) {
  for (SummaryKind kind : {SummaryKind::Nucleotide, SummaryKind::Protein, SummaryKind::Rdrp}) {
    EXPECT_EQ(ParseSummaryKind(ToString(kind)).value(), kind);
  }
  EXPECT_EQ(ParseSummaryKind("dna").error().code, ErrorCode::InvalidArgument);
}

TEST(SummaryJson, JsonLinesCarryTypesCastValuesAndExpansions) {
  auto parsed = ParseSummary(SummaryKind::Protein, std::string(kProteinFile));
  ASSERT_TRUE(parsed);
  std::ostringstream out;
  ASSERT_TRUE(WriteParsedJsonLines(*parsed, out));
  std::istringstream lines(out.str());
  std::vector<nlohmann::json> records;
  for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 5U);
  EXPECT_EQ(records[0]["record"], "run");
  EXPECT_EQ(records[0]["line"], 1);
  EXPECT_EQ(records[0]["totalalns"], 18349);
  EXPECT_EQ(records[0]["truncated"], "no");
  EXPECT_EQ(records[0]["type"], "protein");  // the run line's own `type` key
  EXPECT_EQ(records[3]["record"], "protein");
  EXPECT_EQ(records[3]["run"], "SRR11780077");
  EXPECT_EQ(records[3]["score"], 78);
  EXPECT_EQ(records[3]["family_name"], "Dicistroviridae");
  EXPECT_EQ(records[3]["protein_name"], "ORF1");
  EXPECT_EQ(records[4]["record"], "sequence");
  EXPECT_EQ(records[4]["genbank_id"], "KJ938718.1");

  auto nucleotide = ParseSummary(SummaryKind::Nucleotide, NucleotideFile());
  ASSERT_TRUE(nucleotide);
  const auto amr =
      nlohmann::json::parse(FormatParsedJsonLine(*nucleotide, nucleotide->Records()[1]));
  EXPECT_EQ(amr["record"], "family");
  EXPECT_DOUBLE_EQ(amr["depth"].get<double>(), 214.8);
  EXPECT_TRUE(amr["depth"].is_number_float());
  EXPECT_EQ(amr["topname"], "TEM-11,Proteus mirabilis");

  auto rdrp = ParseSummary(SummaryKind::Rdrp, std::string(kRdrpFile));
  ASSERT_TRUE(rdrp);
  const auto vir = nlohmann::json::parse(FormatParsedJsonLine(*rdrp, rdrp->Records()[4]));
  EXPECT_EQ(vir["phylum_name"], "Pisuviricota");
  EXPECT_EQ(vir["family_name"], "Unclassified-159");
  EXPECT_EQ(vir["family_group"], "Unc159");
  EXPECT_EQ(vir["virus_name"], "picalivirus_c");
  EXPECT_EQ(vir["sequence_accession"], "AFR11839");
}

TEST(SummaryJson, EraARecordsKeepStringsInFileOrderPlusRun) {
  auto parsed = ParseSummary(SummaryKind::Nucleotide, NucleotideFile());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(
      FormatEraARecord(*parsed, parsed->Run()),
      R"({"readlength":"150","sra":"ERR2756788","genome":"cov3ma","version":"200818","date":"200817-21:05"})");
  EXPECT_EQ(FormatEraARecord(*parsed, parsed->Records()[3]),
            R"({"seqcvg":"oawaaaaaaaaaaoaaaaooawaa_","seq":"AY874537_3000883","score":"100",)"
            R"("pctid":"98","depth":"107.6","aln":"570","glb":"85","len":"861","family":"AMR",)"
            R"("name":"TEM-11,Proteus mirabilis","run":"ERR2756788"})");
  EXPECT_EQ(EraAObjectKey(*parsed, parsed->Run(), "athena/"), "athena/run/ERR2756788.json");
  EXPECT_EQ(EraAObjectKey(*parsed, parsed->Records()[1], ""), "family/ERR2756788_AMR.json");
  EXPECT_EQ(EraAObjectKey(*parsed, parsed->Records()[4], ""),
            "sequence/ERR2756788_EU769558.1.json");
}

TEST(SummaryJson, SlashesInIdsAreReplacedInObjectKeys) {
  const std::string file =
      std::string(kRunLine) + Replace(std::string(kFamilyAmr), "fam=AMR", "fam=A/B/C");
  auto parsed = ParseSummary(SummaryKind::Nucleotide, file);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(EraAObjectKey(*parsed, parsed->Records()[1], "p/"), "p/family/ERR2756788_A_B_C.json");
}

TEST(SummaryJson, StringsAreEscapedAndAlwaysValidUtf8) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\te\x01 \xC3\xA9 \xFF");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001 \xC3\xA9 \xEF\xBF\xBD\"");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

}  // namespace
}  // namespace sluice::serratus
