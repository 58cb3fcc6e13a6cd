package app

import (
	"testing"

	"github.com/carecircle/carecircle/internal/config"
)

func TestJWTSecretGeneratedOnceAndKept(t *testing.T) {
	t.Parallel()
	cfg := config.Config{DataDir: t.TempDir()}
	a, err := jwtSecret(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwtSecret(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) < 32 || string(a) != string(b) {
		t.Fatalf("secret not kept: %q vs %q", a, b)
	}
	cfg.JWTSecret = "explicit-explicit-explicit-explicit"
	if c, _ := jwtSecret(cfg); string(c) != cfg.JWTSecret {
		t.Fatalf("JWT_SECRET ignored")
	}
}
