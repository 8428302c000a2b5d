// Package requestid names every HTTP request of an application, so that what a user is told of a
// failure ("… request 3f2a9c01d4e5b678") finds the server's log lines of it, while the failure's own
// words (a database's, a driver's) stay in the log.
package requestid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Header is the response header that carries a request's id.
const Header = "X-Request-Id"

type key struct{}

// New returns a fresh id: 16 hex digits, random, so ids of instances sharing a log never collide in
// practice and tell nothing about the traffic.
func New() string {
	var b [8]byte
	rand.Read(b[:]) // never fails; see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

// With returns a copy of ctx that carries id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, key{}, id)
}

// From returns the id ctx carries, or "" outside a request.
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
