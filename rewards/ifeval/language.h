#pragma once
// A small native language identifier for IFEval's response_language and english_* checks (the
// reference uses the Python langdetect package). Script first (Hangul, Thai, the Indic scripts,
// Arabic, Cyrillic, Latin), then within a script marker letters and frequent function words.
// Covers the languages IFEval asks for plus English; returns an ISO 639-1 code or "" when the text
// has no letters.
#include <string>

namespace vecrl::rewards::ifeval {

std::string detect_language(const std::string& text);

}  // namespace vecrl::rewards::ifeval
