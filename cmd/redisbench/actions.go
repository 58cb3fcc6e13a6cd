package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
)

// user is one simulated person, with their own client address.
type user struct {
	o       options
	http    *http.Client
	ip      string
	email   string
	access  string
	refresh string
	family  string
	cr      string
	med     string
}

var seq int

func newUser(o options) *user {
	seq++
	return &user{o: o, http: &http.Client{Timeout: 30 * time.Second},
		ip:    fmt.Sprintf("10.%d.%d.%d", (seq>>16)&255, (seq>>8)&255, seq&255),
		email: fmt.Sprintf("rb-%d-%d@example.com", time.Now().UnixNano(), seq)}
}

func (u *user) call(ctx context.Context, method, path string, body, into any) error {
	_, err := u.callStatus(ctx, method, path, body, into)
	return err
}

func (u *user) callStatus(ctx context.Context, method, path string, body, into any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(u.o.target, "/")+u.o.prefix+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", u.ip)
	if u.access != "" {
		req.Header.Set("Authorization", "Bearer "+u.access)
	}
	res, err := u.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	if into != nil {
		return res.StatusCode, json.Unmarshal(b, into)
	}
	return res.StatusCode, nil
}

const password = "Redis-bench-2026"

type tokens struct {
	AccessToken  string
	RefreshToken string
	Tokens       struct{ AccessToken, RefreshToken string }
}

func (u *user) take(t tokens) {
	u.access = t.AccessToken
	u.refresh = t.RefreshToken
	if t.Tokens.RefreshToken != "" {
		u.refresh = t.Tokens.RefreshToken
	}
}

func (u *user) register(ctx context.Context) error {
	return u.call(ctx, "POST", "/auth/register", map[string]any{"fullName": "Bench User", "email": u.email, "password": password, "timezone": "UTC"}, nil)
}

func (u *user) verify(ctx context.Context) error {
	code, err := findCode(u.o.outbox, u.email)
	if err != nil {
		return err
	}
	var t tokens
	if err := u.call(ctx, "POST", "/auth/verify-email", map[string]any{"email": u.email, "otp": code}, &t); err != nil {
		return err
	}
	u.take(t)
	return nil
}

func (u *user) login(ctx context.Context) error {
	var t tokens
	if err := u.call(ctx, "POST", "/auth/login", map[string]any{"email": u.email, "password": password}, &t); err != nil {
		return err
	}
	u.take(t)
	return nil
}

func (u *user) failedLogin(ctx context.Context) error {
	access := u.access
	u.access = ""
	defer func() { u.access = access }()
	status, _ := u.callStatus(ctx, "POST", "/auth/login", map[string]any{"email": u.email, "password": password + "x"}, nil)
	if status != http.StatusUnauthorized {
		return fmt.Errorf("failed login: status %d, want 401", status)
	}
	return nil
}

func (u *user) refreshTokens(ctx context.Context) error {
	access := u.access
	u.access = ""
	var t tokens
	if err := u.call(ctx, "POST", "/auth/refresh", map[string]any{"refreshToken": u.refresh}, &t); err != nil {
		u.access = access
		return err
	}
	u.take(t)
	return nil
}

func (u *user) me(ctx context.Context) error { return u.call(ctx, "GET", "/auth/me", nil, nil) }

func (u *user) createFamily(ctx context.Context) error {
	var f struct{ ID string }
	if err := u.call(ctx, "POST", "/families", map[string]any{"name": "Bench family"}, &f); err != nil {
		return err
	}
	u.family = f.ID
	return nil
}

func (u *user) createCareRecipient(ctx context.Context) error {
	var cr struct{ ID string }
	if err := u.call(ctx, "POST", "/families/"+u.family+"/care-recipients", map[string]any{
		"fullName": "Bench Recipient", "timezone": "UTC", "bloodType": "O+",
		"allergies": []string{"penicillin"}, "conditions": []string{"diabetes"},
	}, &cr); err != nil {
		return err
	}
	u.cr = cr.ID
	return nil
}

func (u *user) listCareRecipients(ctx context.Context) error {
	return u.call(ctx, "GET", "/families/"+u.family+"/care-recipients", nil, nil)
}

func (u *user) createMedication(ctx context.Context) error {
	var m struct{ ID string }
	if err := u.call(ctx, "POST", "/care-recipients/"+u.cr+"/medications", map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "DAILY",
		"timesPerDay": 1, "scheduledTimes": []string{"08:00"}, "currentSupply": 1000,
	}, &m); err != nil {
		return err
	}
	u.med = m.ID
	return nil
}

func (u *user) schedule(ctx context.Context) error {
	return u.call(ctx, "GET", "/care-recipients/"+u.cr+"/medications/schedule/today", nil, nil)
}

// logDose logs the 08:00 dose of the given day (days ago), once per day.
func (u *user) logDose(ctx context.Context, daysAgo int) error {
	d := time.Now().UTC().AddDate(0, 0, -daysAgo)
	at := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, time.UTC)
	return u.call(ctx, "POST", "/medications/"+u.med+"/log", map[string]any{"status": "GIVEN", "scheduledTime": at.Format(time.RFC3339)}, nil)
}

// realtime connects to the realtime endpoint, subscribes to the family
// channel and leaves, as the app does when it opens.
func (u *user) realtime(ctx context.Context) error {
	c := rtclient.New(rtclient.URL(u.o.target), rtclient.Options{Token: u.access})
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Connect(cctx); err != nil {
		return err
	}
	return c.Subscribe(cctx, "family:"+u.family)
}

var codePattern = regexp.MustCompile(`\b(\d{6})\b`)

// findCode reads the newest message to email from the outbox, retrying
// while the message is on its way.
func findCode(outbox, email string) (string, error) {
	for range 50 {
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
		time.Sleep(100 * time.Millisecond)
	}
	return "", fmt.Errorf("no verification code for %s in %s", email, outbox)
}

// step is one measured action.
type step struct {
	name string
	do   func(ctx context.Context) error
}

// actions runs every typical action once, in the order a new user meets
// them, and reports what each sent to Redis.
func actions(ctx context.Context, o options, out io.Writer, print bool) (map[string]cost, error) {
	mon, err := startMonitor(ctx, o.redis)
	if err != nil {
		return nil, err
	}
	defer mon.close()
	u := newUser(o)
	steps := []step{
		{"register", u.register},
		{"verify email", u.verify},
		{"login", u.login},
		{"failed login", u.failedLogin},
		{"GET /auth/me, first", u.me},
		{"create family", u.createFamily},
		{"create care recipient", u.createCareRecipient},
		{"list care recipients, first after a change", u.listCareRecipients},
		{"GET /auth/me, first after a change", u.me},
		{"GET /auth/me, again", u.me},
		{"list care recipients, again", u.listCareRecipients},
		{"create medication", u.createMedication},
		{"GET medication schedule today", u.schedule},
		{"log a dose", func(ctx context.Context) error { return u.logDose(ctx, 0) }},
		{"refresh tokens", u.refreshTokens},
		{"realtime connect + subscribe", u.realtime},
	}
	costs := map[string]cost{}
	if print {
		fmt.Fprintln(out, "| action | API wire commands | API script calls | realtime wire commands (+ script calls) | cache reads / fills / invalidations | keys |")
		fmt.Fprintln(out, "|---|---|---|---|---|---|")
	}
	time.Sleep(o.settle)
	mon.take()
	for _, s := range steps {
		if err := s.do(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		time.Sleep(o.settle)
		c := tally(mon.take(), o.keyPrefix)
		costs[s.name] = c
		if print {
			fmt.Fprintf(out, "| %s | %s | %d | %s (+%d) | %d / %d / %d | %s |\n", s.name, format(c.api), c.lua,
				format(c.realtime), c.rtLua, c.reads, c.fills, c.inval, formatAreas(c.otherKeys))
		}
	}
	return costs, nil
}
