package config

import (
	"errors"
	"net/url"

	"github.com/carecircle/carecircle/internal/notify/sms"
)

// Twilio is the account text messages are sent through; with no account SID
// there is no SMS (no verification codes, no SMS channel).
type Twilio struct {
	TwilioAccountSID string
	TwilioAuthToken  string
	// TwilioFrom is the sending number, E.164.
	TwilioFrom string
	// TwilioBaseURL is the API's address, for a Twilio-compatible provider.
	TwilioBaseURL string
}

func twilioVars() []Var {
	return []Var{
		{Name: "TWILIO_ACCOUNT_SID", Default: "", Help: "Twilio account for SMS (phone verification, emergencies, opted-in notifications); with TWILIO_AUTH_TOKEN and TWILIO_FROM, or none of them"},
		{Name: "TWILIO_AUTH_TOKEN", Default: "", Help: "Twilio auth token", Secret: true},
		{Name: "TWILIO_FROM", Default: "", Help: "sending number in E.164 form, e.g. +15551234567"},
		{Name: "TWILIO_BASE_URL", Default: sms.DefaultBaseURL, Help: "address of a Twilio-compatible API"},
	}
}

func loadTwilio(get func(string) string, bad func(name, value, why string)) (Twilio, []error) {
	t := Twilio{
		TwilioAccountSID: get("TWILIO_ACCOUNT_SID"),
		TwilioAuthToken:  get("TWILIO_AUTH_TOKEN"),
		TwilioFrom:       get("TWILIO_FROM"),
		TwilioBaseURL:    get("TWILIO_BASE_URL"),
	}
	var errs []error
	set := 0
	for _, v := range []string{t.TwilioAccountSID, t.TwilioAuthToken, t.TwilioFrom} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM: set all three or none"))
	}
	if t.TwilioFrom != "" && !sms.ValidE164(t.TwilioFrom) {
		bad("TWILIO_FROM", t.TwilioFrom, "is not an E.164 number such as +15551234567")
	}
	if u, err := url.Parse(t.TwilioBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("TWILIO_BASE_URL", t.TwilioBaseURL, "is not an http(s) URL")
	}
	return t, errs
}

// SMS reports whether text messages can be sent.
func (t Twilio) SMS() bool { return t.TwilioAccountSID != "" }

// twilioSummary names the account and number without the token.
func (t Twilio) twilioSummary() string {
	if !t.SMS() {
		return "off"
	}
	s := "twilio " + t.TwilioAccountSID + " from " + t.TwilioFrom
	if t.TwilioBaseURL != sms.DefaultBaseURL {
		s += " via " + maskURL(t.TwilioBaseURL)
	}
	return s
}
