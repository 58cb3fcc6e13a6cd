// Package deploy holds CareCircle's deployment files (the compose file, the
// systemd unit, the Caddyfile, example settings) and this test, which checks
// them against the settings the binary knows, since no container engine or
// systemd runs where the tests do.
package deploy

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/carecircle/carecircle/internal/config"
)

// known lists the variables the binary reads: config.Vars() plus
// SSL_CERT_FILE, read by Go's TLS stack and for push services.
func known() map[string]bool {
	out := map[string]bool{"SSL_CERT_FILE": true}
	for _, v := range config.Vars() {
		out[v.Name] = true
	}
	return out
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// envFile reads KEY=VALUE lines, skipping blanks and comments.
func envFile(text string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return out
}

// role is what a carecircle command line runs.
func role(command []string) string {
	switch {
	case slices.Equal(command, []string{"serve", "--role=api"}):
		return "api"
	case slices.Equal(command, []string{"worker"}):
		return "worker"
	case len(command) == 0, slices.Equal(command, []string{"serve"}), slices.Equal(command, []string{"serve", "--role=all"}):
		return "all"
	}
	return "unknown: " + strings.Join(command, " ")
}

// requirements lists what a node of role with env lacks, beyond what
// config.Load itself refuses: nodes that share work across processes need
// the database, Redis and the secrets shared.
func requirements(role string, env map[string]string, multiNode bool) []string {
	var missing []string
	if role == "api" || role == "worker" || multiNode {
		if env["DATABASE_URL"] == "" {
			missing = append(missing, "DATABASE_URL (nodes cannot share an SQLite file)")
		}
		if env["REDIS_URL"] == "" && env["REDIS_HOST"] == "" {
			missing = append(missing, "REDIS_URL or REDIS_HOST (rate limits, realtime and codes across nodes)")
		}
		if role != "worker" && env["JWT_SECRET"] == "" {
			missing = append(missing, "JWT_SECRET (every API node must sign and check with the same key)")
		}
	}
	if env["APP_ENV"] == "production" && env["JWT_SECRET"] == "" {
		missing = append(missing, "JWT_SECRET (APP_ENV=production)")
	}
	if strings.EqualFold(env["RABBITMQ_ENABLED"], "true") && env["RABBITMQ_URL"] == "" && env["AMQP_URL"] == "" {
		missing = append(missing, "RABBITMQ_URL (RABBITMQ_ENABLED=true)")
	}
	if env["APP_ENV"] == "production" && env["METRICS_TOKEN"] == "" {
		missing = append(missing, "METRICS_TOKEN (without it /metrics answers 404 in production)")
	}
	if env["APP_ENV"] == "production" && !strings.HasPrefix(env["PUBLIC_URL"], "https://") {
		missing = append(missing, "PUBLIC_URL with https:// (production cookies are Secure)")
	}
	return missing
}

// checkEnv checks one node's environment: every variable known, the whole
// accepted by config.Load, the role's requirements met.
func checkEnv(where, role string, env map[string]string, multiNode bool) []error {
	var errs []error
	names := known()
	for name := range env {
		if !names[name] {
			errs = append(errs, fmt.Errorf("%s sets %s, which carecircle does not read", where, name))
		}
	}
	if _, err := config.Load(func(k string) string { return env[k] }); err != nil {
		errs = append(errs, fmt.Errorf("%s: carecircle would not start: %v", where, err))
	}
	for _, m := range requirements(role, env, multiNode) {
		errs = append(errs, fmt.Errorf("%s (%s) misses %s", where, role, m))
	}
	return errs
}

var interpolationRE = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate applies compose's ${VAR}, ${VAR:-default} and ${VAR:?error}
// with vars, reporting a required variable vars lacks.
func interpolate(s string, vars map[string]string) (string, []error) {
	var errs []error
	out := interpolationRE.ReplaceAllStringFunc(s, func(m string) string {
		p := interpolationRE.FindStringSubmatch(m)
		v, ok := vars[p[1]]
		switch {
		case strings.HasSuffix(p[2], "?") && v == "":
			errs = append(errs, fmt.Errorf("${%s} is required but the example settings leave it empty", p[1]))
		case strings.HasSuffix(p[2], "-") && (!ok || v == ""):
			return p[3]
		}
		return v
	})
	return out, errs
}

type composeService struct {
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// checkCompose checks the compose file (after interpolation with the
// example settings) and the Caddyfile it mounts.
func checkCompose(compose, caddyfile string, vars map[string]string) []error {
	var errs []error
	for _, m := range interpolationRE.FindAllStringSubmatch(compose+caddyfile, -1) {
		if _, ok := vars[m[1]]; !ok {
			errs = append(errs, fmt.Errorf("${%s} is used but compose.env.example does not set it", m[1]))
		}
	}
	for _, m := range regexp.MustCompile(`\{\$([A-Z_]+)\}`).FindAllStringSubmatch(caddyfile, -1) {
		if _, ok := vars[m[1]]; !ok {
			errs = append(errs, fmt.Errorf("the Caddyfile uses {$%s}, which compose.env.example does not set", m[1]))
		}
	}
	text, ierrs := interpolate(compose, vars)
	errs = append(errs, ierrs...)
	var doc struct {
		Services map[string]composeService `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return append(errs, fmt.Errorf("compose.yaml: %w", err))
	}
	byRole := map[string][]string{}
	shared := map[string]map[string]bool{}
	var proxy *composeService
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range doc.Services {
			if !yield(k) {
				return
			}
		}
	}) {
		svc := doc.Services[name]
		if strings.HasPrefix(svc.Image, "caddy:") {
			proxy = &svc
		}
		if !strings.HasPrefix(svc.Image, "carecircle:") {
			continue
		}
		r := role(svc.Command)
		byRole[r] = append(byRole[r], name)
		env := svc.Environment
		errs = append(errs, checkEnv("service "+name, r, env, true)...)
		if r == "api" && env["TRUST_PROXY"] != "true" {
			errs = append(errs, fmt.Errorf("service %s (api) is behind Caddy but lacks TRUST_PROXY=true", name))
		}
		if r != "api" && env["TRUST_PROXY"] == "true" {
			errs = append(errs, fmt.Errorf("service %s (%s) serves no proxied traffic but sets TRUST_PROXY", name, r))
		}
		if r == "worker" {
			port := env["HEALTH_PORT"]
			if port == "" {
				port = "3002"
			}
			if !strings.Contains(strings.Join(svc.Healthcheck.Test, " "), "http://127.0.0.1:"+port+"/ready") {
				errs = append(errs, fmt.Errorf("service %s (worker) has no health check on HEALTH_PORT's /ready: %v", name, svc.Healthcheck.Test))
			}
		}
		// Documents: a bucket, or one volume every node mounts at DATA_DIR.
		dataDir := env["DATA_DIR"]
		if dataDir == "" {
			dataDir = "/data" // the image's
		}
		store := "s3:" + env["S3_BUCKET"]
		if env["S3_BUCKET"] == "" {
			store = "none"
			for _, v := range svc.Volumes {
				if src, dst, _ := strings.Cut(v, ":"); strings.TrimSuffix(dst, ":ro") == dataDir {
					store = "volume:" + src
				}
			}
		}
		env = maps(env, "DOCUMENTS", store)
		for _, k := range []string{"DATABASE_URL", "JWT_SECRET", "REDIS_URL", "REDIS_KEY_PREFIX", "RABBITMQ_URL", "PUBLIC_URL", "METRICS_TOKEN", "DOCUMENTS"} {
			if shared[k] == nil {
				shared[k] = map[string]bool{}
			}
			shared[k][env[k]] = true
		}
		if store == "none" {
			errs = append(errs, fmt.Errorf("service %s keeps documents in its own container: set S3_BUCKET or mount a shared volume at %s", name, dataDir))
		}
	}
	for k, values := range shared {
		if len(values) > 1 {
			errs = append(errs, fmt.Errorf("the carecircle services disagree on %s", k))
		}
	}
	if len(byRole["api"]) != 2 || len(byRole["worker"]) != 2 || len(byRole) != 2 {
		errs = append(errs, fmt.Errorf("want two api and two worker services, have %v", byRole))
	}
	if proxy == nil {
		return append(errs, fmt.Errorf("no caddy service"))
	}
	if !slices.Contains(proxy.Ports, "443:443") {
		errs = append(errs, fmt.Errorf("caddy publishes %v, not 443", proxy.Ports))
	}
	upstreams := regexp.MustCompile(`(?m)^\s*reverse_proxy\s+(.+?)\s*\{?$`).FindStringSubmatch(caddyfile)
	if upstreams == nil {
		return append(errs, fmt.Errorf("the Caddyfile has no reverse_proxy"))
	}
	var want []string
	for _, name := range byRole["api"] {
		port := doc.Services[name].Environment["PORT"]
		if port == "" {
			port = "4000"
		}
		want = append(want, name+":"+port)
	}
	if got := strings.Fields(upstreams[1]); !slices.Equal(got, want) {
		errs = append(errs, fmt.Errorf("Caddy proxies to %v, want the API nodes %v", got, want))
	}
	return errs
}

func maps(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range m {
		out[key] = val
	}
	return out
}

func TestComposeFileRunsEveryRoleWithWhatItNeeds(t *testing.T) {
	t.Parallel()
	compose, caddyfile := read(t, "compose.yaml"), read(t, "Caddyfile")
	vars := envFile(read(t, "compose.env.example"))
	for _, err := range checkCompose(compose, caddyfile, vars) {
		t.Error(err)
	}
	// Every example setting is used.
	for name := range vars {
		if !strings.Contains(compose+caddyfile, "${"+name) && !strings.Contains(caddyfile, "{$"+name+"}") {
			t.Errorf("compose.env.example sets %s, which compose.yaml does not use", name)
		}
	}

	// The check fails for each mistake it is there to catch.
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown variable", "  LOG_FORMAT: json\n", "  LOG_FORMAT: json\n  RABBIT_URL: amqp://x\n", "sets RABBIT_URL, which carecircle does not read"},
		{"no database", "  DATABASE_URL: postgres://carecircle:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@postgres:5432/carecircle?sslmode=disable\n", "", "misses DATABASE_URL"},
		{"no redis", "  REDIS_URL: redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD}@redis:6379/0\n", "", "misses REDIS_URL"},
		{"no broker address", "  RABBITMQ_URL: amqp://carecircle:${RABBITMQ_PASSWORD:?set RABBITMQ_PASSWORD}@rabbitmq:5672/carecircle\n", "", "RABBITMQ_URL: required when RABBITMQ_ENABLED=true"},
		{"no secret in production", "  JWT_SECRET: ${JWT_SECRET:?set JWT_SECRET (openssl rand -hex 32)}\n", "", "JWT_SECRET: required when APP_ENV=production"},
		{"api without TRUST_PROXY", "      <<: *carecircle-env\n      TRUST_PROXY: \"true\"\n\n  api-2:", "      <<: *carecircle-env\n\n  api-2:", "service api-1 (api) is behind Caddy but lacks TRUST_PROXY=true"},
		{"one worker", "  worker-2:\n    <<: *carecircle\n    command: [\"worker\"]", "  worker-2:\n    <<: *carecircle\n    command: [\"serve\"]", "want two api and two worker services"},
		{"a node's own secret", "      <<: *carecircle-env\n      HEALTH_PORT: \"3002\"\n    healthcheck:\n      test: [\"CMD\", \"/usr/local/bin/carecircle\", \"healthcheck\", \"http://127.0.0.1:3002/ready\"]\n      interval: 30s\n      timeout: 5s\n      start_period: 30s\n      retries: 3\n\n  caddy:",
			"      <<: *carecircle-env\n      HEALTH_PORT: \"3002\"\n      JWT_SECRET: another-secret-0123456789abcdef0123456789\n    healthcheck:\n      test: [\"CMD\", \"/usr/local/bin/carecircle\", \"healthcheck\", \"http://127.0.0.1:3002/ready\"]\n      interval: 30s\n      timeout: 5s\n      start_period: 30s\n      retries: 3\n\n  caddy:", "disagree on JWT_SECRET"},
		{"documents in a container", "    - carecircle-data:/data\n", "    - carecircle-data:/elsewhere\n", "keeps documents in its own container"},
		{"an unset required setting", "${METRICS_TOKEN:?set METRICS_TOKEN}", "${METRICS_TOKEN_TYPO:?set it}", "METRICS_TOKEN_TYPO"},
	} {
		if !strings.Contains(compose, tc.old) {
			t.Fatalf("%s: compose.yaml no longer contains %q", tc.name, tc.old)
		}
		errs := checkCompose(strings.Replace(compose, tc.old, tc.new, 1), caddyfile, vars)
		if !strings.Contains(fmt.Sprint(errs), tc.want) {
			t.Errorf("%s: errors %v, want one with %q", tc.name, errs, tc.want)
		}
	}
	if errs := checkCompose(compose, strings.Replace(caddyfile, "api-1:4000 api-2:4000", "api-1:4000", 1), vars); !strings.Contains(fmt.Sprint(errs), "Caddy proxies to [api-1:4000]") {
		t.Errorf("Caddy with one API node: %v", errs)
	}
}

// unit is a systemd unit file: section → key → values in order.
type unit map[string]map[string][]string

func parseUnit(text string) unit {
	u := unit{}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, _ := strings.Cut(line, "=")
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// checkUnit checks the unit's hardening and, with the example environment
// file, the settings carecircle gets.
func checkUnit(text, envExample string) []error {
	var errs []error
	u := parseUnit(text)
	svc := u["Service"]
	for k, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "carecircle", "ProtectSystem": "strict", "Restart": "on-failure",
		"NoNewPrivileges": "yes", "ProtectHome": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": "",
	} {
		if got := svc[k]; len(got) != 1 || got[0] != want {
			errs = append(errs, fmt.Errorf("[Service] %s=%v, want %q", k, got, want))
		}
	}
	exec := svc["ExecStart"]
	if len(exec) != 1 || !strings.HasPrefix(exec[0], "/usr/local/bin/carecircle serve") {
		errs = append(errs, fmt.Errorf("ExecStart=%v, want carecircle serve", exec))
	}
	if len(u["Install"]["WantedBy"]) == 0 {
		errs = append(errs, fmt.Errorf("no [Install] WantedBy: systemctl enable would do nothing"))
	}
	env := map[string]string{}
	for _, line := range svc["Environment"] {
		for _, assignment := range strings.Fields(line) {
			k, v, _ := strings.Cut(strings.Trim(assignment, `"`), "=")
			env[k] = v
		}
	}
	if files := svc["EnvironmentFile"]; len(files) == 1 {
		for k, v := range envFile(envExample) {
			env[k] = v
		}
	} else if len(files) > 1 {
		errs = append(errs, fmt.Errorf("EnvironmentFile=%v: one file, whose example this test reads", files))
	}
	if want := "/var/lib/" + strings.Join(svc["StateDirectory"], ""); env["DATA_DIR"] != want {
		errs = append(errs, fmt.Errorf("DATA_DIR=%q, want the state directory %s (the only writable place)", env["DATA_DIR"], want))
	}
	return append(errs, checkEnv("the unit", role(strings.Fields(strings.Join(exec, ""))[1:]), env, false)...)
}

func TestSystemdUnitIsHardenedAndConfigured(t *testing.T) {
	t.Parallel()
	text, envExample := read(t, "carecircle.service"), read(t, "carecircle.env.example")
	for _, err := range checkUnit(text, envExample) {
		t.Error(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown variable", "Environment=LOG_FORMAT=json", "Environment=LOG_FORMAT=json LOGFORMAT=json", "sets LOGFORMAT, which carecircle does not read"},
		{"not dynamic", "DynamicUser=yes", "DynamicUser=no", "DynamicUser"},
		{"writable system", "ProtectSystem=strict", "ProtectSystem=full", "ProtectSystem"},
		{"data elsewhere", "DATA_DIR=/var/lib/carecircle", "DATA_DIR=/srv/carecircle", "DATA_DIR=\"/srv/carecircle\""},
		{"no restart", "Restart=on-failure", "Restart=no", "Restart"},
	} {
		if !strings.Contains(text, tc.old) {
			t.Fatalf("%s: the unit no longer contains %q", tc.name, tc.old)
		}
		if errs := checkUnit(strings.Replace(text, tc.old, tc.new, 1), envExample); !strings.Contains(fmt.Sprint(errs), tc.want) {
			t.Errorf("%s: errors %v, want one with %q", tc.name, errs, tc.want)
		}
	}
	if errs := checkUnit(text, strings.Replace(envExample, "JWT_SECRET=", "#JWT_SECRET=", 1)); !strings.Contains(fmt.Sprint(errs), "JWT_SECRET: required when APP_ENV=production") {
		t.Errorf("without JWT_SECRET: %v", errs)
	}
}

// TestDockerfile checks what the image promises, since it is not built
// here: a static binary (CGO off) built in a stage of its own, a non-root
// user, DATA_DIR on the /data volume, the health check on /health/ready and
// the version in its labels.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	text := read(t, "../Dockerfile")
	var from, user, volume, env, health, labels []string
	for _, line := range strings.Split(strings.ReplaceAll(text, "\\\n", " "), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		rest := strings.Join(f[1:], " ")
		switch strings.ToUpper(f[0]) {
		case "FROM":
			from = append(from, rest)
		case "USER":
			user = append(user, rest)
		case "VOLUME":
			volume = append(volume, rest)
		case "ENV":
			env = append(env, rest)
		case "HEALTHCHECK":
			health = append(health, rest)
		case "LABEL":
			labels = append(labels, rest)
		}
	}
	if len(from) < 2 || !strings.Contains(from[0], " AS build") {
		t.Errorf("not a multi-stage build: FROM %v", from)
	}
	if !strings.Contains(text, "CGO_ENABLED=0") {
		t.Error("CGO is not turned off")
	}
	if len(user) == 0 || user[len(user)-1] == "root" || strings.HasPrefix(user[len(user)-1], "0") {
		t.Errorf("runs as %v", user)
	}
	if !slices.Contains(volume, `["/data"]`) || !strings.Contains(strings.Join(env, " "), "DATA_DIR=/data") {
		t.Errorf("VOLUME %v, ENV %v: want DATA_DIR=/data on a volume", volume, env)
	}
	// The healthcheck subcommand probes /health/ready on PORT by default.
	if len(health) != 1 || !strings.Contains(health[0], `"healthcheck"]`) {
		t.Errorf("HEALTHCHECK %v", health)
	}
	if !strings.Contains(strings.Join(labels, " "), `org.opencontainers.image.version="${VERSION}"`) || !strings.Contains(text, "-X main.buildVersion=${VERSION}") {
		t.Errorf("the version is not in the labels and the binary: %v", labels)
	}
}
