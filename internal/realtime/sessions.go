package realtime

import (
	"fmt"

	"github.com/centrifugal/centrifuge"
)

// sessionLabel is the connection label holding the CareCircle session a
// connection was authenticated for, so that ending one session can close
// exactly its connections on every node.
const sessionLabel = "session"

// SessionEnded is the disconnect a connection receives when its session is
// revoked (sign-out, a password change or reset, an administrator's reset).
// Its code is in the application's no-reconnect range: the client must sign
// in again.
var SessionEnded = centrifuge.Disconnect{Code: 4501, Reason: "session ended"}

// DisconnectSession closes every connection, on every node, that was
// authenticated for the user's session sessionID. With Redis the command
// goes through the broker's control channel, which each node obeys within
// milliseconds.
func (n *Node) DisconnectSession(userID, sessionID string) error {
	if userID == "" || sessionID == "" {
		return nil
	}
	err := n.node.Disconnect(userID, centrifuge.WithCustomDisconnect(SessionEnded),
		centrifuge.WithDisconnectLabelFilter(&centrifuge.FilterNode{Key: sessionLabel, Cmp: "eq", Val: sessionID}))
	if err != nil {
		return fmt.Errorf("realtime: disconnect session: %w", err)
	}
	return nil
}

// DisconnectUser closes every connection of the user on every node, except
// those of keepSessionID (empty: none is kept).
func (n *Node) DisconnectUser(userID, keepSessionID string) error {
	if userID == "" {
		return nil
	}
	opts := []centrifuge.DisconnectOption{centrifuge.WithCustomDisconnect(SessionEnded)}
	if keepSessionID != "" {
		opts = append(opts, centrifuge.WithDisconnectLabelFilter(
			&centrifuge.FilterNode{Key: sessionLabel, Cmp: "neq", Val: keepSessionID}))
	}
	if err := n.node.Disconnect(userID, opts...); err != nil {
		return fmt.Errorf("realtime: disconnect user: %w", err)
	}
	return nil
}
