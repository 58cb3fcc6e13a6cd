package config

import (
	"strings"
	"testing"
)

func TestTwilio(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMS() || c.TwilioBaseURL != "https://api.twilio.com" {
		t.Fatalf("defaults: SMS %v, base %q", c.SMS(), c.TwilioBaseURL)
	}
	if s := c.LogValue().String(); !strings.Contains(s, "sms=off") {
		t.Errorf("log lacks sms=off: %s", s)
	}

	account := map[string]string{
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "tok-0123456789abcdef",
		"TWILIO_FROM":        "+15005550006",
		"TWILIO_BASE_URL":    "http://sms-gateway:8080/",
	}
	c, err = Load(env(account))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SMS() || c.TwilioFrom != "+15005550006" || c.TwilioBaseURL != "http://sms-gateway:8080/" {
		t.Fatalf("loaded %+v", c.Twilio)
	}
	s := c.LogValue().String()
	if strings.Contains(s, "tok-0123456789abcdef") {
		t.Errorf("auth token leaked: %s", s)
	}
	if !strings.Contains(s, "AC0123456789abcdef0123456789abcdef") || !strings.Contains(s, "sms-gateway:8080") {
		t.Errorf("log lacks the account or the gateway: %s", s)
	}

	for name, tc := range map[string]struct {
		drop, set, value, want string
	}{
		"no token":      {drop: "TWILIO_AUTH_TOKEN", want: "set all three or none"},
		"no sid":        {drop: "TWILIO_ACCOUNT_SID", want: "set all three or none"},
		"no from":       {drop: "TWILIO_FROM", want: "set all three or none"},
		"national from": {set: "TWILIO_FROM", value: "5005550006", want: `TWILIO_FROM: "5005550006" is not an E.164 number`},
		"bad base URL":  {set: "TWILIO_BASE_URL", value: "sms-gateway:8080", want: "TWILIO_BASE_URL"},
	} {
		m := map[string]string{}
		for k, v := range account {
			m[k] = v
		}
		delete(m, tc.drop)
		if tc.set != "" {
			m[tc.set] = tc.value
		}
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
		}
	}
}
