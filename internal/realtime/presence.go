package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/centrifugal/centrifuge"
)

// clusterPresence tells who is online in a channel without any Redis
// command while nobody asks: each node keeps its own connections' presence
// in memory (refreshing it costs nothing), and a question is answered by
// asking the other nodes over the bus. An answer costs one PUBSUB NUMSUB
// (how many nodes listen), one PUBLISH for the question and one per other
// node for the replies.
type clusterPresence struct {
	local *centrifuge.MemoryPresenceManager
	b     *redisBroker
}

// presenceWait bounds how long a question waits for the other nodes.
const presenceWait = time.Second

func (p *clusterPresence) AddPresence(ch, clientID string, info *centrifuge.ClientInfo) error {
	return p.local.AddPresence(ch, clientID, info)
}

func (p *clusterPresence) RemovePresence(ch, clientID, userID string) error {
	return p.local.RemovePresence(ch, clientID, userID)
}

// Presence merges this node's presence in ch with every other node's.
func (p *clusterPresence) Presence(ch string) (map[string]*centrifuge.ClientInfo, error) {
	out, err := p.local.Presence(ch)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]*centrifuge.ClientInfo{}
	}
	others, err := p.b.askPresence(ch)
	if err != nil {
		return nil, err
	}
	for id, info := range others {
		out[id] = info.centrifuge()
	}
	return out, nil
}

// PresenceStats counts the connections and distinct users in ch on every
// node.
func (p *clusterPresence) PresenceStats(ch string) (centrifuge.PresenceStats, error) {
	all, err := p.Presence(ch)
	if err != nil {
		return centrifuge.PresenceStats{}, err
	}
	users := make(map[string]struct{}, len(all))
	for _, info := range all {
		users[info.UserID] = struct{}{}
	}
	return centrifuge.PresenceStats{NumClients: len(all), NumUsers: len(users)}, nil
}

type presenceReply map[string]*clientInfo

// askPresence asks the other nodes for their presence in ch and waits for
// each of them, at most presenceWait.
func (b *redisBroker) askPresence(ch string) (presenceReply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), presenceWait)
	defer cancel()
	subs, err := b.rdb.PubSubNumSub(ctx, b.bus).Result()
	if err != nil {
		return nil, err
	}
	peers := int(subs[b.bus]) - 1
	if peers <= 0 {
		return nil, nil
	}
	id := newEpoch() + newEpoch()
	replies := make(chan presenceReply, peers)
	b.queries.Store(id, replies)
	defer b.queries.Delete(id)
	if err := b.send("q" + b.node.ID() + ":" + id + ":" + ch); err != nil {
		return nil, err
	}
	out := presenceReply{}
	for range peers {
		select {
		case r := <-replies:
			for k, v := range r {
				out[k] = v
			}
		case <-ctx.Done():
			return out, nil
		}
	}
	return out, nil
}

// answerPresence replies to another node's question with this node's
// presence in the channel.
func (b *redisBroker) answerPresence(body string) {
	from, rest, ok1 := strings.Cut(body, ":")
	id, ch, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || from == b.node.ID() || b.localPresence == nil {
		return
	}
	go func() {
		mine, err := b.localPresence.Presence(ch)
		if err != nil {
			return
		}
		r := make(presenceReply, len(mine))
		for k, v := range mine {
			r[k] = toInfo(v)
		}
		data, err := json.Marshal(r)
		if err != nil {
			return
		}
		if err := b.send("r" + from + ":" + id + ":" + string(data)); err != nil {
			b.logger.Debug("realtime: presence reply", slog.Any("error", err))
		}
	}()
}

// presenceAnswered hands a reply to the question waiting for it.
func (b *redisBroker) presenceAnswered(body string) {
	to, rest, ok1 := strings.Cut(body, ":")
	id, data, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || to != b.node.ID() {
		return
	}
	v, ok := b.queries.Load(id)
	if !ok {
		return
	}
	var r presenceReply
	if json.Unmarshal([]byte(data), &r) != nil {
		return
	}
	select {
	case v.(chan presenceReply) <- r:
	default:
	}
}
