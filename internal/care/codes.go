package care

import "fmt"

// CodeOutcome is what presenting a one-time code achieved.
type CodeOutcome int

// Outcomes of checking a one-time code, in the order they are decided.
const (
	// CodeAccepted: the code matched and is now used up.
	CodeAccepted CodeOutcome = iota
	// CodeRejected: the code did not match; tries remain.
	CodeRejected
	// CodeVoided: too many wrong tries; the code no longer works at all.
	CodeVoided
	// CodeExpired: the code outlived its lifetime.
	CodeExpired
	// CodeAbsent: no code was issued, or it was already used.
	CodeAbsent
)

// String names the outcome, for test failures and logs.
func (o CodeOutcome) String() string {
	switch o {
	case CodeAccepted:
		return "accepted"
	case CodeRejected:
		return "rejected"
	case CodeVoided:
		return "voided"
	case CodeExpired:
		return "expired"
	case CodeAbsent:
		return "absent"
	default:
		return fmt.Sprintf("CodeOutcome(%d)", int(o))
	}
}
