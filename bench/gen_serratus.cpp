/// sluice-gen-serratus: writes realistic synthetic Serratus nucleotide summaries (`summary2`,
/// research/serratus.md §1.1) for the quickstart, the CLI tests and benchmarks.
///
///   sluice-gen-serratus --out DIR --runs N [--seed S] [--index FILE]
///
/// Writes DIR/<RUN>.summary for N runs with unique run accessions (SRR/ERR/DRR + 6–8 digits) and,
/// with --index, FILE with one run id per line ('\n'-terminated, the uploader's index.txt layout,
/// §1.5). The output depends only on N and the seed (default 1): the same arguments give the same
/// bytes on every platform (own PRNG, no std distributions).
///
/// Size mix (§1.1, §5: "runs with no hits are a single ~90–100-byte line"; ERR2756788, a
/// virus-rich run, is 68 KB with 12 families and 349 sequences):
///   ~85%   the run line only (~90 bytes);
///   ~13.5% a few families (1–4) and sequences (1–20);
///   ~1.5%  large: 8–14 families and 240–380 sequences (~50–80 KB).
/// Some sequence and top names contain ',' and, as GenBank titles of multi-gene records do,
/// "; and …" clauses (the last field may hold ';', §1.7 #1). Every file parses with
/// sluice::serratus::ParseSummary(SummaryKind::Nucleotide, …).

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified, so a seed gives the
/// same stream everywhere.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [low, high] (inclusive); the modulo bias is negligible for these small ranges.
  std::int64_t Between(std::int64_t low, std::int64_t high) {
    const auto span = static_cast<std::uint64_t>(high - low) + 1;
    return low + static_cast<std::int64_t>(Next() % span);
  }
  /// True with probability `percent`/100 (in 0.01% steps).
  bool Chance(double percent) { return static_cast<double>(Next() % 10000) < percent * 100.0; }
  template <class T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<std::size_t>(Next() % items.size())];
  }
  template <class T, std::size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[static_cast<std::size_t>(Next() % N)];
  }

 private:
  std::uint64_t state_;
};

struct Family {
  std::string_view name;
  std::int64_t pangenome_length;  ///< `len` of the family line (cov3ma sumzer.tsv column 6)
};

// Families of the cov3ma pangenome (the 12 of ERR2756788 first, lengths as in that file).
constexpr std::array<Family, 30> kFamilies{{
    {"AMR", 1000},
    {"Coronaviridae", 30000},
    {"Adenoviridae", 33501},
    {"Parvoviridae", 5075},
    {"Poxviridae", 181133},
    {"Herpesviridae", 148687},
    {"Alloherpesviridae", 207914},
    {"Flaviviridae", 10290},
    {"Picornaviridae", 7591},
    {"Iridoviridae", 113436},
    {"Unknown", 4668},
    {"Peribunyaviridae", 4420},
    {"Hepadnaviridae", 3215},
    {"Papillomaviridae", 7904},
    {"Polyomaviridae", 5243},
    {"Retroviridae", 9181},
    {"Reoviridae", 23560},
    {"Rhabdoviridae", 11161},
    {"Paramyxoviridae", 15384},
    {"Orthomyxoviridae", 13588},
    {"Astroviridae", 6813},
    {"Caliciviridae", 7490},
    {"Togaviridae", 11703},
    {"Arenaviridae", 10681},
    {"Hantaviridae", 11845},
    {"Phenuiviridae", 12021},
    {"Filoviridae", 18959},
    {"Circoviridae", 1768},
    {"Anelloviridae", 3853},
    {"Baculoviridae", 133894},
}};

constexpr std::array<std::string_view, 14> kCoverageSymbols{
    {"_", ".", ":", "u", "w", "a", "o", "m", "U", "W", "A", "O", "M", "^"}};

constexpr std::array<std::string_view, 12> kHosts{
    {"Bat", "Rodent", "Human", "Canine", "Feline", "Porcine", "Bovine", "Avian", "Ferret",
     "Miniopterus bat", "Chaerephon bat", "Rhinolophus bat"}};
constexpr std::array<std::string_view, 10> kPlaces{{"Kenya", "Trinidad", "China", "Brazil", "Spain",
                                                    "Ghana", "Germany", "Peru", "Japan",
                                                    "Australia"}};
constexpr std::array<std::string_view, 10> kGenes{
    {"polyprotein (ORF1ab) gene", "nonstructural protein 1b gene",
     "RNA-dependent RNA polymerase "
     "gene",
     "spike glycoprotein (S) gene", "nucleocapsid protein (N) gene", "capsid protein gene",
     "DNA polymerase gene", "hexon gene", "major capsid protein (L1) gene",
     "envelope protein "
     "gene"}};
constexpr std::array<std::string_view, 6> kTails{
    {"spike protein (S), ORF3 protein (ORF3), envelope protein (E), membrane protein (M), and "
     "nucleocapsid protein (N) genes, complete cds",
     "spike glycoprotein, envelope protein, membrane protein, and nucleocapsid protein genes, "
     "complete cds",
     "ORF9 gene, complete cds",
     "S protein, nsp 3a, nsp 3b, E protein, M protein, and N protein "
     "genes, complete cds",
     "nucleocapsid protein (N) gene, partial cds",
     "3c-like non-structural protein, envelope glycoprotein (E), and membrane glycoprotein (M) "
     "genes, complete cds"}};
constexpr std::array<std::string_view, 8> kAmrGenes{
    {"TEM-11", "tetQ", "sul1", "aadA2", "blaOXA-48", "ermB", "vanA", "mecA"}};
constexpr std::array<std::string_view, 8> kBacteria{
    {"Proteus mirabilis", "Bacteroides fragilis", "Escherichia coli", "Klebsiella pneumoniae",
     "Enterococcus faecium", "Staphylococcus aureus", "Salmonella enterica",
     "Acinetobacter baumannii"}};

/// One reference accession hit in a run.
struct Hit {
  std::string accession;
  std::string name;
  std::size_t family = 0;  ///< index into the run's families
  std::int64_t score = 0;
  std::int64_t pctid = 0;
  std::int64_t length = 0;
};

class Generator {
 public:
  explicit Generator(std::uint64_t seed) : random_(seed) {
    // Run accessions grow with random gaps per archive, so they are unique by construction.
    next_srr_ = random_.Between(1'000'000, 9'000'000);
    next_err_ = random_.Between(1'000'000, 4'000'000);
    next_drr_ = random_.Between(1'000, 200'000);
  }

  std::string NextRunId() {
    const std::int64_t dice = random_.Between(1, 100);
    if (dice <= 70) {
      next_srr_ += random_.Between(1, 120);
      return fmt::format("SRR{}", next_srr_);
    }
    if (dice <= 92) {
      next_err_ += random_.Between(1, 60);
      return fmt::format("ERR{}", next_err_);
    }
    next_drr_ += random_.Between(1, 20);
    return fmt::format("DRR{:06}", next_drr_);
  }

  /// One summary2 file's text; `size_class` 0 = run line only, 1 = small, 2 = large.
  void Summary(const std::string& run, int size_class, std::string& out) {
    out.clear();
    const std::int64_t read_length =
        random_.Pick(std::array<std::int64_t, 6>{{36, 50, 75, 100, 125, 150}});
    fmt::format_to(std::back_inserter(out),
                   "readlength={};SUMZER_COMMENT=sra={},genome=cov3ma,version=200818,"
                   "date=2008{:02}-{:02}:{:02};\n",
                   size_class == 0 && random_.Chance(5) ? 0 : read_length, run,
                   random_.Between(17, 31), random_.Between(0, 23), random_.Between(0, 59));
    if (size_class == 0) return;

    const std::size_t n_families =
        static_cast<std::size_t>(size_class == 1 ? random_.Between(1, 4) : random_.Between(8, 14));
    const std::size_t n_hits = static_cast<std::size_t>(
        size_class == 1 ? random_.Between(static_cast<std::int64_t>(n_families), 20)
                        : random_.Between(240, 380));

    // Distinct families (AMR and Coronaviridae are the most frequent hits, §5).
    std::vector<std::size_t> families;
    while (families.size() < n_families) {
      const auto f = static_cast<std::size_t>(
          random_.Chance(40) ? random_.Between(0, 3)
                             : random_.Between(0, static_cast<std::int64_t>(kFamilies.size()) - 1));
      if (std::find(families.begin(), families.end(), f) == families.end()) families.push_back(f);
    }

    std::vector<Hit> hits(n_hits);
    for (std::size_t i = 0; i < n_hits; ++i) {
      Hit& hit = hits[i];
      hit.family = i < n_families ? i
                                  : static_cast<std::size_t>(random_.Between(
                                        0, static_cast<std::int64_t>(n_families) - 1));
      const Family& family = kFamilies[families[hit.family]];
      hit.accession = Accession(family, i);
      hit.name = Name(family);
      hit.score = Skewed(1, 100);
      hit.pctid = random_.Between(75, 100);
      hit.length = family.name == "AMR" ? random_.Between(600, 2500) : random_.Between(800, 40000);
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const Hit& a, const Hit& b) { return a.score > b.score; });

    // Family lines: each family's top hit is its best-scoring accession.
    struct FamilyLine {
      std::size_t family;
      std::int64_t score;
      const Hit* top;
    };
    std::vector<FamilyLine> lines;
    for (std::size_t f = 0; f < n_families; ++f) {
      const Hit* top = nullptr;
      for (const Hit& hit : hits) {
        if (hit.family == f) {
          top = &hit;
          break;
        }
      }
      lines.push_back({f, std::min<std::int64_t>(100, top->score + random_.Between(0, 40)), top});
    }
    std::stable_sort(lines.begin(), lines.end(),
                     [](const FamilyLine& a, const FamilyLine& b) { return a.score > b.score; });
    for (const FamilyLine& line : lines) {
      const Family& family = kFamilies[families[line.family]];
      const std::int64_t aln = random_.Between(1, 8000);
      out += "famcvg=";
      Coverage(out);
      fmt::format_to(std::back_inserter(out),
                     ";fam={};score={};pctid={};depth={:.1f};aln={};glb={};len={};top={};"
                     "topscore={};toplen={};topname={};\n",
                     family.name, line.score, random_.Between(75, 100), Depth(), aln,
                     random_.Between(0, aln), family.pangenome_length, line.top->accession,
                     line.top->score, line.top->length, line.top->name);
    }
    for (const Hit& hit : hits) {
      const std::int64_t aln = random_.Between(1, 2000);
      out += "seqcvg=";
      Coverage(out);
      fmt::format_to(std::back_inserter(out),
                     ";seq={};score={};pctid={};depth={:.1f};aln={};glb={};len={};family={};"
                     "name={};\n",
                     hit.accession, hit.score, hit.pctid, Depth(), aln, random_.Between(0, aln),
                     hit.length, kFamilies[families[hit.family]].name, hit.name);
    }
  }

  Random& random() { return random_; }

 private:
  /// Low scores are far more common than high ones.
  std::int64_t Skewed(std::int64_t low, std::int64_t high) {
    const std::int64_t a = random_.Between(low, high);
    const std::int64_t b = random_.Between(low, high);
    return std::min(a, b);
  }

  double Depth() {
    const std::int64_t tenths =
        random_.Chance(50) ? random_.Between(0, 50) : random_.Between(0, 5000);
    return static_cast<double>(tenths) / 10.0;
  }

  void Coverage(std::string& out) {
    const std::int64_t level = random_.Between(0, 13);
    for (int i = 0; i < 25; ++i) {
      const std::int64_t symbol = std::clamp<std::int64_t>(level + random_.Between(-4, 2), 0, 13);
      out += kCoverageSymbols[static_cast<std::size_t>(symbol)];
    }
  }

  /// GenBank-style accessions, unique within a file through the hit index `i`.
  std::string Accession(const Family& family, std::size_t i) {
    if (family.name == "AMR") {
      return fmt::format("{}{:06}_{}",
                         random_.Pick(std::array<std::string_view, 4>{{"AY", "Z", "KC", "NG"}}),
                         random_.Between(0, 999'999), 3'000'000 + i);
    }
    if (random_.Chance(20))
      return fmt::format("NC_{:06}.{}",
                         random_.Between(1, 999) * 1000 + static_cast<std::int64_t>(i % 1000),
                         random_.Between(1, 2));
    static constexpr std::string_view kLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    return fmt::format("{}{}{:06}.{}", kLetters[static_cast<std::size_t>(random_.Between(0, 25))],
                       kLetters[static_cast<std::size_t>(random_.Between(0, 25))],
                       random_.Between(0, 999) * 1000 + static_cast<std::int64_t>(i % 1000),
                       random_.Between(1, 3));
  }

  /// A GenBank title; ~3% carry "; and …" clauses (a ';' inside the last field).
  std::string Name(const Family& family) {
    if (family.name == "AMR") {
      return fmt::format("{},{}", random_.Pick(kAmrGenes), random_.Pick(kBacteria));
    }
    // "Coronaviridae" → "Coronavirus"; families without the suffix ("Unknown") get " virus".
    std::string virus = family.name.ends_with("viridae")
                            ? fmt::format("{}us", family.name.substr(0, family.name.size() - 4))
                            : fmt::format("{} virus", family.name);
    virus[0] = static_cast<char>(virus[0] - 'A' + 'a');  // GenBank titles: "Bat coronavirus …"
    std::string name = fmt::format("{} {} {}/{}/{}{}/{} {}, partial cds", random_.Pick(kHosts),
                                   virus, random_.Pick(kPlaces), random_.Chance(50) ? "KY" : "GZ",
                                   random_.Between(1, 99), random_.Chance(30) ? "BA" : "",
                                   random_.Between(1990, 2020), random_.Pick(kGenes));
    if (random_.Chance(3)) {
      name += "; and ";
      name += random_.Pick(kTails);
    }
    return name;
  }

  Random random_;
  std::int64_t next_srr_ = 0;
  std::int64_t next_err_ = 0;
  std::int64_t next_drr_ = 0;
};

struct Arguments {
  std::filesystem::path out;
  std::int64_t runs = -1;
  std::uint64_t seed = 1;
  std::filesystem::path index;
};

constexpr std::string_view kUsage =
    "usage: sluice-gen-serratus --out DIR --runs N [--seed S] [--index FILE]\n"
    "Writes DIR/<RUN>.summary (synthetic Serratus summary2 files) for N runs; with --index,\n"
    "FILE lists the run ids, one per line.\n";

template <class T>
bool ParseNumber(std::string_view text, T& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

/// Returns 0 on success, 2 on a usage error (message printed), 1 for --help.
int ParseArguments(int argc, char** argv, Arguments& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage.data(), stdout);
      return 1;
    }
    if (i + 1 >= argc) {
      fmt::print(stderr, "sluice-gen-serratus: {} needs a value\n{}", arg, kUsage);
      return 2;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--out") {
      args.out = std::filesystem::path(value);
    } else if (arg == "--runs") {
      ok = ParseNumber(value, args.runs) && args.runs >= 0;
    } else if (arg == "--seed") {
      ok = ParseNumber(value, args.seed);
    } else if (arg == "--index") {
      args.index = std::filesystem::path(value);
    } else {
      fmt::print(stderr, "sluice-gen-serratus: unknown option '{}'\n{}", arg, kUsage);
      return 2;
    }
    if (!ok) {
      fmt::print(stderr, "sluice-gen-serratus: bad value '{}' for {}\n", value, arg);
      return 2;
    }
  }
  if (args.out.empty() || args.runs < 0) {
    fmt::print(stderr, "sluice-gen-serratus: --out and --runs are required\n{}", kUsage);
    return 2;
  }
  return 0;
}

bool WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && written;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  if (const int status = ParseArguments(argc, argv, args); status != 0) return status == 1 ? 0 : 2;

  std::error_code error;
  std::filesystem::create_directories(args.out, error);
  if (error) {
    fmt::print(stderr, "sluice-gen-serratus: cannot create {}: {}\n", args.out.string(),
               error.message());
    return 1;
  }

  const auto start = std::chrono::steady_clock::now();
  Generator generator(args.seed);
  std::string text;
  std::string index;
  std::uint64_t bytes = 0;
  std::array<std::uint64_t, 3> per_class{};
  std::string path = (args.out / "").string();
  const std::size_t dir_length = path.size();
  for (std::int64_t i = 0; i < args.runs; ++i) {
    const std::string run = generator.NextRunId();
    const std::int64_t dice = generator.random().Between(1, 1000);
    const int size_class = dice <= 850 ? 0 : dice <= 985 ? 1 : 2;
    generator.Summary(run, size_class, text);
    path.resize(dir_length);
    path += run;
    path += ".summary";
    if (!WriteFile(path, text)) {
      fmt::print(stderr, "sluice-gen-serratus: cannot write {}: {}\n", path, std::strerror(errno));
      return 1;
    }
    bytes += text.size();
    ++per_class[static_cast<std::size_t>(size_class)];
    index += run;
    index += '\n';
  }
  if (!args.index.empty() && !WriteFile(args.index, index)) {
    fmt::print(stderr, "sluice-gen-serratus: cannot write {}: {}\n", args.index.string(),
               std::strerror(errno));
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print(
      "sluice-gen-serratus: {} files, {} bytes in {} ({} run-line only, {} small, {} large; "
      "seed {}; {:.2f} s)\n",
      args.runs, bytes, args.out.string(), per_class[0], per_class[1], per_class[2], args.seed,
      seconds);
  return 0;
}
