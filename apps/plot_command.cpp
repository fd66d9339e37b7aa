// `vecrl plot RUN_DIR [RUN_DIR ...]`: PNG charts of runs' metrics.jsonl through gnuplot (Debian's
// gnuplot-nox). One series per run (and per reward dimension), so estimators can be compared.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "apps/commands.h"
#include "core/json_input.h"
#include "core/error.h"

namespace vecrl::apps {
namespace fs = std::filesystem;

namespace {

struct Run {
  std::string name;
  std::vector<nlohmann::json> steps;
};

Run read_run(const std::string& dir) {
  const fs::path path = fs::path(dir) / "metrics.jsonl";
  std::ifstream in(path);
  VECRL_CHECK(in, path.string(), ": cannot open (is ", dir, " a run folder?)");
  Run run{fs::path(dir).filename().string(), {}};
  if (run.name.empty()) run.name = fs::path(dir).parent_path().filename().string();
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    run.steps.push_back(core::parse_json(line, path.string() + ":" + std::to_string(n)));
  }
  VECRL_CHECK(!run.steps.empty(), path.string(), ": no steps logged yet");
  return run;
}

// Reward dimensions logged by a run: rewards/<name>/<dim>/mean, in order of appearance.
std::vector<std::string> reward_dims(const Run& run) {
  std::vector<std::string> dims;
  for (const auto& [key, value] : run.steps.front().items()) {
    const std::string prefix = "rewards/", suffix = "/mean";
    if (key.rfind(prefix, 0) == 0 && key.size() > prefix.size() + suffix.size() &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
      dims.push_back(key.substr(prefix.size(), key.size() - prefix.size() - suffix.size()));
  }
  return dims;
}

// Writes step + columns to a TSV file; missing values become NaN (gnuplot skips them).
std::string write_table(const fs::path& path, const Run& run, const std::vector<std::string>& keys) {
  std::ofstream out(path);
  for (const auto& s : run.steps) {
    out << s.value("step", 0);
    for (const auto& k : keys) {
      if (s.contains(k) && s[k].is_number()) {
        out << '\t' << s[k].get<double>();
      } else {
        out << "\tNaN";
      }
    }
    out << '\n';
  }
  return path.string();
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

}  // namespace

int run_plot(const PlotArgs& args) {
  VECRL_CHECK(!args.runs.empty(), "plot: give at least one run folder");
  std::vector<Run> runs;
  for (const auto& dir : args.runs) runs.push_back(read_run(dir));
  const fs::path out = args.out.empty() ? fs::path(args.runs.front()) / "plots" : fs::path(args.out);
  fs::create_directories(out);
  const fs::path data = out / "data";
  fs::create_directories(data);

  const std::vector<std::string> scalar_keys = {"critic/score/mean", "actor/kl_loss", "actor/entropy",
                                                "response_length/mean"};
  std::ostringstream gp;
  gp << "set terminal pngcairo size 900,540 noenhanced font 'sans,10'\nset grid\nset key outside right\n"
     << "set datafile missing 'NaN'\nset xlabel 'step'\n";
  struct Chart {
    std::string file, title, key;
  };
  const std::vector<Chart> charts = {{"total_reward.png", "total reward (critic/score/mean)", "critic/score/mean"},
                                     {"kl.png", "KL to the reference (actor/kl_loss)", "actor/kl_loss"},
                                     {"entropy.png", "policy entropy (actor/entropy)", "actor/entropy"},
                                     {"length.png", "mean response length (tokens)", "response_length/mean"}};
  std::vector<std::string> tables;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    std::vector<std::string> keys = scalar_keys;
    for (const auto& d : reward_dims(runs[r])) keys.push_back("rewards/" + d + "/mean");
    tables.push_back(write_table(data / (std::to_string(r) + "_" + runs[r].name + ".tsv"), runs[r], keys));
  }
  for (std::size_t c = 0; c < charts.size(); ++c) {
    gp << "set output " << quoted((out / charts[c].file).string()) << "\nset title " << quoted(charts[c].title)
       << "\nplot ";
    for (std::size_t r = 0; r < runs.size(); ++r)
      gp << (r ? ", " : "") << quoted(tables[r]) << " using 1:" << c + 2 << " with lines lw 2 title "
         << quoted(runs[r].name);
    gp << "\n";
  }
  // Reward per dimension: one line per run and dimension.
  gp << "set output " << quoted((out / "rewards.png").string()) << "\nset title 'reward per dimension (mean)'\nplot ";
  bool first = true;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto dims = reward_dims(runs[r]);
    for (std::size_t d = 0; d < dims.size(); ++d) {
      gp << (first ? "" : ", ") << quoted(tables[r]) << " using 1:" << scalar_keys.size() + 2 + d
         << " with lines lw 2 title " << quoted(runs[r].name + " " + dims[d]);
      first = false;
    }
  }
  gp << "\n";
  // Two-objective trade-off: the first two reward dimensions against each other, step by step.
  const auto dims0 = reward_dims(runs.front());
  if (dims0.size() >= 2) {
    gp << "set output " << quoted((out / "tradeoff.png").string()) << "\nset title 'two-objective trade-off'\n"
       << "set xlabel " << quoted(dims0[0]) << "\nset ylabel " << quoted(dims0[1]) << "\nplot ";
    for (std::size_t r = 0; r < runs.size(); ++r)
      gp << (r ? ", " : "") << quoted(tables[r]) << " using " << scalar_keys.size() + 2 << ":"
         << scalar_keys.size() + 3 << " with linespoints pt 7 ps 0.6 title " << quoted(runs[r].name);
    gp << "\n";
  }
  const fs::path script = data / "plots.gp";
  std::ofstream(script) << gp.str();
  VECRL_CHECK(std::system("command -v gnuplot >/dev/null 2>&1") == 0,
              "plot: gnuplot is not installed (apt-get install gnuplot-nox)");
  const std::string cmd = "gnuplot " + quoted(script.string()) + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string log;
  char buf[1024];
  while (std::size_t n = fread(buf, 1, sizeof(buf), pipe)) log.append(buf, n);
  VECRL_CHECK(pclose(pipe) == 0, "plot: gnuplot failed on ", script.string(), ": ", log);
  std::cout << "plots written to " << out.string() << "\n";
  return 0;
}

}  // namespace vecrl::apps
