package operator

import (
	"context"
	"errors"

	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// JobRetrier sends a failed job back to its queue; the River client is one.
type JobRetrier interface {
	JobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// JobDeleter removes a job from the queue; the River client is one.
type JobDeleter interface {
	JobDelete(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// AuditLog reads a page of the audit log, newest first, with the number of
// entries the query matches.
func (s *Service) AuditLog(ctx context.Context, q feature.AuditQuery) ([]feature.AuditEntry, int, error) {
	return s.store.AuditLog(ctx, q)
}

// FailedJobs lists a page of the dead letters, newest first.
func (s *Service) FailedJobs(ctx context.Context, limit, offset int) ([]store.DeadLetter, error) {
	return s.store.DeadLetters(ctx, limit, offset)
}

// pendingDeadLetter reads the dead letter id: KindNotFound when there is
// none, a conflict saying retried when it was already retried.
func (s *Service) pendingDeadLetter(ctx context.Context, id, retried string) (*store.DeadLetter, error) {
	dl, err := s.store.DeadLetter(ctx, id)
	if feature.IsNotFound(err) {
		return nil, feature.NotFound("Failed job")
	}
	if err != nil {
		return nil, err
	}
	if dl.RetriedAt != nil {
		return nil, feature.Conflict("%s", retried)
	}
	return dl, nil
}

// RetryFailedJob sends the dead letter id's job back to its queue (q, nil
// where this node has none) and marks the dead letter retried. It returns
// the job's id.
func (s *Service) RetryFailedJob(ctx context.Context, id string, q JobRetrier) (int64, error) {
	dl, err := s.pendingDeadLetter(ctx, id, "This job was already retried")
	if err != nil {
		return 0, err
	}
	if q == nil || dl.JobID == nil {
		return 0, feature.Errorf(feature.KindUnavailable, "The job queue is not available on this node")
	}
	if _, err := q.JobRetry(ctx, *dl.JobID); err != nil {
		if errors.Is(err, rivertype.ErrNotFound) {
			return 0, feature.Conflict("The job is no longer retained by the queue")
		}
		return 0, err
	}
	return *dl.JobID, s.store.MarkDeadLetterRetried(ctx, id)
}

// DiscardFailedJob drops a dead letter that is not worth retrying, and its
// job from the queue (q, when this node has one) while the queue keeps it.
func (s *Service) DiscardFailedJob(ctx context.Context, id string, q JobDeleter) error {
	dl, err := s.pendingDeadLetter(ctx, id, "This job was retried; it is no longer a dead letter")
	if err != nil {
		return err
	}
	if q != nil && dl.JobID != nil {
		if _, err := q.JobDelete(ctx, *dl.JobID); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return err
		}
	}
	if err := s.store.DeleteDeadLetter(ctx, id); feature.IsNotFound(err) {
		return feature.NotFound("Failed job")
	} else if err != nil {
		return err
	}
	return nil
}

// Account loads the account id for an administrator's action on it.
// Nobody acts on their own account this way, only a super admin on another
// administrator's, and nobody on a deleted one.
func (s *Service) Account(ctx context.Context, by feature.Actor, id string) (*care.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if feature.IsNotFound(err) {
		return nil, feature.NotFound("User")
	}
	if err != nil {
		return nil, err
	}
	if u.ID == by.User.ID {
		return nil, feature.Conflict("You cannot do this to your own account")
	}
	if u.SystemRole.IsAdmin() && by.User.SystemRole != care.SystemSuperAdmin {
		return nil, feature.Forbidden("Only a super admin can do this to a system administrator")
	}
	if u.Status == care.UserDeleted {
		return nil, feature.Conflict("This account has been deleted")
	}
	return u, nil
}

// Suspend bars the account id from signing in and ends its sessions,
// returning how many ended; the caller closes their live connections.
// Suspending a suspended account changes nothing.
func (s *Service) Suspend(ctx context.Context, by feature.Actor, id string) (*care.User, int64, error) {
	u, err := s.Account(ctx, by, id)
	if err != nil {
		return nil, 0, err
	}
	return s.store.SuspendUser(ctx, u.ID)
}

// Unsuspend lets a suspended account sign in again.
func (s *Service) Unsuspend(ctx context.Context, by feature.Actor, id string) (*care.User, error) {
	u, err := s.Account(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if u.Status != care.UserSuspended {
		return nil, feature.Conflict("This account is not suspended")
	}
	return s.store.UnsuspendUser(ctx, u.ID)
}
