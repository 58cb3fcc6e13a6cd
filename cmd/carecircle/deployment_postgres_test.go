package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// privatePostgres is a PostgreSQL server owned by one test (initdb and
// pg_ctl from `pg_config --bindir`), so the test can stop it without
// disturbing the machine's shared one. initdb refuses to run as root, so as
// root the server runs as the postgres OS user.
type privatePostgres struct {
	bin, base, data, socket, logFile string
	port                             int
	cred                             *syscall.Credential
}

// requirePostgresServer returns PostgreSQL's binary directory, or skips the
// test (fails it, when services are required) without one.
func requirePostgresServer(t *testing.T) string {
	t.Helper()
	fail := func(msg string) {
		if os.Getenv("CARECIRCLE_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg + " but CARECIRCLE_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip(msg)
	}
	out, err := exec.Command("pg_config", "--bindir").Output()
	if err != nil {
		fail("pg_config is not installed: a test cannot start a PostgreSQL of its own")
	}
	bin := strings.TrimSpace(string(out))
	for _, tool := range []string{"initdb", "pg_ctl"} {
		if _, err := os.Stat(filepath.Join(bin, tool)); err != nil {
			fail(tool + " is not in " + bin)
		}
	}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			fail("running as root without a postgres user to run initdb as")
		}
	}
	return bin
}

// startPrivatePostgres initdbs a cluster in a temporary directory (trust
// authentication, durability off: it is thrown away) and starts it on port.
// The server is stopped and its directory removed when the test ends.
func startPrivatePostgres(t *testing.T, bin string, port int) *privatePostgres {
	t.Helper()
	base, err := os.MkdirTemp("", "carecircle-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &privatePostgres{bin: bin, base: base, data: filepath.Join(base, "data"), socket: filepath.Join(base, "sock"),
		logFile: filepath.Join(base, "postgres.log"), port: port}
	t.Cleanup(func() {
		_ = p.pgCtl("stop", "-m", "immediate")
		if t.Failed() {
			if b, err := os.ReadFile(p.logFile); err == nil {
				t.Logf("private PostgreSQL log:\n%s", b)
			}
		}
		os.RemoveAll(base)
	})
	if err := os.Mkdir(p.socket, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		for _, dir := range []string{base, p.socket} {
			if err := os.Chown(dir, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := p.command("initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// command runs one of PostgreSQL's programs as the server's OS user.
func (p *privatePostgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
	cmd.Dir = p.base
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

func (p *privatePostgres) pgCtl(args ...string) error {
	args = append(args, "-D", p.data, "-w", "-t", "60")
	if out, err := p.command("pg_ctl", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// start starts the server and returns once it accepts connections.
func (p *privatePostgres) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c full_page_writes=off",
		p.port, p.socket)
	return p.pgCtl("start", "-l", p.logFile, "-o", opts)
}

// stopImmediately stops the server the way a crash would: every backend
// ends at once, without a checkpoint.
func (p *privatePostgres) stopImmediately() error {
	return p.pgCtl("stop", "-m", "immediate")
}

// url is the DATABASE_URL of the server's postgres database.
func (p *privatePostgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}
