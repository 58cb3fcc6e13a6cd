// Command loadgen measures a running CareCircle server: it signs a user up the
// way a person would (register, read the code from the outbox, verify), then
// drives one scenario at a fixed concurrency and prints throughput and latency.
//
//	loadgen -target http://127.0.0.1:4000 -outbox ./data/outbox -scenario me -duration 20s
//
// The mix scenario (internal/loadmix) signs up -users people, each with a
// family, and has them use the app across every -target given (the API
// nodes of a deployment), reporting the statuses and latencies it saw:
//
//	loadgen -scenario mix -target http://127.0.0.1:4001 -target http://127.0.0.1:4002 -outbox ./data/outbox -duration 60s
//
// Run the server with RATE_LIMIT_ENABLED=false: the per-client limits would
// otherwise cap a single load client at 5 requests per second.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/carecircle/carecircle/internal/mail"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type options struct {
	target   string
	targets  targetList
	users    int
	think    time.Duration
	prefix   string
	outbox   string
	scenario string
	workers  uint64
	duration time.Duration
	label    string
	format   string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.Var(&o.targets, "target", "base URL of the server (default http://127.0.0.1:4000); repeat it for the API nodes of a deployment (-scenario mix)")
	fs.StringVar(&o.prefix, "prefix", "/api/v1", "API prefix")
	fs.StringVar(&o.outbox, "outbox", "./data/outbox", "the server's mail outbox directory, to read the verification code")
	fs.StringVar(&o.scenario, "scenario", "me", "me | list-care-recipients | list-families | list-medications | schedule-today | app-open (the five reads in turn) | create-care-recipient | mix")
	fs.IntVar(&o.users, "users", 4, "people signed up for -scenario mix, each with a family of their own")
	fs.DurationVar(&o.think, "think", 600*time.Millisecond, "mean pause between one person's visits in -scenario mix")
	fs.Uint64Var(&o.workers, "workers", 16, "concurrent connections")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long to drive load")
	fs.StringVar(&o.label, "label", "", "label printed with the result")
	fs.StringVar(&o.format, "format", "text", "text | markdown (one table row)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.duration <= 0 || o.duration > 10*time.Minute {
		return errors.New("-duration must be between 0 and 10m")
	}
	if len(o.targets) == 0 {
		o.targets = targetList{"http://127.0.0.1:4000"}
	}
	o.target = o.targets[0]
	if o.scenario == "mix" {
		return runMix(ctx, o, out)
	}
	c := &client{base: strings.TrimRight(o.target, "/") + o.prefix, http: &http.Client{Timeout: 30 * time.Second}}
	token, err := c.signUp(ctx, o.outbox)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	targeter, err := scenario(ctx, c, o, token)
	if err != nil {
		return err
	}
	m := attack(targeter, o)
	report(out, o, m)
	if m.Success < 0.99 {
		return fmt.Errorf("only %.1f%% of requests succeeded (status codes %v, errors %v)", m.Success*100, m.StatusCodes, firstErrors(m.Errors))
	}
	return nil
}

// scenario builds the requests to send.
func scenario(ctx context.Context, c *client, o options, token string) (vegeta.Targeter, error) {
	hdr := http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	switch o.scenario {
	case "me":
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: c.base + "/auth/me", Header: hdr}), nil
	case "list-care-recipients":
		var fam, cr struct{ ID string }
		if err := c.call(ctx, "POST", "/families", token, map[string]any{"name": "Load family"}, &fam); err != nil {
			return nil, fmt.Errorf("create family: %w", err)
		}
		for range 3 {
			if err := c.call(ctx, "POST", "/families/"+fam.ID+"/care-recipients", token, map[string]any{
				"fullName": "Load Recipient", "timezone": "Asia/Tokyo", "allergies": []string{"penicillin"},
			}, &cr); err != nil {
				return nil, fmt.Errorf("create care recipient: %w", err)
			}
		}
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: c.base + "/families/" + fam.ID + "/care-recipients", Header: hdr}), nil
	case "create-care-recipient":
		var fam struct{ ID string }
		if err := c.call(ctx, "POST", "/families", token, map[string]any{"name": "Load family"}, &fam); err != nil {
			return nil, fmt.Errorf("create family: %w", err)
		}
		body, _ := json.Marshal(map[string]any{
			"fullName": "Load Recipient", "timezone": "Asia/Tokyo", "bloodType": "O+",
			"allergies": []string{"penicillin"}, "conditions": []string{"diabetes"},
		})
		return vegeta.NewStaticTargeter(vegeta.Target{Method: "POST", URL: c.base + "/families/" + fam.ID + "/care-recipients", Header: hdr, Body: body}), nil
	case "list-families", "list-medications", "schedule-today", "app-open":
		urls, err := appOpenURLs(ctx, c, token)
		if err != nil {
			return nil, err
		}
		var targets []vegeta.Target
		for _, u := range urls {
			if o.scenario == "app-open" || u.scenario == o.scenario {
				targets = append(targets, vegeta.Target{Method: "GET", URL: c.base + u.path, Header: hdr})
			}
		}
		return vegeta.NewStaticTargeter(targets...), nil
	default:
		return nil, fmt.Errorf("unknown scenario %q", o.scenario)
	}
}

// appOpenURL is one of the reads an app makes when it opens, with the
// scenario that drives it alone.
type appOpenURL struct{ scenario, path string }

// appOpenURLs gives the user a family with a care recipient taking two
// medications, and returns the reads an app makes when it opens: the
// signed-in user, their families, the family's care recipients, the care
// recipient's medications and today's schedule. -scenario app-open sends
// them in turn.
func appOpenURLs(ctx context.Context, c *client, token string) ([]appOpenURL, error) {
	var fam, cr struct{ ID string }
	if err := c.call(ctx, "POST", "/families", token, map[string]any{"name": "Load family"}, &fam); err != nil {
		return nil, fmt.Errorf("create family: %w", err)
	}
	if err := c.call(ctx, "POST", "/families/"+fam.ID+"/care-recipients", token, map[string]any{
		"fullName": "Load Recipient", "timezone": "Asia/Tokyo", "allergies": []string{"penicillin"},
	}, &cr); err != nil {
		return nil, fmt.Errorf("create care recipient: %w", err)
	}
	meds := "/care-recipients/" + cr.ID + "/medications"
	for _, name := range []string{"Metformin", "Lisinopril"} {
		if err := c.call(ctx, "POST", meds, token, map[string]any{
			"name": name, "dosage": "10 mg", "form": "TABLET", "frequency": "TWICE_DAILY",
			"scheduledTimes": []string{"08:00", "20:00"},
		}, nil); err != nil {
			return nil, fmt.Errorf("create medication: %w", err)
		}
	}
	return []appOpenURL{
		{"me", "/auth/me"},
		{"list-families", "/families"},
		{"list-care-recipients", "/families/" + fam.ID + "/care-recipients"},
		{"list-medications", meds},
		{"schedule-today", meds + "/schedule/today"},
	}, nil
}

// attack drives the targeter as fast as o.workers connections allow.
func attack(t vegeta.Targeter, o options) vegeta.Metrics {
	a := vegeta.NewAttacker(vegeta.Workers(o.workers), vegeta.MaxWorkers(o.workers),
		vegeta.Connections(int(o.workers)), vegeta.KeepAlive(true))
	var m vegeta.Metrics
	for res := range a.Attack(t, vegeta.Rate{Freq: 0}, o.duration, o.scenario) {
		m.Add(res)
	}
	m.Close()
	return m
}

func report(w io.Writer, o options, m vegeta.Metrics) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	if o.format == "markdown" {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %.2f%% |\n", o.label, o.scenario, o.workers,
			m.Requests, m.Throughput, ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max), m.Success*100)
		return
	}
	fmt.Fprintf(w, "%s scenario=%s workers=%d requests=%d throughput=%.0f/s p50=%sms p99=%sms max=%sms success=%.2f%%\n",
		o.label, o.scenario, o.workers, m.Requests, m.Throughput, ms(m.Latencies.P50), ms(m.Latencies.P99),
		ms(m.Latencies.Max), m.Success*100)
}

func firstErrors(errs []string) []string {
	if len(errs) > 3 {
		return errs[:3]
	}
	return errs
}

// client makes the setup calls.
type client struct {
	base string
	http *http.Client
}

func (c *client) call(ctx context.Context, method, path, token string, body, into any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if into != nil {
		return json.Unmarshal(b, into)
	}
	return nil
}

var codePattern = regexp.MustCompile(`\b(\d{6})\b`)

// signUp registers a fresh user, reads the emailed code from the outbox and
// verifies it, returning an access token.
func (c *client) signUp(ctx context.Context, outbox string) (string, error) {
	return c.signUpAs(ctx, outbox, fmt.Sprintf("load-%d@example.com", time.Now().UnixNano()))
}

// loadPassword is the password of every user loadgen signs up.
const loadPassword = "Load-tester-2026"

// signUpAs signs email up as signUp does.
func (c *client) signUpAs(ctx context.Context, outbox, email string) (string, error) {
	if err := c.call(ctx, "POST", "/auth/register", "", map[string]any{
		"fullName": "Load Tester", "email": email, "password": loadPassword,
	}, nil); err != nil {
		return "", err
	}
	code, err := findCode(outbox, email)
	if err != nil {
		return "", err
	}
	var v struct{ AccessToken string }
	if err := c.call(ctx, "POST", "/auth/verify-email", "", map[string]any{"email": email, "otp": code}, &v); err != nil {
		return "", err
	}
	return v.AccessToken, nil
}

// findCode reads the newest message to email from the outbox and returns
// the 6-digit code in it.
func findCode(outbox, email string) (string, error) {
	msgs, err := mail.ReadOutbox(outbox)
	if err != nil {
		return "", err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.EqualFold(msgs[i].To, email) {
			if m := codePattern.FindStringSubmatch(msgs[i].Text); m != nil {
				return m[1], nil
			}
		}
	}
	return "", fmt.Errorf("no verification code for %s in %s", email, outbox)
}
