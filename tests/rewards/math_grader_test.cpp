// The math grader against the labelled table (tests/rewards/math_grader_pairs.h) and hostile answers.
#include <gtest/gtest.h>

#include "rewards/verifiable/math_answer.h"
#include "rewards/verifiable/math_expr.h"
#include "tests/rewards/math_grader_pairs.h"
#include "tests/test_paths.h"

using namespace vecrl::rewards::math;
namespace pairs = vecrl::test::math_pairs;

namespace {

std::string describe(const std::vector<pairs::LabelledPair>& mistakes) {
  std::string out;
  for (const auto& m : mistakes)
    out += "  [" + m.category + "] " + m.given + "  vs  " + m.reference + (m.equivalent ? "  (equal)\n" : "  (different)\n");
  return out;
}

}  // namespace

// 5f09ff1's grader: precision 0.995, recall 0.790 on this table (scripts/math_grader_report.sh).
TEST(MathGrader, LabelledTableHasNoFalsePositiveAndNearlyFullRecall) {
  const auto table = pairs::all_pairs(VECRL_SOURCE_DIR, vecrl::test::shared_data(""));
  std::vector<pairs::LabelledPair> mistakes;
  const auto counts = pairs::score(table, answers_equivalent, &mistakes);
  const auto& all = counts.at("all");
  ASSERT_GE(all.total(), 2000);
  EXPECT_EQ(all.false_positive, 0) << describe(mistakes);
  EXPECT_GE(all.recall(), 0.995) << describe(mistakes);
  int hand_labelled = 0;
  for (const auto& [category, c] : counts)
    if (category.rfind("hand:", 0) == 0 || category.rfind("held-out:", 0) == 0) hand_labelled += c.total();
  EXPECT_GE(hand_labelled, 300);
}

TEST(MathGrader, TheIssuesExampleAndEachFormItNames) {
  const auto boxed = extract_final_answer("so we get $\\boxed{x^{2}+1}$.");
  ASSERT_TRUE(boxed.has_value());
  EXPECT_TRUE(answers_equivalent(*boxed, "x^2+1"));
  EXPECT_TRUE(answers_equivalent("\\frac{\\sqrt{3}}{2}", "\\frac12\\sqrt3"));  // fractions, roots
  EXPECT_TRUE(answers_equivalent("2\\cdot 3x", "6x"));                         // \cdot, implicit product
  EXPECT_TRUE(answers_equivalent("2\\times\\pi r", "2\\pi r"));                // \times, \pi, variables
  EXPECT_TRUE(answers_equivalent("(-\\infty, \\frac12]", "(-\\infty,0.5]"));   // intervals
  EXPECT_TRUE(answers_equivalent("\\{3, 1\\}", "\\{1,3\\}"));                  // sets
  EXPECT_FALSE(answers_equivalent("(2,1)", "(1,2)"));                          // tuples keep order
  EXPECT_FALSE(answers_equivalent("4/3", "3/4"));
  EXPECT_FALSE(answers_equivalent("0.33", "\\frac{1}{3}"));  // rationals compare exactly
}

TEST(MathGrader, ExpressionsTheParserDoesNotReadAreUnparsableNotEqual) {
  EXPECT_EQ(compare_expressions("Evelyn", "Nevely"), Comparison::unparsable);  // words, not products
  EXPECT_EQ(compare_expressions("\\unknown{2}", "2"), Comparison::unparsable);
  EXPECT_EQ(compare_expressions("(1+2", "3"), Comparison::unparsable);
  EXPECT_EQ(compare_expressions("1+2", "3"), Comparison::equal);
  EXPECT_EQ(compare_expressions("x+1", "x+2"), Comparison::different);
  EXPECT_EQ(compare_expressions(std::string(kMaxExpressionChars + 1, '1'), "1"), Comparison::unparsable);
}

TEST(MathGrader, HostileAnswersEndQuicklyWithoutAVerdictOfEqual) {
  const std::string deep = std::string(100000, '(') + "1" + std::string(100000, ')');
  EXPECT_FALSE(answers_equivalent(deep, "1"));
  // Overflowing values are not answers: infinities compare equal only where \infty was written.
  EXPECT_FALSE(answers_equivalent("2^{2^{2^{100}}}", "2^{2^{2^{99}}}"));
  EXPECT_FALSE(answers_equivalent("100000!", "99999!"));
  EXPECT_FALSE(answers_equivalent("10^{400}", "10^{401}"));
  EXPECT_TRUE(answers_equivalent("-\\infty", "-\\infty"));
  // Sets nested in sets are compared in any order (the work is bounded by the length cap and a
  // count of comparisons); one changed leaf makes them different.
  std::string nested = "1";
  for (int i = 0; i < 6; ++i) nested = "\\{" + nested + "," + nested + "," + nested + "\\}";
  std::string other = nested;
  other[other.find('1')] = '2';
  EXPECT_FALSE(answers_equivalent(nested + ",1", other + ",1"));
  // Past 4096 characters (or 64 items) an answer is compared only as a string: bounded, and
  // documented as a limit, although these two lists hold the same numbers.
  std::string long_list;
  for (int i = 0; i < 2000; ++i) long_list += std::to_string(i) + ",";
  EXPECT_FALSE(answers_equivalent(long_list + "x", "x," + long_list));
}
