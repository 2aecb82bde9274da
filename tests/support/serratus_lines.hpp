#pragma once
// Verbatim summary2 lines of ERR2756788 (research/serratus.md §1.1), shared by the handler tests.

#include <string_view>

namespace sluice::serratus::testing {

constexpr std::string_view kRunLine =
    "readlength=150;SUMZER_COMMENT=sra=ERR2756788,genome=cov3ma,version=200818,date=200817-21:05;"
    "\n";
constexpr std::string_view kFamilyAmr =
    "famcvg=mooaoooUmmmmmooooaaoawwwm;fam=AMR;score=100;pctid=97;depth=214.8;aln=1382;glb=301;"
    "len=1000;top=AY874537_3000883;topscore=100;toplen=861;topname=TEM-11,Proteus mirabilis;\n";
constexpr std::string_view kFamilyCorona =
    "famcvg=A____wwmwoWAWOAWWUamoUaWo;fam=Coronaviridae;score=100;pctid=88;depth=36.3;aln=7137;"
    "glb=4730;len=30000;top=EU769557.1;topscore=52;toplen=13467;topname=Bat coronavirus "
    "Trinidad/1FY2BA/2007 nonfunctional nonstructural protein 1b` gene, partial sequence;\n";
constexpr std::string_view kSequenceAmr =
    "seqcvg=oawaaaaaaaaaaoaaaaooawaa_;seq=AY874537_3000883;score=100;pctid=98;depth=107.6;aln=570;"
    "glb=85;len=861;family=AMR;name=TEM-11,Proteus mirabilis;\n";
constexpr std::string_view kSequenceEu =
    "seqcvg=aUAUmmm__________________;seq=EU769558.1;score=45;pctid=85;depth=9.6;aln=1694;glb=399;"
    "len=14335;family=Coronaviridae;name=Bat coronavirus Trinidad/1CO7BA/2007 nonstructural "
    "protein 1b` gene, partial cds;\n";

}  // namespace sluice::serratus::testing
