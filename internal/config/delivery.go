package config

import (
	"errors"
	"strconv"
	"strings"
)

// Delivery is the configuration of the email providers and the event bus.
type Delivery struct {
	// SMTP; empty SMTPHost means no SMTP provider.
	SMTPHost     string
	SMTPPort     int
	SMTPUser     string
	SMTPPassword string
	SMTPSecure   bool
	SMTPFrom     string
	// BrevoAPIKey enables the Brevo HTTP API as the primary provider.
	BrevoAPIKey string
	// EmailDailyLimit is each metered provider's messages per UTC day.
	EmailDailyLimit int64
	// RabbitMQ: with RabbitEnabled the outbox publishes to RabbitMQ and the
	// consumers read their own queues.
	RabbitEnabled bool
	RabbitURL     string
}

func deliveryVars() []Var {
	return []Var{
		{Name: "SMTP_HOST", Default: "", Help: "SMTP server for email; with BREVO_API_KEY it is the fallback, alone the primary"},
		{Name: "SMTP_PORT", Default: "587", Help: "SMTP port (465 with SMTP_SECURE)"},
		{Name: "SMTP_USER", Default: "", Help: "SMTP user name"},
		{Name: "SMTP_PASSWORD", Default: "", Help: "SMTP password", Secret: true},
		{Name: "SMTP_SECURE", Default: "false", Help: "implicit TLS (SMTPS); otherwise STARTTLS whenever offered"},
		{Name: "SMTP_FROM", Default: "", Help: "sender address for SMTP; defaults to MAIL_FROM"},
		{Name: "BREVO_API_KEY", Default: "", Help: "Brevo HTTP API key: Brevo becomes the primary email provider", Secret: true},
		{Name: "EMAIL_DAILY_LIMIT", Default: "300", Help: "emails each provider may send per UTC day; 10% is kept for emergencies"},
		{Name: "RABBITMQ_ENABLED", Default: "false", Help: "publish domain events to RabbitMQ and consume them from per-consumer queues"},
		{Name: "RABBITMQ_URL", Default: "", Help: "RabbitMQ address (amqp://…); AMQP_URL is read when unset", Secret: true},
		{Name: "AMQP_URL", Default: "", Help: "RabbitMQ address, when RABBITMQ_URL is not set", Secret: true},
	}
}

func loadDelivery(get func(string) string, bad func(name, value, why string)) (Delivery, []error) {
	var (
		d    Delivery
		errs []error
		err  error
	)
	d.SMTPHost, d.SMTPUser, d.SMTPPassword = get("SMTP_HOST"), get("SMTP_USER"), get("SMTP_PASSWORD")
	d.SMTPFrom = get("SMTP_FROM")
	if d.SMTPPort, err = strconv.Atoi(get("SMTP_PORT")); err != nil || d.SMTPPort < 1 || d.SMTPPort > 65535 {
		bad("SMTP_PORT", get("SMTP_PORT"), "is not a port")
	}
	if d.SMTPSecure, err = strconv.ParseBool(get("SMTP_SECURE")); err != nil {
		bad("SMTP_SECURE", get("SMTP_SECURE"), "is not a boolean")
	}
	if (d.SMTPUser == "") != (d.SMTPPassword == "") {
		errs = append(errs, errors.New("SMTP_USER, SMTP_PASSWORD: set both or neither"))
	}
	d.BrevoAPIKey = get("BREVO_API_KEY")
	if d.EmailDailyLimit, err = strconv.ParseInt(get("EMAIL_DAILY_LIMIT"), 10, 64); err != nil || d.EmailDailyLimit < 1 {
		bad("EMAIL_DAILY_LIMIT", get("EMAIL_DAILY_LIMIT"), "is not a positive number")
	}
	if d.RabbitEnabled, err = strconv.ParseBool(get("RABBITMQ_ENABLED")); err != nil {
		bad("RABBITMQ_ENABLED", get("RABBITMQ_ENABLED"), "is not a boolean")
	}
	d.RabbitURL = get("RABBITMQ_URL")
	if d.RabbitURL == "" {
		d.RabbitURL = get("AMQP_URL")
	}
	switch {
	case d.RabbitEnabled && d.RabbitURL == "":
		errs = append(errs, errors.New("RABBITMQ_URL: required when RABBITMQ_ENABLED=true (or set AMQP_URL)"))
	case d.RabbitURL != "" && !strings.HasPrefix(d.RabbitURL, "amqp://") && !strings.HasPrefix(d.RabbitURL, "amqps://"):
		errs = append(errs, errors.New("RABBITMQ_URL: must start with amqp:// or amqps://"))
	}
	return d, errs
}
