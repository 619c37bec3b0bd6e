package models

import (
	"testing"
)

func TestNormalizeURN(t *testing.T) {
	for _, tc := range []struct{ scheme, value, country, urn, msg string }{
		{"tel", "+250 788 123 456", "", "tel:+250788123456", ""},
		{"tel", "0788 123 456", "RW", "tel:+250788123456", ""},
		{"tel", "0788 123 456", "", "", MsgPhoneInvalid}, // no country code and no org country
		{"tel", "+999 123 456 789", "", "", MsgPhoneCountry},
		{"tel", "+250 78", "", "", MsgPhoneShort},
		{"tel", "+250 788 123 456 789", "", "", MsgPhoneLong},
		{"whatsapp", "250788123456", "", "whatsapp:250788123456", ""},
		{"telegram", "42", "", "telegram:42", ""},
		{"twitter", "@Bob_1", "", "twitter:bob_1", ""},
		{"twitterid", "99#bob", "", "twitterid:99", ""},
		{"twitterid", "99#bad handle", "", "", "A Twitter ID is a number, optionally followed by #handle."},
	} {
		urn, err := NormalizeURN(tc.scheme, tc.value, tc.country)
		msg := ""
		if e, ok := err.(*Error); ok {
			msg = e.Message
		} else if err != nil {
			t.Fatalf("%v: %v", tc, err)
		}
		if urn != tc.urn || msg != tc.msg {
			t.Errorf("%s %q (%s) = %q, %q; want %q, %q", tc.scheme, tc.value, tc.country, urn, msg, tc.urn, tc.msg)
		}
	}
	if c := OrgCountry(&Org{Timezone: "Africa/Kigali"}); c != "RW" {
		t.Errorf("Africa/Kigali → %q", c)
	}
	if c := OrgCountry(&Org{Timezone: "UTC"}); c != "" {
		t.Errorf("UTC → %q", c)
	}
}

func TestLanguageCode(t *testing.T) {
	for in, want := range map[string]string{"kin": "kin", "Kinyarwanda": "kin", " fra ": "fra", "français": "fra", "kin Kinyarwanda": "kin", "klingon": "", "": ""} {
		if got, ok := LanguageCode(in); got != want || ok != (want != "") {
			t.Errorf("LanguageCode(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestDefaultContactLanguage(t *testing.T) {
	for ui, want := range map[string]string{"en": "eng", "es": "spa", "ps": "pus", "xx": ""} {
		if got := DefaultContactLanguage(ui); got != want {
			t.Errorf("%s → %q, want %q", ui, got, want)
		}
	}
	for ui, code := range uiLanguage3 {
		if _, ok := LanguageCode(code); !ok {
			t.Errorf("%s → %s, which the form does not offer", ui, code)
		}
	}
}
