// Package config reads CareCircle's configuration from environment variables
// into one typed, validated struct.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the whole runtime configuration of a CareCircle process.
type Config struct {
	Port          int
	APIPrefix     string
	DataDir       string
	DatabaseURL   string
	JWTSecret     string
	JWTExpiresIn  time.Duration
	PublicURL     string
	AppEnv        string
	LogLevel      slog.Level
	LogFormat     string
	RateLimit     bool
	TrustProxy    bool
	MailFrom      string
	ShutdownGrace time.Duration
	// Background work.
	QueueEnabled  bool
	CronEnabled   bool
	HealthPort    int
	ReminderGrace time.Duration
	MissedAfter   time.Duration
	MetricsToken  string
	// Web push (VAPID); keys are generated and kept when unset.
	VAPIDPublicKey  string
	VAPIDPrivateKey string
	VAPIDSubject    string
	// PushAllowedHosts are push service hosts ("host" or "host:port")
	// accepted although private or loopback; SSLCertFile (the standard
	// SSL_CERT_FILE) adds roots their certificates are verified against.
	PushAllowedHosts []string
	SSLCertFile      string
	// Redis: empty RedisURL and RedisHost mean no Redis (in-memory).
	RedisURL       string
	RedisHost      string
	RedisPort      string
	RedisPassword  string
	RedisTLS       bool
	RedisKeyPrefix string
	// QueueConcurrency overrides the number of workers of named queues.
	QueueConcurrency map[string]int
	// Realtime: browser origins allowed besides PUBLIC_URL's, how many
	// messages each channel keeps for recovery and for how long, and how many
	// connections one user may hold on one node.
	AllowedOrigins          []string
	RealtimeHistorySize     int
	RealtimeHistoryTTL      time.Duration
	RealtimeMaxConnsPerUser int
	// Email providers and the event bus.
	Delivery
	// SMS through a Twilio-compatible API.
	Twilio
	// Where document files are kept.
	Files
	// How long the daily retention job keeps each kind of record.
	Retention
}

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Help    string
	Secret  bool
}

// Vars lists every environment variable CareCircle reads, in the order they
// are documented by --help and the README.
func Vars() []Var {
	return append([]Var{
		{Name: "PORT", Default: "4000", Help: "HTTP port for the API, web app, realtime and health probes"},
		{Name: "API_PREFIX", Default: "/api/v1", Help: "path prefix of the REST API"},
		{Name: "DATA_DIR", Default: "./data", Help: "directory for the SQLite database, generated secrets and the mail outbox"},
		{Name: "DATABASE_URL", Default: "", Help: "empty: SQLite in DATA_DIR; postgres://… : PostgreSQL", Secret: true},
		{Name: "JWT_SECRET", Default: "", Help: "HS256 signing key for access tokens; generated once into DATA_DIR when unset (required in production)", Secret: true},
		{Name: "JWT_EXPIRES_IN", Default: "15m", Help: "access token lifetime (Go duration, or a number of seconds)"},
		{Name: "PUBLIC_URL", Default: "http://localhost:$PORT", Help: "base URL for links in emails and push messages, and the allowed browser Origin"},
		{Name: "APP_ENV", Default: "development", Help: "development, test or production"},
		{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error"},
		{Name: "LOG_FORMAT", Default: "text", Help: "text or json"},
		{Name: "RATE_LIMIT_ENABLED", Default: "true", Help: "apply the per-client rate limit tiers"},
		{Name: "TRUST_PROXY", Default: "false", Help: "take the client address from X-Forwarded-For"},
		{Name: "MAIL_FROM", Default: "CareCircle <no-reply@carecircle.local>", Help: "sender address of outgoing email"},
		{Name: "SHUTDOWN_TIMEOUT", Default: "15s", Help: "how long in-flight requests may take to finish on shutdown"},
		{Name: "METRICS_TOKEN", Default: "", Help: "bearer token required on GET /metrics (open when empty)", Secret: true},
		{Name: "VAPID_PUBLIC_KEY", Default: "", Help: "web push public key (base64url); generated once and kept in the database when unset"},
		{Name: "VAPID_PRIVATE_KEY", Default: "", Help: "web push private key, with VAPID_PUBLIC_KEY", Secret: true},
		{Name: "VAPID_SUBJECT", Default: "", Help: "contact for push services (mailto: or https:); defaults to MAIL_FROM's address"},
		{Name: "PUSH_ALLOWED_HOSTS", Default: "", Help: "comma-separated host[:port] of push services accepted although private or loopback (https only, verified against the system roots plus SSL_CERT_FILE)"},
		{Name: "REDIS_URL", Default: "", Help: "Redis for rate limits and shared state (redis://…); or use REDIS_HOST", Secret: true},
		{Name: "REDIS_HOST", Default: "", Help: "Redis host, when REDIS_URL is not set"},
		{Name: "REDIS_PORT", Default: "6379", Help: "Redis port, with REDIS_HOST"},
		{Name: "REDIS_PASSWORD", Default: "", Help: "Redis password, with REDIS_HOST", Secret: true},
		{Name: "REDIS_TLS", Default: "false", Help: "connect to REDIS_HOST over TLS"},
		{Name: "REDIS_KEY_PREFIX", Default: "cc:", Help: "prefix of every key CareCircle writes to Redis"},
		{Name: "QUEUE_ENABLED", Default: "true", Help: "deliver notifications through the job queue; false delivers them inline"},
		{Name: "ENABLE_CRON_JOBS", Default: "true", Help: "run the periodic planners (reminders, monitors) on this node"},
		{Name: "HEALTH_PORT", Default: "3002", Help: "port of the worker process's /health, /healthz and /ready"},
		{Name: "REMINDER_GRACE", Default: "10m", Help: "how late a reminder may still be sent after downtime; older ones are recorded as skipped"},
		{Name: "MISSED_DOSE_AFTER", Default: "60m", Help: "how long after a dose with no log it is recorded as MISSED"},
		{Name: "QUEUE_CONCURRENCY", Default: "", Help: "workers per queue, e.g. notifications=40,medication-reminders=20 (others keep their defaults)"},
		{Name: "ALLOWED_ORIGINS", Default: "", Help: "comma-separated browser origins allowed on the realtime endpoint and for credentialed CORS on the API, besides PUBLIC_URL's"},
		{Name: "REALTIME_HISTORY_SIZE", Default: "100", Help: "messages each realtime channel keeps for clients that reconnect"},
		{Name: "REALTIME_HISTORY_TTL", Default: "10m", Help: "how long a realtime channel keeps them"},
		{Name: "REALTIME_MAX_CONNECTIONS_PER_USER", Default: "10", Help: "realtime connections one user may hold on one node"},
	}, append(append(append(deliveryVars(), twilioVars()...), filesVars()...), retentionVars()...)...)
}

// Load reads the configuration through getenv (os.Getenv in production) and
// validates it. Every error names the variable at fault.
func Load(getenv func(string) string) (Config, error) {
	vars := Vars()
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var (
		c    Config
		errs []error
		err  error
	)
	bad := func(name, value, why string) {
		errs = append(errs, fmt.Errorf("%s: %q %s", name, value, why))
	}

	if c.Port, err = strconv.Atoi(get("PORT")); err != nil || c.Port < 1 || c.Port > 65535 {
		bad("PORT", get("PORT"), "is not a port")
	}
	c.APIPrefix = "/" + strings.Trim(get("API_PREFIX"), "/")
	if c.APIPrefix == "/" {
		bad("API_PREFIX", get("API_PREFIX"), "must not be the root path")
	}
	c.DataDir = get("DATA_DIR")
	c.DatabaseURL = get("DATABASE_URL")
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New(`DATABASE_URL: must start with postgres:// (leave it empty for SQLite)`))
	}
	c.JWTSecret = get("JWT_SECRET")
	if c.JWTExpiresIn, err = parseDuration(get("JWT_EXPIRES_IN")); err != nil || c.JWTExpiresIn < time.Minute {
		bad("JWT_EXPIRES_IN", get("JWT_EXPIRES_IN"), "is not a duration of at least one minute")
	}
	c.PublicURL = strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_URL")), "/")
	if c.PublicURL == "" {
		// The server's own address, so links and the trusted origin follow PORT.
		c.PublicURL = "http://localhost:" + strconv.Itoa(c.Port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PUBLIC_URL", c.PublicURL, "is not an http(s) URL")
	}
	c.AppEnv = get("APP_ENV")
	switch c.AppEnv {
	case "development", "test", "production":
	default:
		bad("APP_ENV", c.AppEnv, "is not one of development, test, production")
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("LOG_LEVEL"))); err != nil {
		bad("LOG_LEVEL", get("LOG_LEVEL"), "is not one of debug, info, warn, error")
	}
	c.LogFormat = get("LOG_FORMAT")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", c.LogFormat, "is not one of text, json")
	}
	if c.RateLimit, err = strconv.ParseBool(get("RATE_LIMIT_ENABLED")); err != nil {
		bad("RATE_LIMIT_ENABLED", get("RATE_LIMIT_ENABLED"), "is not a boolean")
	}
	if c.TrustProxy, err = strconv.ParseBool(get("TRUST_PROXY")); err != nil {
		bad("TRUST_PROXY", get("TRUST_PROXY"), "is not a boolean")
	}
	c.MailFrom = get("MAIL_FROM")
	c.MetricsToken = get("METRICS_TOKEN")
	c.VAPIDPublicKey, c.VAPIDPrivateKey, c.VAPIDSubject = get("VAPID_PUBLIC_KEY"), get("VAPID_PRIVATE_KEY"), get("VAPID_SUBJECT")
	if (c.VAPIDPublicKey == "") != (c.VAPIDPrivateKey == "") {
		errs = append(errs, errors.New("VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY: set both or neither"))
	}
	if c.PushAllowedHosts, err = parseHostList(get("PUSH_ALLOWED_HOSTS")); err != nil {
		bad("PUSH_ALLOWED_HOSTS", get("PUSH_ALLOWED_HOSTS"), err.Error())
	}
	c.SSLCertFile = strings.TrimSpace(getenv("SSL_CERT_FILE"))
	c.RedisURL, c.RedisHost, c.RedisPort = get("REDIS_URL"), get("REDIS_HOST"), get("REDIS_PORT")
	c.RedisPassword, c.RedisKeyPrefix = get("REDIS_PASSWORD"), get("REDIS_KEY_PREFIX")
	if c.RedisTLS, err = strconv.ParseBool(get("REDIS_TLS")); err != nil {
		bad("REDIS_TLS", get("REDIS_TLS"), "is not a boolean")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, errors.New("REDIS_URL: must start with redis:// or rediss://"))
	}
	if c.ShutdownGrace, err = parseDuration(get("SHUTDOWN_TIMEOUT")); err != nil || c.ShutdownGrace <= 0 {
		bad("SHUTDOWN_TIMEOUT", get("SHUTDOWN_TIMEOUT"), "is not a positive duration")
	}

	if c.QueueEnabled, err = strconv.ParseBool(get("QUEUE_ENABLED")); err != nil {
		bad("QUEUE_ENABLED", get("QUEUE_ENABLED"), "is not a boolean")
	}
	if c.CronEnabled, err = strconv.ParseBool(get("ENABLE_CRON_JOBS")); err != nil {
		bad("ENABLE_CRON_JOBS", get("ENABLE_CRON_JOBS"), "is not a boolean")
	}
	if c.HealthPort, err = strconv.Atoi(get("HEALTH_PORT")); err != nil || c.HealthPort < 1 || c.HealthPort > 65535 {
		bad("HEALTH_PORT", get("HEALTH_PORT"), "is not a port")
	}
	if c.ReminderGrace, err = parseDuration(get("REMINDER_GRACE")); err != nil || c.ReminderGrace < time.Minute || c.ReminderGrace > 24*time.Hour {
		bad("REMINDER_GRACE", get("REMINDER_GRACE"), "is not a duration between 1m and 24h")
	}
	if c.MissedAfter, err = parseDuration(get("MISSED_DOSE_AFTER")); err != nil || c.MissedAfter < 5*time.Minute || c.MissedAfter > 24*time.Hour {
		bad("MISSED_DOSE_AFTER", get("MISSED_DOSE_AFTER"), "is not a duration between 5m and 24h")
	}

	if c.QueueConcurrency, err = parseConcurrency(get("QUEUE_CONCURRENCY")); err != nil {
		bad("QUEUE_CONCURRENCY", get("QUEUE_CONCURRENCY"), err.Error())
	}

	if c.AllowedOrigins, err = parseOrigins(get("ALLOWED_ORIGINS")); err != nil {
		bad("ALLOWED_ORIGINS", get("ALLOWED_ORIGINS"), err.Error())
	}
	if c.RealtimeHistorySize, err = strconv.Atoi(get("REALTIME_HISTORY_SIZE")); err != nil || c.RealtimeHistorySize < 1 || c.RealtimeHistorySize > 10000 {
		bad("REALTIME_HISTORY_SIZE", get("REALTIME_HISTORY_SIZE"), "is not a number between 1 and 10000")
	}
	if c.RealtimeHistoryTTL, err = parseDuration(get("REALTIME_HISTORY_TTL")); err != nil || c.RealtimeHistoryTTL < time.Second || c.RealtimeHistoryTTL > 24*time.Hour {
		bad("REALTIME_HISTORY_TTL", get("REALTIME_HISTORY_TTL"), "is not a duration between 1s and 24h")
	}
	if c.RealtimeMaxConnsPerUser, err = strconv.Atoi(get("REALTIME_MAX_CONNECTIONS_PER_USER")); err != nil || c.RealtimeMaxConnsPerUser < 1 || c.RealtimeMaxConnsPerUser > 10000 {
		bad("REALTIME_MAX_CONNECTIONS_PER_USER", get("REALTIME_MAX_CONNECTIONS_PER_USER"), "is not a number between 1 and 10000")
	}

	var derrs []error
	c.Delivery, derrs = loadDelivery(get, bad)
	errs = append(errs, derrs...)
	c.Twilio, derrs = loadTwilio(get, bad)
	errs = append(errs, derrs...)
	c.Files, derrs = loadFiles(get, bad)
	errs = append(errs, derrs...)
	c.Retention, derrs = loadRetention(get, bad)
	errs = append(errs, derrs...)

	if c.AppEnv == "production" {
		if c.JWTSecret == "" {
			errs = append(errs, errors.New("JWT_SECRET: required when APP_ENV=production"))
		} else if len(c.JWTSecret) < 32 {
			errs = append(errs, errors.New("JWT_SECRET: must be at least 32 characters in production"))
		}
	}
	return c, errors.Join(errs...)
}

// Redis reports whether Redis is configured.
func (c Config) Redis() bool { return c.RedisURL != "" || c.RedisHost != "" }

func (c Config) redisSummary() string {
	switch {
	case c.RedisURL != "":
		return maskURL(c.RedisURL)
	case c.RedisHost != "":
		return c.RedisHost + ":" + c.RedisPort
	default:
		return "off"
	}
}

// Production reports whether the process runs in production mode.
func (c Config) Production() bool { return c.AppEnv == "production" }

// Postgres reports whether the configuration selects PostgreSQL.
func (c Config) Postgres() bool { return c.DatabaseURL != "" }

// LogValue renders the effective configuration with secrets masked.
func (c Config) LogValue() slog.Value {
	database := "sqlite"
	if c.Postgres() {
		database = "postgres " + maskURL(c.DatabaseURL)
	}
	secret := "generated"
	if c.JWTSecret != "" {
		secret = "set"
	}
	return slog.GroupValue(
		slog.Int("port", c.Port),
		slog.String("apiPrefix", c.APIPrefix),
		slog.String("dataDir", c.DataDir),
		slog.String("database", database),
		slog.String("jwtSecret", secret),
		slog.Duration("jwtExpiresIn", c.JWTExpiresIn),
		slog.String("publicURL", c.PublicURL),
		slog.String("appEnv", c.AppEnv),
		slog.String("logLevel", c.LogLevel.String()),
		slog.String("logFormat", c.LogFormat),
		slog.Bool("rateLimit", c.RateLimit),
		slog.Bool("trustProxy", c.TrustProxy),
		slog.Any("pushAllowedHosts", c.PushAllowedHosts),
		slog.String("redis", c.redisSummary()),
		slog.String("sms", c.twilioSummary()),
		slog.String("documents", c.filesSummary()),
		slog.String("retention", c.retentionSummary()),
		slog.Bool("queueEnabled", c.QueueEnabled),
		slog.Bool("cronEnabled", c.CronEnabled),
		slog.Int("healthPort", c.HealthPort),
		slog.Duration("reminderGrace", c.ReminderGrace),
		slog.Duration("missedDoseAfter", c.MissedAfter),
		slog.Any("allowedOrigins", c.AllowedOrigins),
		slog.Int("realtimeHistorySize", c.RealtimeHistorySize),
		slog.Duration("realtimeHistoryTTL", c.RealtimeHistoryTTL),
		slog.Int("realtimeMaxConnectionsPerUser", c.RealtimeMaxConnsPerUser),
	)
}

func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	return time.ParseDuration(s)
}

// maskURL hides the password of a connection URL.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.Redacted()
}

// parseConcurrency reads "queue=n,queue=n".
func parseConcurrency(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, num, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(num)
		if !ok || name == "" || err != nil || n < 0 || n > 1000 {
			return nil, errors.New("is not a list of queue=workers with 0 to 1000 workers")
		}
		out[name] = n
	}
	return out, nil
}

// parseHostList reads "host,host:port,[::1]:8443": hosts (names or
// addresses) each with an optional port.
func parseHostList(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		host := part
		if h, port, err := net.SplitHostPort(part); err == nil {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, errNotHostList
			}
			host = h
		} else if strings.HasPrefix(part, "[") && strings.HasSuffix(part, "]") {
			host = part[1 : len(part)-1]
		}
		if host == "" || strings.ContainsAny(host, "/?#@[] ") {
			return nil, errNotHostList
		}
		if _, err := netip.ParseAddr(host); strings.Contains(host, ":") && err != nil {
			return nil, errNotHostList
		}
		out = append(out, part)
	}
	return out, nil
}

var errNotHostList = errors.New("is not a comma-separated list of host[:port]")

// parseOrigins reads "https://a.example,https://b.example" into origins
// (scheme://host[:port], no path).
func parseOrigins(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimRight(strings.TrimSpace(part), "/")
		if part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			return nil, errors.New("is not a comma-separated list of http(s) origins")
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}
