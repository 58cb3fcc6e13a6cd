// Package events defines CareCircle's domain event envelope and carries
// events over RabbitMQ: it declares the contract's topology, publishes with
// publisher confirms and consumes with manual acknowledgements, reconnecting
// with backoff whenever the broker goes away. Delivery is at least once; a
// message that cannot be processed ends in its consumer's dead-letter queue
// instead of blocking the others.
//
// The transactional outbox and the dispatcher that decide when to publish
// live elsewhere; this package only moves envelopes to and from the broker.
package events
