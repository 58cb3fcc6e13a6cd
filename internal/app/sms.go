package app

import (
	"fmt"

	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/notify/sms"
)

// newSMS returns the configured SMS sender, or nil when SMS is off.
func newSMS(cfg config.Config) (sms.Sender, error) {
	if !cfg.SMS() {
		return nil, nil
	}
	tw, err := sms.NewTwilio(sms.TwilioConfig{AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken,
		From: cfg.TwilioFrom, BaseURL: cfg.TwilioBaseURL})
	if err != nil {
		return nil, fmt.Errorf("sms: %w", err)
	}
	return tw, nil
}
