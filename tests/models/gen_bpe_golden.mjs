// Writes tests/models/data/bpe_golden.json: token ids for a few hundred varied strings from two
// independent reference implementations, so the C++ byte-level BPE is checked against them:
//   - Qwen3 (tokenizer.json):       @lenml/tokenizers (a fork of transformers.js' tokenizers)
//   - GPT-2 (encoder.json+vocab.bpe): gpt-3-encoder (OpenAI's original encoder ported to JS)
// Run from the repository root after `npm install --prefix /tmp/bpe-ref @lenml/tokenizers gpt-3-encoder`:
//   NODE_PATH=/tmp/bpe-ref/node_modules node tests/models/gen_bpe_golden.mjs
import { createRequire } from "module";
import fs from "fs";

const require = createRequire(process.env.NODE_PATH + "/");
const { TokenizerLoader } = require("@lenml/tokenizers");
const gpt2 = require("gpt-3-encoder");

const shared = "../shared/data/tokenizers";
const qwen3 = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(fs.readFileSync(`${shared}/qwen3/tokenizer.json`, "utf8")),
  tokenizerConfig: JSON.parse(fs.readFileSync(`${shared}/qwen3/tokenizer_config.json`, "utf8")),
});

const seeds = [
  "Hello world", "Hello, world!", "hello   world", " leading space", "trailing space ", "  two leading",
  "tabs\tand\ttabs", "line one\nline two", "windows\r\nline endings\r\n", "\n\n\nblank lines\n\n",
  "   ", "\t", "\n", " ", "a", "I'm here", "you're", "they've", "we'll", "she'd", "it's", "DON'T SHOUT",
  "He said 'hello' and left.", "\"quoted\" text", "O'Neil's dog's bone", "rock'n'roll",
  "The answer is 42.", "3.14159", "1,234,567", "-17", "+5", "1e-9", "0x1F", "100%", "$12.50", "€20",
  "12345678901234567890", "2024-11-27", "10:30pm", "1/2 + 3/4 = 5/4", "x^2 + y^2 = z^2",
  "\\frac{3}{4}", "\\boxed{\\dfrac{1}{2}}", "$\\sqrt{2}$", "\\left( x \\right)", "90^\\circ",
  "#### 18", "Natalia sold 48/2 = <<48/2=24>>24 clips in May.", "a+b=c", "f(x)=x*x", "α + β = γ",
  "∑_{i=1}^{n} i = n(n+1)/2", "∀x ∈ ℝ, x² ≥ 0", "½ ¼ ¾", "①②③", "ⅣⅤⅥ",
  "def add(a, b):\n    return a + b\n", "for i in range(10):\n\tprint(i)", "if (x) { return y; }",
  "    indented code", "        deeply\n            nested", "x = [1, 2, 3]  # comment", "print('hi')",
  "#include <stdio.h>\nint main() { return 0; }", "SELECT * FROM t WHERE id = 1;", "a && b || !c",
  "std::vector<int> v{1, 2};", "lambda x: x ** 2", "```python\nimport os\n```", "<div class=\"a\">x</div>",
  "https://example.com/path?q=1&r=2", "user@example.com", "C:\\Users\\name\\file.txt", "/usr/bin/env",
  "你好，世界", "我爱自然语言处理。", "中文和English混合", "日本語のテキスト", "한국어 텍스트", "Привет, мир!",
  "Ελληνικά", "עברית", "العربية", "हिन्दी", "ไทย", "Tiếng Việt có dấu", "Ünïcödé àccénts", "naïve café",
  "straße", "ﬁ ligature", "e\u0301 combining", "Å vs A\u030a", "\u00a0non-breaking\u00a0space",
  "zero\u200bwidth", "😀", "🎉🎉🎉", "👍🏽", "👨‍👩‍👧‍👦 family", "🇫🇷 flag", "I ❤️ emoji", "✓ done ✗ failed",
  "<|im_start|>user\nHello<|im_end|>\n", "<|im_start|>assistant\n", "<|endoftext|>", "text<|im_end|>more",
  "<think>\nreasoning\n</think>\nanswer", "<tool_call>{\"name\": \"calc\"}</tool_call>", "<|im_start|><|im_end|>",
  "<|fake_token|>", "< |im_start| >", "<answer>7</answer>", "<<<>>>", "!!!???", "...", "—–-", "***bold***",
  "__init__", "snake_case_name", "camelCaseName", "PascalCase", "SCREAMING_CASE", "kebab-case-name",
  "a  b   c    d", "end.\n", "Mr. Smith went to Washington.", "e.g. i.e. etc.", "U.S.A.",
  "The quick brown fox jumps over the lazy dog.", "Once upon a time, there was a little girl named Lily.",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abababababababab", "            ", "\t\t\t\n\n ",
  "Question: What is 2+2?\nAnswer: 4", "Step 1: add.\nStep 2: multiply.\nTherefore, the answer is 12.",
];

const variants = (s) => [s, " " + s, s + "\n", s.toUpperCase(), s + " " + s];
const strings = [...new Set(seeds.flatMap(variants))];
const hasSpecial = (s) => s.includes("<|");
const items = strings.map((text) => {
  const item = { text, qwen3: qwen3.encode(text, { add_special_tokens: false }) };
  if (!hasSpecial(text)) item.gpt2 = gpt2.encode(text);
  return item;
});
fs.writeFileSync("tests/models/data/bpe_golden.json", JSON.stringify(items) + "\n");
console.log(`wrote ${items.length} strings`);
