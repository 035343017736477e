package fastpubsub

import (
	"context"
	"errors"
	"fmt"
)

// ErrorCode is a stable error code, the same in every FastPubSub SDK.
type ErrorCode string

const (
	CodeBadArgument     ErrorCode = "bad_argument"     // invalid tenant/channel/pattern/payload or option
	CodeQueueFull       ErrorCode = "queue_full"       // the publish queue is full (policy QueueError)
	CodeClosed          ErrorCode = "closed"           // the client or subscription is closed
	CodeAborted         ErrorCode = "aborted"          // the context was cancelled
	CodeTimeout         ErrorCode = "timeout"          // a bounded wait expired
	CodeNoEdge          ErrorCode = "no_edge"          // no candidate edge answered /ping
	CodeDiscoveryFailed ErrorCode = "discovery_failed" // a discovery document was unusable
	CodeConnectFailed   ErrorCode = "connect_failed"   // the transport could not open or broke
	CodeUnauthorized    ErrorCode = "unauthorized"     // the edge refused the token (401)
	CodeForbidden       ErrorCode = "forbidden"        // the edge denied the connection (403)
	CodeProtocol        ErrorCode = "protocol"         // the edge broke the contract
	CodeTokenProvider   ErrorCode = "token_provider"   // the token provider failed
	CodeHTTP            ErrorCode = "http"             // a REST call answered non-2xx
	CodeServer          ErrorCode = "server"           // an ERR from the edge; see ServerCode
)

// Error is every error the SDK returns. Match it with errors.As, or with errors.Is against the
// sentinels below (which compare the Code only), e.g. errors.Is(err, fastpubsub.ErrUnauthorized).
type Error struct {
	Code ErrorCode
	// ServerCode is the edge's wire code for CodeServer (permission_denied, payload_too_large,
	// token_expired, rate_limited, …), and the close reason for QUIC closes when known.
	ServerCode string
	// Detail is the rest of an ERR line, an HTTP body, …
	Detail string
	// Status is the HTTP status for unauthorized, forbidden, http and connect_failed when known.
	Status  int
	Message string
	Err     error // the cause, if any
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = string(e.Code)
	}
	if e.Err != nil {
		return fmt.Sprintf("fastpubsub: %s (%s): %v", msg, e.Code, e.Err)
	}
	return fmt.Sprintf("fastpubsub: %s (%s)", msg, e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches another *Error with the same Code (and the same ServerCode when the target sets one).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.ServerCode == "" || t.ServerCode == e.ServerCode)
}

// Sentinels for errors.Is.
var (
	ErrBadArgument   = &Error{Code: CodeBadArgument}
	ErrQueueFull     = &Error{Code: CodeQueueFull}
	ErrClosed        = &Error{Code: CodeClosed}
	ErrAborted       = &Error{Code: CodeAborted}
	ErrTimeout       = &Error{Code: CodeTimeout}
	ErrNoEdge        = &Error{Code: CodeNoEdge}
	ErrConnectFailed = &Error{Code: CodeConnectFailed}
	ErrUnauthorized  = &Error{Code: CodeUnauthorized}
	ErrForbidden     = &Error{Code: CodeForbidden}
	ErrProtocol      = &Error{Code: CodeProtocol}
	ErrTokenProvider = &Error{Code: CodeTokenProvider}
	ErrHTTP          = &Error{Code: CodeHTTP}
	ErrServer        = &Error{Code: CodeServer}
)

func newError(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func badArgument(format string, args ...any) *Error {
	return newError(CodeBadArgument, format, args...)
}

// ctxError turns a finished context into aborted (cancelled) or timeout (deadline).
func ctxError(ctx context.Context) *Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: "deadline exceeded", Err: ctx.Err()}
	}
	return &Error{Code: CodeAborted, Message: "operation aborted", Err: context.Cause(ctx)}
}

// asError returns err as *Error, wrapping other errors with the given code.
func asError(err error, code ErrorCode) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: code, Message: err.Error(), Err: err}
}
