// Package wire encodes and decodes FastPubSub's bytes: contract v0.1 frames for the WebSocket
// edge and native frames for the QUIC edge (spec/protocol.md). The test vectors in
// spec/vectors/*.json are normative; wire_test.go runs all of them.
package wire

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Limits from spec/protocol.md §1.
const (
	MaxPayload      = 65535
	MaxTopic        = 255
	MaxTenant       = 128
	MaxChannel      = 256
	MaxPattern      = 256
	MaxFramePayload = MaxPayload + 256
	MaxNonce        = 64
	HeaderSize      = 6
)

// Error is a decoding or validation failure with one of the stable codes of spec/protocol.md §1.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func fail(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func badFrame(format string, args ...any) *Error { return fail("bad_frame", format, args...) }

// CodeOf returns the stable code of a wire error, or "" for other errors.
func CodeOf(err error) string {
	var we *Error
	if errors.As(err, &we) {
		return we.Code
	}
	return ""
}

func checkUTF8(b []byte, what string) (string, error) {
	if !utf8.Valid(b) {
		return "", badFrame("%s is not valid UTF-8", what)
	}
	return string(b), nil
}

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '~' || c == '@' || c == '.'
}

func checkLength(code, what, s string, max int) error {
	if len(s) == 0 {
		return fail(code, "invalid %s %q: empty", what, s)
	}
	if len(s) > max {
		return fail(code, "invalid %s: %d bytes, more than %d", what, len(s), max)
	}
	return nil
}

func checkTokens(code, what, s string) error {
	if s[0] == '.' || s[len(s)-1] == '.' {
		return fail(code, "invalid %s %q: empty token (leading or trailing dot)", what, s)
	}
	for i := 1; i < len(s); i++ {
		if s[i] == '.' && s[i-1] == '.' {
			return fail(code, "invalid %s %q: empty token (double dot)", what, s)
		}
	}
	return nil
}

// ValidateTenant checks a tenant name (1–128 bytes of A-Za-z0-9_-~@.).
func ValidateTenant(s string) error {
	if err := checkLength("invalid_name", "tenant", s, MaxTenant); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return fail("invalid_name", "invalid tenant %q: character %q is not allowed (A-Za-z0-9_-~@.)", s, s[i])
		}
	}
	return nil
}

// ValidateChannel checks a publish channel: dot-separated tokens, no wildcards.
func ValidateChannel(s string) error {
	if err := checkLength("invalid_name", "channel", s, MaxChannel); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '*' || c == '#' || c == '>' {
			return fail("invalid_name", "invalid channel %q: wildcard %q is not allowed in a channel", s, c)
		}
		if !isNameChar(c) {
			return fail("invalid_name", "invalid channel %q: character %q is not allowed (A-Za-z0-9_-~@.)", s, c)
		}
	}
	return checkTokens("invalid_name", "channel", s)
}

// ValidatePattern checks a subscription pattern: `*` (or `p*`) ends a token anywhere; `#`, `>`
// (or `p#`, `p>`) only as the last token.
func ValidatePattern(s string) error {
	if err := checkLength("invalid_pattern", "pattern", s, MaxPattern); err != nil {
		return err
	}
	if err := checkTokens("invalid_pattern", "pattern", s); err != nil {
		return err
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			continue
		}
		if c == '*' || c == '#' || c == '>' {
			last := i+1 == len(s)
			if !last && s[i+1] != '.' {
				return fail("invalid_pattern", "invalid pattern %q: wildcard %q must end its token", s, c)
			}
			if c != '*' && !last {
				return fail("invalid_pattern", "invalid pattern %q: wildcard %q is allowed only in the last token", s, c)
			}
			continue
		}
		if !isNameChar(c) {
			return fail("invalid_pattern", "invalid pattern %q: character %q is not allowed", s, c)
		}
	}
	return nil
}
