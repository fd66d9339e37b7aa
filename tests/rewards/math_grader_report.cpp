// Prints the math grader's precision and recall on the labelled table, per category, and lists its
// wrong verdicts: `math_grader_report <repository> <shared data>`. Built by
// scripts/math_grader_report.sh against the grader of any commit.
#include <cstdio>

#include "rewards/verifiable/math_answer.h"
#include "tests/rewards/math_grader_pairs.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <repository> <shared data folder>\n", argv[0]);
    return 2;
  }
  using namespace vecrl::test::math_pairs;
  const auto pairs = all_pairs(argv[1], argv[2]);
  std::vector<LabelledPair> mistakes;
  const auto counts = score(pairs, vecrl::rewards::math::answers_equivalent, &mistakes);
  std::printf("%-44s %6s %6s %6s %6s %9s %7s\n", "category", "pairs", "TP", "FP", "FN", "precision", "recall");
  for (const auto& [category, c] : counts)
    std::printf("%-44s %6d %6d %6d %6d %9.3f %7.3f\n", category.c_str(), c.total(), c.true_positive, c.false_positive,
                c.false_negative, c.precision(), c.recall());
  std::printf("\nwrong verdicts (%zu):\n", mistakes.size());
  for (const auto& m : mistakes)
    std::printf("  [%s] %s  vs  %s  (labelled %s)\n", m.category.c_str(), m.given.c_str(), m.reference.c_str(),
                m.equivalent ? "equal" : "different");
  return 0;
}
