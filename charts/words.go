package charts

import (
	"embed"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// TopWords is how many words a word cloud shows (SPEC §3.3).
const TopWords = 50

// WordCount is a word and how often it occurs.
type WordCount struct {
	Word  string
	Count int
}

//go:embed stopwords/*.txt
var stopFiles embed.FS

var (
	stopOnce sync.Once
	stopSets map[string]map[string]bool
)

// stopCodes maps ISO-639-1/2/3 codes (RapidPro stores ISO-639-3) and common
// macrolanguage members to the stop-word list that covers them.
var stopCodes = map[string]string{
	"en": "en", "eng": "en",
	"fr": "fr", "fra": "fr", "fre": "fr",
	"es": "es", "spa": "es",
	"fa": "fa", "fas": "fa", "per": "fa", "pes": "fa", "prs": "fa",
	"ps": "ps", "pus": "ps", "pbt": "ps", "pbu": "ps", "pst": "ps",
	"ar": "ar", "ara": "ar", "arb": "ar", "arz": "ar", "apc": "ar", "ajp": "ar", "ary": "ar", "arq": "ar", "apd": "ar",
	"rw": "rw", "kin": "rw",
	"sw": "sw", "swa": "sw", "swh": "sw", "swc": "sw",
}

// StopLanguage returns the stop-word list key ("en", "fr", "es", "fa", "ps",
// "ar", "rw", "sw") for a language code, or "" when there is no list.
func StopLanguage(code string) string {
	return stopCodes[strings.ToLower(strings.TrimSpace(code))]
}

// IsStopWord reports whether a lowercased, normalised word is a stop word of
// the language code (any code StopLanguage knows).
func IsStopWord(code, word string) bool {
	return stopSet(StopLanguage(code))[word]
}

func stopSet(key string) map[string]bool {
	stopOnce.Do(func() {
		stopSets = map[string]map[string]bool{}
		entries, _ := stopFiles.ReadDir("stopwords")
		for _, e := range entries {
			data, err := stopFiles.ReadFile("stopwords/" + e.Name())
			if err != nil {
				continue
			}
			set := map[string]bool{}
			for _, line := range strings.Split(string(data), "\n") {
				if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") {
					set[normalise(strings.ToLower(w), strings.TrimSuffix(e.Name(), ".txt"))] = true
				}
			}
			stopSets[strings.TrimSuffix(e.Name(), ".txt")] = set
		}
	})
	return stopSets[key]
}

// wordRune reports whether r belongs inside a word: Unicode letters, marks and
// numbers (so Persian, Arabic and Pashto letters with their diacritics are word
// characters), the underscore, the apostrophe, the hyphen, and the zero-width
// non-joiner that is part of Persian spelling (می‌خواهم).
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) ||
		r == '_' || r == '\'' || r == '-' || r == '\u200c'
}

// normalise makes spellings of one word compare equal: typographic apostrophes
// and hyphens become ASCII, the Arabic tatweel and short-vowel marks go, and in
// Persian the Arabic kaf and yeh become their Persian forms (phones often type
// the Arabic ones); in Pashto only the kaf (Pashto uses both yehs).
func normalise(w, key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u2019' || r == '\u2018' || r == '\u02bc':
			return '\''
		case r == '\u2010' || r == '\u2011':
			return '-'
		case r == '\u0640' || (r >= '\u064b' && r <= '\u065f') || r == '\u0670':
			return -1
		case r == '\u0643' && (key == "fa" || key == "ps"):
			return '\u06a9'
		case (r == '\u064a' || r == '\u0649') && key == "fa":
			return '\u06cc'
		}
		return r
	}, w)
}

// tokens splits one text into the words a word cloud counts (SPEC §3.3):
// lowercase; split on anything but word characters, apostrophes and hyphens;
// apostrophes, hyphens and ZWNJs at a word's ends are trimmed (quotes, dashes);
// words of one character and stop words of the language are dropped.
func tokens(s, code string) []string {
	key := StopLanguage(code)
	stop := stopSet(key)
	s = normalise(strings.ToLower(s), key)
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !wordRune(r) }) {
		w = strings.Trim(w, "'-\u200c")
		if utf8.RuneCountInString(w) < 2 || stop[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// Words counts the words of open-ended answers for a word cloud: texts[i] is
// tokenised with the stop words of language lang(i) (an ISO-639 code, usually
// the contact's; "" or unknown = no stop words; lang may be nil). It returns
// the TopWords most frequent words, by count descending, ties by word.
func Words(texts []string, lang func(i int) string) []WordCount {
	counts := map[string]int{}
	for i, t := range texts {
		code := ""
		if lang != nil {
			code = lang(i)
		}
		for _, w := range tokens(t, code) {
			counts[w]++
		}
	}
	return Top(counts, TopWords)
}

// Top returns the n most frequent words of counts, by count descending, ties
// by word ascending.
func Top(counts map[string]int, n int) []WordCount {
	out := make([]WordCount, 0, len(counts))
	for w, c := range counts {
		if c > 0 {
			out = append(out, WordCount{w, c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Word < out[j].Word
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
