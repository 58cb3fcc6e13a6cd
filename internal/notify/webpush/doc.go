// Package webpush delivers CareCircle notifications to browsers through the
// Web Push protocol: it keeps the server's VAPID key pair (from the
// environment, or generated once and shared by every node through a
// KeyStore), builds the JSON payload the service worker shows, encrypts it
// for one subscription (RFC 8291, aes128gcm), signs the request (RFC 8292),
// and tells the caller what the push service answered — delivered, gone (the
// subscription must be deleted), retry later, or rejected.
package webpush
