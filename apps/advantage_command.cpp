// `vecrl advantage`: advantages of reward vectors given as JSON, through the same estimators as
// training. The JSON parsing (the edge) lives here; the numerics stay in algorithms/.
#include <torch/types.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "algorithms/advantage.h"
#include "core/json_input.h"
#include "apps/commands.h"
#include "core/plugin.h"

namespace vecrl::apps {
namespace {

using nlohmann::json;

double number_at(const json& v, const std::string& where) {
  VECRL_CHECK(v.is_number(), where, ": expected a number, found ", v.dump());
  const double x = v.get<double>();
  VECRL_CHECK(std::isfinite(x), where, ": not a finite number");
  return x;
}

struct ParsedInput {
  core::RewardMatrix rewards;
  std::vector<double> weights;
  int64_t group_size = 0;
  torch::Tensor response_mask;
};

// One rollout's answers: "rewards" rows are a single answer; VPO's "answers" lists 0..M answers.
ParsedInput parse(const json& doc) {
  VECRL_CHECK(doc.is_object(), "input: expected a JSON object with \"groups\"");
  VECRL_CHECK(doc.contains("groups") && doc["groups"].is_array() && !doc["groups"].empty(),
              "input: \"groups\" must be a non-empty list");
  std::vector<std::string> names;
  if (doc.contains("reward_names")) {
    VECRL_CHECK(doc["reward_names"].is_array(), "input: \"reward_names\" must be a list of strings");
    for (const auto& n : doc["reward_names"]) {
      VECRL_CHECK(n.is_string(), "input: \"reward_names\" must be a list of strings");
      names.push_back(n.get<std::string>());
    }
  }
  // rows[i][m][k] with validity; K comes from reward_names or the first row seen.
  std::vector<std::vector<std::vector<double>>> values;
  std::vector<std::vector<std::vector<bool>>> valid;
  std::vector<int64_t> lengths;
  int64_t K = names.empty() ? -1 : static_cast<int64_t>(names.size()), G = -1, M = 1;
  auto read_vector = [&](const json& row, const std::string& where) {
    VECRL_CHECK(row.is_array(), where, ": expected a list of ", K < 0 ? "" : std::to_string(K) + " ", "numbers");
    if (K < 0) K = static_cast<int64_t>(row.size());
    VECRL_CHECK(static_cast<int64_t>(row.size()) == K, where, ": ", row.size(), " values, expected K = ", K);
    std::vector<double> v;
    for (std::size_t k = 0; k < row.size(); ++k) v.push_back(number_at(row[k], where + "[" + std::to_string(k) + "]"));
    return v;
  };
  const auto& groups = doc["groups"];
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string gw = "group " + std::to_string(g);
    const auto& group = groups[g];
    VECRL_CHECK(group.is_object() && (group.contains("rewards") || group.contains("answers")), gw,
                ": needs \"rewards\" (or \"answers\" for vpo)");
    const bool vpo = group.contains("answers");
    const auto& rows = vpo ? group["answers"] : group["rewards"];
    VECRL_CHECK(rows.is_array() && !rows.empty(), gw, ": \"", vpo ? "answers" : "rewards", "\" must be a non-empty list");
    if (G < 0) G = static_cast<int64_t>(rows.size());
    VECRL_CHECK(static_cast<int64_t>(rows.size()) == G, gw, ": ", rows.size(), " rollouts, but group 0 has ", G,
                " (all groups need the same size)");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const std::string rw = gw + " row " + std::to_string(i);
      std::vector<std::vector<double>> answers;
      std::vector<std::vector<bool>> answer_valid;
      if (vpo) {
        VECRL_CHECK(rows[i].is_array(), rw, ": expected a list of answer reward vectors");
        for (std::size_t a = 0; a < rows[i].size(); ++a) {
          answers.push_back(read_vector(rows[i][a], rw + " answer " + std::to_string(a)));
          answer_valid.emplace_back(static_cast<std::size_t>(K), true);
        }
      } else {
        answers.push_back(read_vector(rows[i], rw));
        std::vector<bool> ok(static_cast<std::size_t>(K), true);
        if (group.contains("valid")) {
          const auto& vrow = group["valid"];
          VECRL_CHECK(vrow.is_array() && vrow.size() == rows.size(), gw, ": \"valid\" needs one row per rollout");
          VECRL_CHECK(vrow[i].is_array() && static_cast<int64_t>(vrow[i].size()) == K, rw, ": \"valid\" needs ", K,
                      " entries");
          for (int64_t k = 0; k < K; ++k) {
            const auto& x = vrow[i][k];
            VECRL_CHECK(x.is_boolean() || x.is_number(), rw, ": \"valid\" entries are 0/1 or true/false");
            ok[k] = x.is_boolean() ? x.get<bool>() : x.get<double>() != 0;
          }
        }
        answer_valid.push_back(ok);
      }
      M = std::max<int64_t>(M, static_cast<int64_t>(answers.size()));
      values.push_back(std::move(answers));
      valid.push_back(std::move(answer_valid));
      int64_t len = 1;
      if (group.contains("lengths")) {
        VECRL_CHECK(group["lengths"].is_array() && group["lengths"].size() == rows.size() &&
                        group["lengths"][i].is_number_integer() && group["lengths"][i].get<int64_t>() >= 1,
                    gw, ": \"lengths\" needs one positive integer per rollout");
        len = group["lengths"][i].get<int64_t>();
      }
      lengths.push_back(len);
    }
  }
  VECRL_CHECK(K > 0, "input: no reward vectors (every rollout of every group has no answer)");
  if (names.empty())
    for (int64_t k = 0; k < K; ++k) names.push_back("r" + std::to_string(k));
  ParsedInput out;
  const auto N = static_cast<int64_t>(values.size());
  out.rewards = core::RewardMatrix::zeros(N, M, names);
  out.rewards.valid.fill_(false);
  auto v = out.rewards.values.accessor<float, 3>();
  auto ok = out.rewards.valid.accessor<bool, 3>();
  for (int64_t i = 0; i < N; ++i)
    for (std::size_t m = 0; m < values[i].size(); ++m)
      for (int64_t k = 0; k < K; ++k) {
        v[i][m][k] = static_cast<float>(values[i][m][k]);
        ok[i][m][k] = valid[i][m][k];
      }
  if (doc.contains("weights")) {
    VECRL_CHECK(doc["weights"].is_array() && static_cast<int64_t>(doc["weights"].size()) == K, "input: \"weights\" needs ",
                K, " numbers");
    for (std::size_t k = 0; k < doc["weights"].size(); ++k)
      out.weights.push_back(number_at(doc["weights"][k], "input: weights[" + std::to_string(k) + "]"));
  } else {
    out.weights.assign(static_cast<std::size_t>(K), 1.0 / static_cast<double>(K));
  }
  const int64_t T = *std::max_element(lengths.begin(), lengths.end());
  out.response_mask = torch::zeros({N, T}, torch::kBool);
  for (int64_t i = 0; i < N; ++i) out.response_mask[i].narrow(0, 0, lengths[i]).fill_(true);
  out.group_size = G;
  return out;
}

json by_group(const torch::Tensor& values, int64_t G) {
  json out = json::array();
  auto v = values.to(torch::kDouble).contiguous();
  const double* p = v.data_ptr<double>();
  for (int64_t start = 0; start < v.numel(); start += G) out.push_back(std::vector<double>(p + start, p + start + G));
  return out;
}

}  // namespace

int run_advantage(const AdvantageArgs& args) {
  core::load_plugins(args.plugins);
  std::string text;
  if (args.file.empty() || args.file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(args.file);
    VECRL_CHECK(in, args.file, ": cannot open");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string source = args.file.empty() ? "<stdin>" : args.file;
  const json doc = core::parse_json(text, source);
  ParsedInput input;
  try {
    input = parse(doc);
  } catch (const core::Error& e) {
    throw core::Error(core::str_cat(source, ": ", e.what()));
  }
  YAML::Node options(YAML::NodeType::Map);
  for (const auto& s : args.sets) core::apply_override(options, s);
  core::ConfigNode node(options, "--set", args.sets);
  core::ComponentSpec spec{args.estimator, std::make_shared<core::ConfigNode>(node)};
  auto estimator = core::create_component(algorithms::advantage_registry(), spec);
  auto adv = estimator->compute({input.rewards, input.weights, input.group_size, input.response_mask, {}});
  const int64_t G = input.group_size;
  json out = {{"advantages", by_group(adv.values[0], G)}};
  if (adv.num_channels() > 1) {
    out["channels"] = json::object();
    out["channel_weights"] = json::object();
    for (int64_t c = 0; c < adv.num_channels(); ++c) {
      out["channels"][adv.channels[c]] = by_group(adv.values[c], G);
      out["channel_weights"][adv.channels[c]] = adv.weight(c);
    }
  }
  if (adv.token_values.defined()) {
    json tokens = json::array();
    for (int64_t i = 0; i < adv.token_values.size(1); ++i) {
      const int64_t len = input.response_mask[i].sum().item<int64_t>();
      auto row = adv.token_values[0][i].narrow(0, 0, len).to(torch::kDouble).contiguous();
      tokens.push_back(std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + len));
    }
    out["token_advantages"] = tokens;
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace vecrl::apps
