package models

import "strings"

// Language is a contact language: its ISO 639-3 code (what RapidPro stores)
// and its name in that language (an autonym, so the list needs no translation).
type Language struct {
	Code, Name string
}

// ContactLanguages are the languages the contact form offers (ISO 639-3),
// the world's widely used ones and those of the countries RapidPro serves.
var ContactLanguages = []Language{
	{"afr", "Afrikaans"}, {"aka", "Akan"}, {"amh", "አማርኛ (Amharic)"}, {"ara", "العربية (Arabic)"},
	{"aze", "Azərbaycan"}, {"bam", "Bamanankan"}, {"bel", "Беларуская"}, {"ben", "বাংলা (Bengali)"},
	{"bos", "Bosanski"}, {"bul", "Български"}, {"cat", "Català"}, {"ces", "Čeština"},
	{"cym", "Cymraeg"}, {"dan", "Dansk"}, {"deu", "Deutsch"}, {"div", "ދިވެހި"},
	{"dzo", "རྫོང་ཁ"}, {"ell", "Ελληνικά"}, {"eng", "English"}, {"est", "Eesti"},
	{"eus", "Euskara"}, {"ewe", "Eʋegbe"}, {"fas", "فارسی (Persian)"}, {"fil", "Filipino"},
	{"fin", "Suomi"}, {"fra", "Français"}, {"ful", "Fulfulde"}, {"gle", "Gaeilge"},
	{"glg", "Galego"}, {"grn", "Avañe'ẽ"}, {"guj", "ગુજરાતી"}, {"hat", "Kreyòl ayisyen"},
	{"hau", "Hausa"}, {"heb", "עברית"}, {"hin", "हिन्दी (Hindi)"}, {"hrv", "Hrvatski"},
	{"hun", "Magyar"}, {"hye", "Հայերեն"}, {"ibo", "Igbo"}, {"ind", "Bahasa Indonesia"},
	{"isl", "Íslenska"}, {"ita", "Italiano"}, {"jpn", "日本語"}, {"kan", "ಕನ್ನಡ"},
	{"kat", "ქართული"}, {"kau", "Kanuri"}, {"kaz", "Қазақ"}, {"khm", "ខ្មែរ"},
	{"kik", "Gĩkũyũ"}, {"kin", "Kinyarwanda"}, {"kir", "Кыргызча"}, {"kon", "Kikongo"},
	{"kor", "한국어"}, {"kur", "Kurdî"}, {"lao", "ລາວ"}, {"lav", "Latviešu"},
	{"lin", "Lingála"}, {"lit", "Lietuvių"}, {"lug", "Luganda"}, {"luo", "Dholuo"},
	{"mal", "മലയാളം"}, {"mar", "मराठी"}, {"mkd", "Македонски"}, {"mlg", "Malagasy"},
	{"mlt", "Malti"}, {"mon", "Монгол"}, {"mri", "Māori"}, {"msa", "Bahasa Melayu"},
	{"mya", "မြန်မာ"}, {"nep", "नेपाली"}, {"nld", "Nederlands"}, {"nor", "Norsk"},
	{"nya", "Chichewa"}, {"orm", "Afaan Oromoo"}, {"pan", "ਪੰਜਾਬੀ"}, {"pol", "Polski"},
	{"por", "Português"}, {"pus", "پښتو (Pashto)"}, {"que", "Runa Simi"}, {"ron", "Română"},
	{"run", "Ikirundi"}, {"rus", "Русский"}, {"sag", "Sängö"}, {"sin", "සිංහල"},
	{"slk", "Slovenčina"}, {"slv", "Slovenščina"}, {"sna", "chiShona"}, {"som", "Soomaali"},
	{"sot", "Sesotho"}, {"spa", "Español"}, {"sqi", "Shqip"}, {"srp", "Српски"},
	{"swa", "Kiswahili"}, {"swe", "Svenska"}, {"tam", "தமிழ்"}, {"tel", "తెలుగు"},
	{"tgk", "Тоҷикӣ"}, {"tha", "ไทย"}, {"tir", "ትግርኛ"}, {"tsn", "Setswana"},
	{"tuk", "Türkmen"}, {"tur", "Türkçe"}, {"twi", "Twi"}, {"uig", "ئۇيغۇرچە"},
	{"ukr", "Українська"}, {"urd", "اردو (Urdu)"}, {"uzb", "Oʻzbek"}, {"vie", "Tiếng Việt"},
	{"wol", "Wolof"}, {"xho", "isiXhosa"}, {"yor", "Yorùbá"}, {"zho", "中文 (Chinese)"},
	{"zul", "isiZulu"},
}

// LanguageCode resolves what a user typed in the language field — a code
// ("kin"), a name ("Kinyarwanda") or the "code — name" text of the list —
// to a code of ContactLanguages; ok is false for anything else.
func LanguageCode(input string) (code string, ok bool) {
	s := strings.TrimSpace(input)
	if c, _, found := strings.Cut(s, " "); found && len(c) == 3 {
		s2 := strings.ToLower(c)
		for _, l := range ContactLanguages {
			if l.Code == s2 {
				return l.Code, true
			}
		}
	}
	for _, l := range ContactLanguages {
		if strings.EqualFold(l.Code, s) || strings.EqualFold(l.Name, s) {
			return l.Code, true
		}
	}
	return "", false
}

// uiLanguage3 maps the interface languages (ISO 639-1) to ISO 639-3.
var uiLanguage3 = map[string]string{"en": "eng", "fr": "fra", "es": "spa", "fa": "fas", "ps": "pus", "rw": "kin",
	"sw": "swa", "pt": "por", "ar": "ara", "am": "amh", "so": "som", "ha": "hau", "yo": "yor", "ur": "urd"}

// DefaultContactLanguage is the contact language matching an org's default
// interface language ("" when none does).
func DefaultContactLanguage(orgLanguage string) string { return uiLanguage3[orgLanguage] }

// LanguageName is the name of a code of ContactLanguages (the code itself
// when unknown).
func LanguageName(code string) string {
	for _, l := range ContactLanguages {
		if l.Code == code {
			return l.Name
		}
	}
	return code
}
