package kv

// Test helpers for the conformance suites in package kv_test, which import
// kvtest (and kvtest imports kv).
var (
	NewTestRedisClient = newRedisClient
	NewTestPrefix      = newPrefix
	NewTestResilient   = newTestResilient
)
