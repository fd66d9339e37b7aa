#include <gtest/gtest.h>

#include "tests/test_paths.h"
#include "core/jsonl.h"
#include "rewards/verifiable/math_answer.h"

using namespace vecrl::rewards::math;

TEST(MathAnswer, ExtractsInPriorityOrder) {
  EXPECT_EQ(extract_final_answer("so \\boxed{\\frac{1}{\\sqrt{2}}} and 7").value(), "\\frac{1}{\\sqrt{2}}");
  EXPECT_EQ(extract_final_answer("a \\boxed{1} then \\boxed{{2}}").value(), "{2}");
  EXPECT_EQ(extract_final_answer("He pays 3 + 4 = 7\n#### 1,200\n").value(), "1,200");
  EXPECT_EQ(extract_final_answer("Thus the answer is 3.5. Done in 9 steps").value(), "3.5");
  EXPECT_EQ(extract_final_answer("Final Answer: $-4$\nbye").value(), "$-4$");
  EXPECT_EQ(extract_final_answer("first 12 apples, then -3.25 left").value(), "-3.25");
  EXPECT_FALSE(extract_final_answer("no digits here").has_value());
  EXPECT_FALSE(last_boxed("\\boxed{unbalanced").has_value());
}

TEST(MathAnswer, EquivalenceCoversTheDocumentedForms) {
  EXPECT_TRUE(answers_equivalent("1,000", "1000"));
  EXPECT_TRUE(answers_equivalent("$18.00", "18"));
  EXPECT_TRUE(answers_equivalent("-.5", "-1/2"));
  EXPECT_TRUE(answers_equivalent("\\dfrac{3}{4}", "0.75"));
  EXPECT_TRUE(answers_equivalent("\\frac34", "\\frac{3}{4}"));
  EXPECT_TRUE(answers_equivalent("50\\%", "50"));
  EXPECT_TRUE(answers_equivalent("50%", "0.5"));
  EXPECT_TRUE(answers_equivalent("90^\\circ", "90"));
  EXPECT_TRUE(answers_equivalent("5.4 \\text{ cents}", "5.4"));
  EXPECT_TRUE(answers_equivalent("x = 3", "3"));
  EXPECT_TRUE(answers_equivalent("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"));
  EXPECT_TRUE(answers_equivalent("[1, 2.0)", "[1,2)"));
  EXPECT_TRUE(answers_equivalent("-2, 1", "1,-2"));
  EXPECT_TRUE(answers_equivalent("\\text{Evelyn}", "Evelyn"));
  EXPECT_TRUE(answers_equivalent("11,\\! 111,\\! 111,\\! 100", "11111111100"));
  EXPECT_FALSE(answers_equivalent("[1,2)", "(1,2)"));  // open and closed ends differ
  EXPECT_FALSE(answers_equivalent("(1,2,3)", "(1,2)"));
  EXPECT_FALSE(answers_equivalent("1001", "1000"));
  EXPECT_FALSE(answers_equivalent("3/4", "4/3"));
  EXPECT_FALSE(answers_equivalent("", "0"));
  EXPECT_FALSE(answers_equivalent("2\\sqrt{3}", "3\\sqrt{2}"));
}

TEST(MathAnswer, EveryGsm8kTestAnswerMatchesItself) {
  auto records = vecrl::core::read_records(vecrl::test::shared_data("datasets/gsm8k/test.jsonl")).records;
  ASSERT_EQ(records.size(), 1319u);
  for (const auto& r : records) {
    const std::string solution = r["answer"];
    const auto reference = extract_final_answer(solution);
    ASSERT_TRUE(reference.has_value()) << solution;
    // The dataset's own worked solution, and the answer written in the common model formats.
    for (const auto& text : {solution, "So the total is \\boxed{" + *reference + "}.",
                             "Step 1 ... The answer is " + *reference + "."}) {
      const auto given = extract_final_answer(text);
      ASSERT_TRUE(given.has_value()) << text;
      EXPECT_TRUE(answers_equivalent(*given, *reference)) << text << " vs " << *reference;
    }
  }
}

TEST(MathAnswer, EveryMath500AnswerMatchesItselfAndMostSolutionsMatchTheirAnswer) {
  auto records = vecrl::core::read_records(vecrl::test::shared_data("datasets/math500/test.jsonl")).records;
  ASSERT_EQ(records.size(), 500u);
  int solutions_agree = 0;
  for (const auto& r : records) {
    const std::string answer = r["answer"];
    const auto boxed = extract_final_answer("We find that the answer is $\\boxed{" + answer + "}$.");
    ASSERT_TRUE(boxed.has_value()) << answer;
    EXPECT_TRUE(answers_equivalent(*boxed, answer)) << answer;
    const auto from_solution = extract_final_answer(r["solution"].get<std::string>());
    solutions_agree += from_solution && answers_equivalent(*from_solution, answer);
  }
  // The dataset's own worked solutions box the same answer in their own formatting.
  EXPECT_EQ(solutions_agree, 500);
}
