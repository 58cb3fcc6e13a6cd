package main

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// rabbitVhost creates a RabbitMQ virtual host of the test's own, deleted
// when the test ends, and returns the amqp:// URL that reaches it as
// CARECIRCLE_TEST_RABBITMQ_URL's user. The test skips (or fails, when
// services are required) without a broker or rabbitmqctl.
func rabbitVhost(t testing.TB) (brokerURL, vhost string) {
	t.Helper()
	base := os.Getenv("CARECIRCLE_TEST_RABBITMQ_URL")
	required := os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1"
	if base == "" {
		if required {
			t.Fatal("CARECIRCLE_TEST_RABBITMQ_URL is not set but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("RabbitMQ tests skipped: set CARECIRCLE_TEST_RABBITMQ_URL to run them")
	}
	if _, err := exec.LookPath("rabbitmqctl"); err != nil {
		if required {
			t.Fatal("rabbitmqctl is not installed but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("rabbitmqctl is not installed: a test cannot make a virtual host of its own")
	}
	uri, err := amqp.ParseURI(base)
	if err != nil {
		t.Fatalf("CARECIRCLE_TEST_RABBITMQ_URL: %v", err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	vhost = "cctest-" + hex.EncodeToString(suffix)
	rabbitmqctl(t, "add_vhost", vhost)
	t.Cleanup(func() {
		if out, err := exec.Command("rabbitmqctl", "-q", "delete_vhost", vhost).CombinedOutput(); err != nil {
			t.Logf("delete vhost %s: %v: %s", vhost, err, out)
		}
	})
	rabbitmqctl(t, "set_permissions", "-p", vhost, uri.Username, ".*", ".*", ".*")
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + vhost
	u.RawPath = ""
	return u.String(), vhost
}

// closeVhostConnections cuts every client connection of vhost, as a broker
// restart or a network partition would.
func closeVhostConnections(t testing.TB, vhost string) {
	t.Helper()
	rabbitmqctl(t, "close_all_connections", "-p", vhost, "closed by a CareCircle test")
}

// rabbitmqctl runs one rabbitmqctl command, failing the test on error.
func rabbitmqctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
