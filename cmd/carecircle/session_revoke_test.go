package main

import (
	"context"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/realtime"
	"github.com/carecircle/carecircle/internal/realtime/rtclient"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// resetLinkRE finds the token of a password reset link in a mail.
var resetLinkRE = regexp.MustCompile(`/reset-password\?token=([A-Za-z0-9_-]+)`)

// One process on SQLite: every way a session ends closes that session's
// realtime connections, by token or by cookie, within a second, and leaves
// the user's other sessions connected.
func TestEndedSessionsLoseTheirRealtimeConnections(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	base, _ := startServer(t, map[string]string{"DATA_DIR": dataDir, "RATE_LIMIT_ENABLED": "false"})
	api := &e2eClient{t: t, base: base, outbox: filepath.Join(dataDir, "outbox")}
	checkSessionRevocation(t, api, base)
}

// Two API processes sharing PostgreSQL and Redis: sessions ended through
// node A lose, within a second, the connections they hold on node B (the
// disconnect goes through the realtime broker's control channel).
func TestEndedSessionsLoseTheirRealtimeConnectionsOnEveryNode(t *testing.T) {
	t.Parallel()
	redisURL, prefix := sharedRedis(t, "ccrevoke")
	dsn := storetest.NewPostgresSchema(t)
	dirA := t.TempDir()
	env := func(port int, dataDir string) map[string]string {
		return map[string]string{
			"DATABASE_URL": dsn, "REDIS_URL": redisURL, "REDIS_KEY_PREFIX": prefix,
			"JWT_SECRET": "revoke-test-secret-revoke-test-secret", "DATA_DIR": dataDir,
			"RATE_LIMIT_ENABLED": "false", "PORT": strconv.Itoa(port), "LOG_LEVEL": "warn",
		}
	}
	portA, portB := freePort(t), freePort(t)
	baseA, baseB := "http://127.0.0.1:"+strconv.Itoa(portA), "http://127.0.0.1:"+strconv.Itoa(portB)
	// The first process migrates the schema; the second starts on it.
	startProcess(t, env(portA, dirA), "serve")
	waitHealthy(t, baseA, "/health/ready")
	startProcess(t, env(portB, t.TempDir()), "serve", "--role=api")
	waitHealthy(t, baseB, "/health/ready")
	api := &e2eClient{t: t, base: baseA, outbox: filepath.Join(dirA, "outbox")}
	checkSessionRevocation(t, api, baseB)
}

// checkSessionRevocation ends sessions through api in every way a user can
// and watches connections held on the node at rtBase.
func checkSessionRevocation(t *testing.T, api *e2eClient, rtBase string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const email = "ann@example.com"
	s1, s1Refresh := api.signUp("Ann Lee", email)
	userChannel := "user:" + api.call("GET", "/auth/me", s1, nil, 200)["id"].(string)
	login := func(password string) string {
		return api.call("POST", "/auth/login", "", map[string]any{"email": email, "password": password}, 200)["accessToken"].(string)
	}
	s2, s3 := login("Correct-horse-42"), login("Correct-horse-42")

	connect := func(name string, o rtclient.Options) *rtclient.Client {
		t.Helper()
		c := rtclient.New(rtclient.URL(rtBase), o)
		t.Cleanup(c.Close)
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("%s: connect: %v", name, err)
		}
		return c
	}
	byToken := func(tok string) rtclient.Options { return rtclient.Options{Token: tok} }
	byCookie := func(tok string) rtclient.Options {
		return rtclient.Options{Header: http.Header{"Cookie": {"access_token=" + tok}}}
	}
	// ended expects the connection closed as a session end, long before the
	// access token would have expired (the test's deadline is a minute; the
	// token lasts 15). How long it took is logged: on a quiet machine well
	// under a second, but a shared machine's load is no reason to fail.
	ended := func(what, name string, c *rtclient.Client, since time.Time) {
		t.Helper()
		d, err := c.Disconnected(ctx)
		if err != nil {
			t.Fatalf("%s: %s was not disconnected: %v", what, name, err)
		}
		if d.Code != realtime.SessionEnded.Code {
			t.Fatalf("%s: %s disconnected with %d %q, want %d", what, name, d.Code, d.Reason, realtime.SessionEnded.Code)
		}
		t.Logf("%s: %s disconnected %v after the request", what, name, d.At.Sub(since))
	}
	// alive proves a connection still serves: the server answers a request
	// on it. Run after another connection's disconnect was seen, it also
	// shows that the same disconnect spared this one.
	alive := func(what, name string, c *rtclient.Client) {
		t.Helper()
		sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
		defer scancel()
		if _, _, err := c.PresenceStats(sctx, userChannel); err != nil {
			t.Fatalf("%s: %s lost its connection: %v", what, name, err)
		}
	}

	s1Token, s1Cookie := connect("session 1 by token", byToken(s1)), connect("session 1 by cookie", byCookie(s1))
	s2Token, s3Token, s3Cookie := connect("session 2 by token", byToken(s2)), connect("session 3 by token", byToken(s3)), connect("session 3 by cookie", byCookie(s3))

	// Signing out of one device ends only that device's connections.
	start := time.Now()
	api.call("POST", "/auth/logout", s1, map[string]any{"refreshToken": s1Refresh}, 200)
	ended("logout", "session 1 by token", s1Token, start)
	ended("logout", "session 1 by cookie", s1Cookie, start)
	alive("logout", "session 2", s2Token)
	alive("logout", "session 3", s3Token)

	// A password change ends every other session, not the one that made it.
	start = time.Now()
	api.call("POST", "/auth/change-password", s2, map[string]any{"currentPassword": "Correct-horse-42", "newPassword": "Battery-staple-43"}, 200)
	ended("change password", "session 3 by token", s3Token, start)
	ended("change password", "session 3 by cookie", s3Cookie, start)
	alive("change password", "session 2", s2Token)

	// Signing out everywhere ends the rest.
	s4 := login("Battery-staple-43")
	s4Cookie := connect("session 4 by cookie", byCookie(s4))
	start = time.Now()
	api.call("POST", "/auth/logout-all", s2, nil, 200)
	ended("logout all", "session 2 by token", s2Token, start)
	ended("logout all", "session 4 by cookie", s4Cookie, start)

	// A password reset through the mailed link ends every session.
	s5, s6 := login("Battery-staple-43"), login("Battery-staple-43")
	s5Token, s6Cookie := connect("session 5 by token", byToken(s5)), connect("session 6 by cookie", byCookie(s6))
	api.call("POST", "/auth/forgot-password", "", map[string]any{"email": email}, 200)
	link := resetLinkRE.FindStringSubmatch(api.lastMail(email))
	if link == nil {
		t.Fatal("no reset link in the mail")
	}
	start = time.Now()
	api.call("POST", "/auth/reset-password", "", map[string]any{"token": link[1], "newPassword": "Correct-horse-44"}, 200)
	ended("password reset", "session 5 by token", s5Token, start)
	ended("password reset", "session 6 by cookie", s6Cookie, start)

	// An ended session cannot connect again, by token or by cookie.
	for name, o := range map[string]rtclient.Options{"token": byToken(s5), "cookie": byCookie(s6)} {
		c := rtclient.New(rtclient.URL(rtBase), o)
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		err := c.Connect(cctx)
		ccancel()
		c.Close()
		if err == nil {
			t.Fatalf("an ended session connected again by %s", name)
		}
	}
}
