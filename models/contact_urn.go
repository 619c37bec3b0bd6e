package models

import (
	"errors"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ContactURNSchemes are the URN schemes the contact form offers (SPEC §2.4,
// plus whatsapp and telegram, which the original could not handle).
var ContactURNSchemes = []string{"tel", "whatsapp", "telegram", "twitter", "twitterid"}

// The phone number errors of the contact form (SPEC §2.4: invalid, bad
// country code, too short, too long).
var (
	errPhoneInvalid = &Error{Code: CodeInvalid, Field: "urn", Message: "Enter a valid phone number with its country code, e.g. +250 788 123 456."}
	errPhoneCountry = &Error{Code: CodeInvalid, Field: "urn", Message: "The country code of this phone number is not valid."}
	errPhoneShort   = &Error{Code: CodeInvalid, Field: "urn", Message: "This phone number is too short."}
	errPhoneLong    = &Error{Code: CodeInvalid, Field: "urn", Message: "This phone number is too long."}
)

// The messages of the phone number errors.
var (
	MsgPhoneInvalid = errPhoneInvalid.Message
	MsgPhoneCountry = errPhoneCountry.Message
	MsgPhoneShort   = errPhoneShort.Message
	MsgPhoneLong    = errPhoneLong.Message
)

var (
	twitterHandleRe = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)
	digitsRe        = regexp.MustCompile(`^[0-9]{1,20}$`)
)

// OrgCountry is the ISO 3166 country of an org's time zone ("" for zones
// of no country, such as UTC): the country of phone numbers typed without
// a country code.
func OrgCountry(o *Org) string {
	if o == nil {
		return ""
	}
	return zoneCountry[o.Timezone]
}

// NormalizeURN validates what the contact form's URN fields hold and returns
// the URN as RapidPro stores it:
//   - tel: a phone number, normalised to E.164 ("tel:+250788123456"); a
//     number without "+" is read as a national number of country (when
//     country is "", the country code is required);
//   - whatsapp: a phone number in full international form, stored as its
//     E.164 digits without "+" ("whatsapp:250788123456");
//   - telegram: the numeric Telegram ID;
//   - twitter: a handle of 1–15 letters, digits or underscores (a leading @
//     is dropped), lower-cased as RapidPro does;
//   - twitterid: the numeric Twitter ID; a "#handle" after it (the display
//     form of such URNs) is accepted and dropped, the ID being the identity.
//
// Errors concern the field "urn" (or "scheme" for an unknown scheme).
func NormalizeURN(scheme, value, country string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", InvalidField("urn", "Enter the phone number, ID or handle.")
	}
	switch scheme {
	case "tel":
		e164, err := normalizePhone(v, country)
		if err != nil {
			return "", err
		}
		return "tel:" + e164, nil
	case "whatsapp":
		if !strings.HasPrefix(v, "+") {
			v = "+" + v
		}
		e164, err := normalizePhone(v, "")
		if err != nil {
			return "", err
		}
		return "whatsapp:" + strings.TrimPrefix(e164, "+"), nil
	case "telegram":
		if !digitsRe.MatchString(v) {
			return "", InvalidField("urn", "A Telegram ID is a number.")
		}
		return "telegram:" + v, nil
	case "twitter":
		h := strings.TrimPrefix(v, "@")
		if !twitterHandleRe.MatchString(h) {
			return "", InvalidField("urn", "A Twitter handle has 1 to 15 letters, digits or underscores.")
		}
		return "twitter:" + strings.ToLower(h), nil
	case "twitterid":
		id, handle, hasHandle := strings.Cut(v, "#")
		if !digitsRe.MatchString(id) || hasHandle && !twitterHandleRe.MatchString(handle) {
			return "", InvalidField("urn", "A Twitter ID is a number, optionally followed by #handle.")
		}
		return "twitterid:" + id, nil
	}
	return "", InvalidField("scheme", "Choose one of the URN types.")
}

// normalizePhone parses a phone number and returns its E.164 form, or an
// error with one of the four messages of SPEC §2.4.
func normalizePhone(v, country string) (string, error) {
	if !strings.HasPrefix(v, "+") && country == "" {
		return "", errPhoneInvalid
	}
	num, err := phonenumbers.Parse(v, country)
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		return "", errPhoneCountry
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		return "", errPhoneShort
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		return "", errPhoneLong
	case err != nil:
		return "", errPhoneInvalid
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "", errPhoneCountry
	case phonenumbers.TOO_SHORT:
		return "", errPhoneShort
	case phonenumbers.TOO_LONG:
		return "", errPhoneLong
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", errPhoneInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// SplitURN splits a stored URN into the form's scheme and value (the value
// of a tel URN keeps its "+").
func SplitURN(urn string) (scheme, value string) {
	s, v, ok := strings.Cut(urn, ":")
	if !ok {
		return "tel", urn
	}
	return s, v
}
