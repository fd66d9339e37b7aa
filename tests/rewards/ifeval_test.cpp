// IFEval checks on hand-written passing and failing responses for each of the 25 instruction ids.
#include <gtest/gtest.h>

#include <set>

#include "core/jsonl.h"
#include "rewards/ifeval/checks.h"
#include "rewards/ifeval/language.h"
#include "rewards/reward_set.h"
#include "tests/rewards/reward_fixture.h"

using namespace vecrl;
using namespace vecrl::rewards::ifeval;
using nlohmann::json;

namespace {

struct Case {
  std::string id;
  json kwargs;
  std::string pass, fail;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {"keywords:existence", {{"keywords", {"ocean", "Salt"}}}, "The salt in the OCEAN.", "The salt in the lake."},
      {"keywords:frequency", {{"keyword", "cat"}, {"frequency", 2}, {"relation", "at least"}}, "Cat and cat.",
       "One cat."},
      {"keywords:forbidden_words", {{"forbidden_words", {"bad", "evil"}}}, "A badger is good.", "That is Bad."},
      {"keywords:letter_frequency", {{"letter", "z"}, {"let_frequency", 3}, {"let_relation", "less than"}},
       "Zoo bus zip", "Zoo buzz"},
      {"language:response_language", {{"language", "de"}},
       "Das ist nicht der Weg, den wir mit ihr gehen wollen, und es ist auch zu spät.",
       "This is not the way we want to go with her, and it is too late."},
      {"length_constraints:number_sentences", {{"num_sentences", 3}, {"relation", "less than"}},
       "Dr. Smith came at 3.5 p.m. today. He left.", "One. Two. Three."},
      {"length_constraints:number_paragraphs", {{"num_paragraphs", 2}}, "First part.\n***\nSecond part.",
       "First.\n***\n\n***\nSecond."},
      {"length_constraints:number_words", {{"num_words", 5}, {"relation", "at least"}}, "one two three four five",
       "one two, three-four"},
      {"length_constraints:nth_paragraph_first_word", {{"num_paragraphs", 2}, {"nth_paragraph", 2}, {"first_word", "then"}},
       "Intro here.\n\n\"Then, we go.\"", "Intro here.\n\nAfter that we go."},
      {"detectable_content:number_placeholders", {{"num_placeholders", 2}}, "Dear [name], at [address].",
       "Dear [name], at home."},
      {"detectable_content:postscript", {{"postscript_marker", "P.S."}}, "Hello.\n\nP.S. see you", "Hello. PS see you"},
      {"detectable_format:number_bullet_lists", {{"num_bullets", 2}}, "* one\n- two\nend", "* one\n* two\n* three"},
      {"detectable_format:constrained_response", json::object(), "Hmm. My answer is maybe.", "My answer is perhaps."},
      {"detectable_format:number_highlighted_sections", {{"num_highlights", 2}}, "*one* and **two**", "*one* and ** **"},
      {"detectable_format:multiple_sections", {{"section_spliter", "Section"}, {"num_sections", 2}},
       "Section 1\nabc\nSection 2\ndef", "Section 1\nabc"},
      {"detectable_format:json_format", json::object(), "```json\n{\"a\": 1}\n```", "{a: 1}"},
      {"detectable_format:title", json::object(), "<<My Poem>>\nRoses.", "<< >>\nRoses."},
      {"combination:two_responses", json::object(), "First answer.\n******\nSecond answer.",
       "Same.\n******\nSame."},
      {"combination:repeat_prompt", {{"prompt_to_repeat", "Write a poem."}}, "write a poem. Here it is.",
       "Sure! Write a poem."},
      {"startend:end_checker", {{"end_phrase", "Any other questions?"}}, "Done. any other questions?\"",
       "Any other questions? Bye."},
      {"startend:quotation", json::object(), "  \"Quoted.\" ", "\"Half quoted."},
      {"change_case:capital_word_frequency", {{"capital_frequency", 2}, {"capital_relation", "at least"}},
       "THE BIG dog", "The BIG dog"},
      {"change_case:english_capital", json::object(), "THIS IS ALL IN CAPITALS AND IT IS ENGLISH.",
       "THIS IS ALMOST all capitals."},
      {"change_case:english_lowercase", json::object(), "this is all lower case and it is english.",
       "this is Not all lower case."},
      {"punctuation:no_comma", json::object(), "No commas here.", "Yes, a comma."},
  };
  return all;
}

}  // namespace

TEST(Ifeval, EveryInstructionPassesAndFailsOnHandWrittenResponses) {
  std::set<std::string> covered;
  for (const auto& c : cases()) {
    EXPECT_TRUE(follows_strict(c.id, c.kwargs, c.pass)) << c.id << " should pass: " << c.pass;
    EXPECT_FALSE(follows_strict(c.id, c.kwargs, c.fail)) << c.id << " should fail: " << c.fail;
    covered.insert(c.id);
  }
  EXPECT_EQ(covered.size(), 25u);
  EXPECT_EQ(std::set<std::string>(instruction_ids().begin(), instruction_ids().end()), covered);
}

TEST(Ifeval, LooseAcceptsAnIntroLineAndMarkdownStars) {
  const json none = json::object();
  EXPECT_FALSE(follows_strict("startend:quotation", none, "Sure, here it is:\n\"Quoted text.\""));
  EXPECT_TRUE(follows_loose("startend:quotation", none, "Sure, here it is:\n\"Quoted text.\""));
  const json end{{"end_phrase", "Is there anything else?"}};
  EXPECT_FALSE(follows_strict("startend:end_checker", end, "Done. **Is there anything else?**"));
  EXPECT_TRUE(follows_loose("startend:end_checker", end, "Done. **Is there anything else?**"));
  EXPECT_FALSE(follows_loose("punctuation:no_comma", none, "a, b, c"));
}

TEST(Ifeval, SentenceSplitterKeepsAbbreviationsAndDecimals) {
  EXPECT_EQ(split_sentences("Mr. Smith paid 3.50 dollars. He went to example.com! Did U.S. agents come?").size(), 3u);
  EXPECT_EQ(split_sentences("Wait... what? Yes.").size(), 3u);
}

TEST(Ifeval, LanguageIdentifierKnowsTheBenchmarksLanguages) {
  const std::vector<std::pair<std::string, std::string>> samples = {
      {"en", "The weather is nice today and we are going to the park with the children."},
      {"de", "Das Wetter ist heute schön und wir gehen mit den Kindern in den Park."},
      {"fr", "Le temps est beau aujourd'hui et nous allons au parc avec les enfants."},
      {"es", "El tiempo es bueno hoy y vamos al parque con los niños para jugar."},
      {"it", "Il tempo è bello oggi e andiamo al parco con i bambini per giocare."},
      {"pt", "O tempo está bom hoje e vamos ao parque com as crianças para brincar, não é?"},
      {"fi", "Sää on tänään kaunis ja me menemme puistoon lasten kanssa, mutta se on kaukana."},
      {"sw", "Hali ya hewa ni nzuri leo na tunaenda kwenye bustani pamoja na watoto kwa sababu hii ni siku nzuri."},
      {"vi", "Hôm nay thời tiết đẹp và chúng tôi đi công viên với những đứa trẻ."},
      {"ru", "Сегодня хорошая погода, и мы идём в парк с детьми, это было бы здорово."},
      {"bg", "Днес времето е хубаво и ние отиваме в парка с децата, защото е събота."},
      {"ar", "الطقس جميل اليوم ونحن ذاهبون إلى الحديقة مع الأطفال في هذه المدينة."},
      {"fa", "امروز هوا خوب است و ما با بچه‌ها به پارک می‌رویم چون روز خوبی است."},
      {"ur", "آج موسم اچھا ہے اور ہم بچوں کے ساتھ پارک جا رہے ہیں۔"},
      {"hi", "आज मौसम अच्छा है और हम बच्चों के साथ पार्क में जा रहे हैं।"},
      {"mr", "आज हवामान छान आहे आणि आम्ही मुलांसोबत बागेत जात आहोत."},
      {"ne", "आज मौसम राम्रो छ र हामी केटाकेटीहरूलाई पार्कमा लैजाँदैछौं।"},
      {"bn", "আজ আবহাওয়া ভালো এবং আমরা বাচ্চাদের সাথে পার্কে যাচ্ছি।"},
      {"pa", "ਅੱਜ ਮੌਸਮ ਚੰਗਾ ਹੈ ਅਤੇ ਅਸੀਂ ਬੱਚਿਆਂ ਨਾਲ ਪਾਰਕ ਜਾ ਰਹੇ ਹਾਂ।"},
      {"gu", "આજે હવામાન સારું છે અને અમે બાળકો સાથે પાર્કમાં જઈ રહ્યા છીએ."},
      {"ta", "இன்று வானிலை நன்றாக உள்ளது, நாங்கள் குழந்தைகளுடன் பூங்காவுக்கு செல்கிறோம்."},
      {"te", "ఈ రోజు వాతావరణం బాగుంది మరియు మేము పిల్లలతో పార్కుకు వెళ్తున్నాము."},
      {"kn", "ಇಂದು ಹವಾಮಾನ ಚೆನ್ನಾಗಿದೆ ಮತ್ತು ನಾವು ಮಕ್ಕಳೊಂದಿಗೆ ಉದ್ಯಾನಕ್ಕೆ ಹೋಗುತ್ತಿದ್ದೇವೆ."},
      {"ko", "오늘 날씨가 좋아서 아이들과 함께 공원에 갑니다."},
      {"th", "วันนี้อากาศดีและเรากำลังจะไปสวนสาธารณะกับเด็กๆ"},
  };
  for (const auto& [language, text] : samples) EXPECT_EQ(detect_language(text), language) << text;
  EXPECT_EQ(detect_language("1234 !!"), "");
}

TEST(Ifeval, TheModuleScoresEveryBenchmarkPromptAndReportsAccuracies) {
  auto records = core::read_records(std::string(VECRL_SHARED_DATA) + "/datasets/ifeval/input_data.jsonl").records;
  ASSERT_EQ(records.size(), 541u);
  std::set<std::string> ids;
  for (const auto& r : records)
    for (const auto& id : r["instruction_id_list"]) ids.insert(id.get<std::string>());
  EXPECT_EQ(ids, std::set<std::string>(instruction_ids().begin(), instruction_ids().end()));

  // Every record's kwargs are understood (no record fails), with a plain response.
  rewards::RewardSet set(vecrl::testing::specs("rewards: [{type: ifeval}]"));
  std::vector<std::string> responses(records.size(), "A short plain answer without much structure.");
  auto m = set.score(vecrl::testing::rollouts(responses, {}, records));
  EXPECT_EQ(set.failures(), 0);
  const auto dims = static_cast<int64_t>(instruction_ids().size());
  // Per-instruction dimensions are valid exactly where the prompt carries that instruction.
  for (std::size_t i = 0; i < records.size(); ++i) {
    std::set<std::string> present;
    for (const auto& id : records[i]["instruction_id_list"]) present.insert(id.get<std::string>());
    for (int64_t k = 0; k < dims; ++k) {
      const bool valid = m.valid[i][0][k].item().toBool();
      ASSERT_EQ(valid, present.count(instruction_ids()[k]) == 1) << i << " " << k;
    }
    const bool accuracies_valid = m.valid[i][0].narrow(0, dims, 4).all().item().toBool();
    ASSERT_TRUE(accuracies_valid);
  }

  // A response written to follow record 0's instructions scores 1 on both accuracies.
  json record{{"instruction_id_list", {"punctuation:no_comma", "detectable_format:title", "startend:end_checker"}},
              {"kwargs", {json::object(), json::object(), {{"end_phrase", "Is there anything else I can help with?"}}}}};
  auto good = set.score(vecrl::testing::rollouts({"<<A Title>>\nNo commas. Is there anything else I can help with?",
                                           "<<A Title>>\nOne, two. Is there anything else I can help with?"},
                                          {}, {record, record}));
  const auto names = set.dim_names();
  auto value = [&](int64_t row, const std::string& name) {
    const auto k = std::find(names.begin(), names.end(), "ifeval/" + name) - names.begin();
    return good.values[row][0][k].item<double>();
  };
  EXPECT_EQ(value(0, "prompt_level_strict"), 1.0);
  EXPECT_EQ(value(1, "prompt_level_strict"), 0.0);
  EXPECT_NEAR(value(1, "instruction_level_strict"), 2.0 / 3.0, 1e-6);
}
