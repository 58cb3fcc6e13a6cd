// Package kv holds CareCircle's short-lived shared state — the cache, rate
// limits, one-time codes, resend cooldowns, login lockouts and distributed
// locks — behind one interface per seam, each with an in-memory
// implementation (one node, the embedded default) and a Redis one (shared by
// every node when REDIS_URL or REDIS_HOST is set).
//
// Every Redis operation is one command on the wire: a plain GET or SET, or
// one EVALSHA of a Lua script that does the read-modify-write atomically.
// Nothing in this package polls Redis while it answers.
//
// Time comes from the injected clock on both backends: the Redis scripts
// receive "now" from the caller instead of reading Redis's TIME, and judge
// expiry (of codes, cooldowns, lockouts, leases and cache entries) against
// it, so a fake clock drives both backends the same way in tests. Redis key
// TTLs are set to the same durations and only reclaim memory. Nodes are
// expected to keep their clocks in sync (NTP); a skew of d shifts a limit or
// an expiry by at most d, and lock holders are protected from it by fencing
// tokens.
//
// Resilient wraps the Redis implementations and falls back to memory (or
// bypasses the cache) while Redis does not answer, probing for its return in
// the background only while it is away.
//
// Two seams spend Redis commands only where they matter: LocalFirstLimiter
// counts a client's requests in the node's memory and asks the shared
// limiter only near a limit, and NodeCache caches in the node's memory and
// broadcasts its invalidations to the other nodes (over the realtime bus),
// so a read costs nothing and a write one PUBLISH.
package kv
