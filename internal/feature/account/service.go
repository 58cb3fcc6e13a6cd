// Package account is the application layer of a person's account: sign-up
// and email verification, sign-in with its lockout, sessions, password
// change and reset, phone verification, the profile, the data export and
// the deletion of the account. Its commands check who may run them, apply
// the rules, run one transaction where they change several things, and
// record their events (see internal/feature). What only HTTP knows (cookies,
// where a token comes from, CSRF origins, rate limits) stays in the API.
package account

import (
	"context"
	"log/slog"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/kv/dbkv"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/store"
)

// Account security policy: how long sessions, codes and links live, and
// how many wrong tries they take.
const (
	SessionTTL           = 7 * 24 * time.Hour  // a sign-in without rememberMe
	RememberedSessionTTL = 30 * 24 * time.Hour // a sign-in with rememberMe
	VerifyCodeTTL        = 5 * time.Minute     // lifetime of an email verification code
	VerifyCodeMaxTries   = 5                   // wrong tries that void a code
	VerifyCodeCooldown   = time.Minute         // least time between two codes
	ResetTokenTTL        = time.Hour           // lifetime of a password reset link
	MaxLoginFailures     = 5                   // wrong passwords that lock an account
	LoginLockout         = 30 * time.Minute    // how long a locked account stays locked
)

// DummyPasswordHash is checked against when no account matches a sign-in,
// so an unknown email costs as much time as a wrong password.
const DummyPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$2nemrRy9TJ7/CEHq9712SA$kr1aivZ9cSVAiGAvXP7fVnGDUXk022Iaj/JFeQQV0Jw"

// Release gives up, in the transaction that ends a user's membership of a
// family, what they had taken on there (shifts to work, appointments to
// drive to), telling the family's admins why.
type Release func(ctx context.Context, a feature.Actor, familyID, userID, why string) error

// Deps are what the account needs besides the shared base.
type Deps struct {
	// Tokens signs the access tokens of new and refreshed sessions.
	Tokens *auth.Tokens
	// Codes and Lockout keep one-time codes, resend cooldowns and login
	// lockouts; nil keeps them in the database.
	Codes   kv.Codes
	Lockout kv.Lockout
	// SMS texts phone verification codes; nil when SMS is not configured.
	SMS sms.Sender
	// SessionEnded closes the realtime connections of a session just
	// ended, and SessionsEnded those of every session of a user but
	// keepSessionID (empty: none is kept), on every node. The sessions are
	// dead in the database already: these only log a failure. Nil closes
	// nothing.
	SessionEnded  func(ctx context.Context, userID, sessionID string)
	SessionsEnded func(ctx context.Context, userID, keepSessionID string)
	// CheckPassword checks a password against its argon2id hash;
	// auth.CheckPassword when nil.
	CheckPassword func(hash, password string) bool
	// Release gives up a departing member's commitments when the account
	// is deleted; nil releases nothing.
	Release Release
	// PublicURL is the base of the links in emails and texts.
	PublicURL string
}

// Service runs the account's commands and queries.
type Service struct {
	b        *feature.Base
	tokens   *auth.Tokens
	codes    kv.Codes
	lockout  kv.Lockout
	sms      sms.Sender
	ended    func(ctx context.Context, userID, sessionID string)
	allEnded func(ctx context.Context, userID, keepSessionID string)
	check    func(hash, password string) bool
	release  Release
	public   string
}

// New builds the service on the shared base.
func New(b *feature.Base, d Deps) *Service {
	s := &Service{
		b: b, tokens: d.Tokens, codes: d.Codes, lockout: d.Lockout, sms: d.SMS,
		ended: d.SessionEnded, allEnded: d.SessionsEnded, check: d.CheckPassword, release: d.Release, public: d.PublicURL,
	}
	if s.codes == nil {
		s.codes = dbkv.Codes(b.Store)
	}
	if s.lockout == nil {
		s.lockout = dbkv.Lockout(b.Store)
	}
	if s.check == nil {
		s.check = auth.CheckPassword
	}
	return s
}

// tooMany is the refusal of a request made again too soon; retry is the
// wait, at least a second.
func tooMany(retry time.Duration) error {
	return &feature.Error{Kind: feature.KindTooMany, Message: "Too many requests. Please try again later.",
		RetryAfter: max((retry+time.Second-1)/time.Second, 1) * time.Second}
}

// sessionEnded closes the realtime connections of a session just revoked.
func (s *Service) sessionEnded(ctx context.Context, userID, sessionID string) {
	if s.ended != nil {
		s.ended(ctx, userID, sessionID)
	}
}

// sessionsEnded closes the realtime connections of every session of the
// user except keepSessionID, after they were revoked together.
func (s *Service) sessionsEnded(ctx context.Context, userID, keepSessionID string) {
	if s.allEnded != nil {
		s.allEnded(ctx, userID, keepSessionID)
	}
}

// loginLockoutPolicy locks an account for LoginLockout after
// MaxLoginFailures wrong passwords within as long.
var loginLockoutPolicy = kv.LockoutPolicy{Max: MaxLoginFailures, Window: LoginLockout, LockFor: LoginLockout}

// loginLockKey is where wrong passwords for an email address are counted:
// per address, account or not, so a lock looks the same for both.
func loginLockKey(email string) string { return store.AddressKey(store.PurposeLogin, email) }

// liftLoginLock forgets the wrong passwords for the account's email and any
// lock, after a sign-in or a new password. A failure only leaves the count
// to expire.
func (s *Service) liftLoginLock(ctx context.Context, email string) {
	if err := s.lockout.Reset(ctx, loginLockKey(email)); err != nil {
		s.b.Logger.WarnContext(ctx, "lifting the login lock failed", slog.Any("error", err))
	}
}
