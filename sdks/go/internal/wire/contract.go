package wire

import (
	"encoding/binary"
	"strings"
)

// DeliveryTag is byte 0 of a contract v0.1 delivery frame.
const DeliveryTag = 0x01

// Publish is a decoded contract v0.1 publish frame.
type Publish struct {
	Version int
	Mode    byte
	Tenant  string
	Channel string
	Payload []byte
}

// Delivery is a decoded contract v0.1 delivery frame.
type Delivery struct {
	Tenant   string
	Channel  string
	Payload  []byte
	Patterns []string
}

// AppendPublish appends a publish frame: v1 for mode 0 (broadcast, as the reference SDK sends
// it), v2 otherwise. Names and sizes are the caller's job (the client validates first).
func AppendPublish(dst []byte, tenant, channel string, payload []byte, mode byte) []byte {
	if mode != 0 {
		dst = append(dst, 0x02, mode)
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(tenant)))
	dst = append(dst, tenant...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(channel)))
	dst = append(dst, channel...)
	return append(dst, payload...)
}

// EncodePublish validates like the relay does, then encodes (version 1 when v2 is false).
func EncodePublish(tenant, channel string, payload []byte, mode byte, v2 bool) ([]byte, error) {
	if err := ValidateTenant(tenant); err != nil {
		return nil, err
	}
	if err := ValidateChannel(channel); err != nil {
		return nil, err
	}
	if mode > 2 {
		return nil, badFrame("unknown publish mode %d", mode)
	}
	if len(payload) > MaxPayload {
		return nil, fail("payload_too_large", "publish payload is %d bytes, more than %d", len(payload), MaxPayload)
	}
	var out []byte
	if v2 {
		out = append(out, 0x02, mode)
	}
	out = AppendPublish(out, tenant, channel, payload, 0)
	return out, nil
}

func readStr16(msg []byte, off int, what string) (string, int, error) {
	if off+2 > len(msg) {
		return "", 0, badFrame("truncated before the %s length", what)
	}
	n := int(binary.BigEndian.Uint16(msg[off:]))
	if n == 0 {
		return "", 0, badFrame("%s is empty", what)
	}
	start := off + 2
	if start+n > len(msg) {
		return "", 0, badFrame("%s length %d overruns the frame", what, n)
	}
	s, err := checkUTF8(msg[start:start+n], what)
	return s, start + n, err
}

// DecodePublish decodes a contract publish frame (the relay's side; used by the vector tests).
func DecodePublish(msg []byte) (Publish, error) {
	var p Publish
	if len(msg) == 0 {
		return p, badFrame("publish is empty")
	}
	off := 0
	switch msg[0] {
	case 0x00:
		p.Version = 1
	case 0x02:
		p.Version = 2
		if len(msg) < 2 {
			return p, badFrame("publish v2 truncated before the mode")
		}
		if msg[1] > 2 {
			return p, badFrame("unknown publish mode %d", msg[1])
		}
		p.Mode = msg[1]
		off = 2
	default:
		return p, badFrame("publish starts with 0x%02x", msg[0])
	}
	var err error
	if p.Tenant, off, err = readStr16(msg, off, "tenant"); err != nil {
		return p, err
	}
	if p.Channel, off, err = readStr16(msg, off, "channel"); err != nil {
		return p, err
	}
	if err = ValidateTenant(p.Tenant); err != nil {
		return p, err
	}
	if err = ValidateChannel(p.Channel); err != nil {
		return p, err
	}
	p.Payload = msg[off:]
	if len(p.Payload) > MaxPayload {
		return p, fail("payload_too_large", "publish payload is %d bytes, more than %d", len(p.Payload), MaxPayload)
	}
	return p, nil
}

// DecodeDelivery decodes a delivery frame; Payload aliases msg.
func DecodeDelivery(msg []byte) (Delivery, error) {
	var d Delivery
	if len(msg) == 0 || msg[0] != DeliveryTag {
		return d, badFrame("delivery tag is not 0x01")
	}
	var err error
	off := 1
	if d.Tenant, off, err = readStr16(msg, off, "tenant"); err != nil {
		return d, err
	}
	if d.Channel, off, err = readStr16(msg, off, "channel"); err != nil {
		return d, err
	}
	if off+4 > len(msg) {
		return d, badFrame("delivery truncated before the payload length")
	}
	n := int(binary.BigEndian.Uint32(msg[off:]))
	off += 4
	if n > len(msg)-off {
		return d, badFrame("delivery payload length %d overruns the frame", n)
	}
	d.Payload = msg[off : off+n]
	off += n
	if off+2 > len(msg) {
		return d, badFrame("delivery truncated before the pattern count")
	}
	count := int(binary.BigEndian.Uint16(msg[off:]))
	off += 2
	if count == 0 {
		return d, badFrame("delivery pattern count is 0")
	}
	d.Patterns = make([]string, 0, count)
	for i := 0; i < count; i++ {
		var p string
		if p, off, err = readStr16(msg, off, "pattern"); err != nil {
			return d, err
		}
		d.Patterns = append(d.Patterns, p)
	}
	if off != len(msg) {
		return d, badFrame("delivery has %d trailing bytes", len(msg)-off)
	}
	return d, nil
}

// EncodeDelivery encodes a delivery frame (the relay's side; used by the vector tests).
func EncodeDelivery(d Delivery) []byte {
	out := []byte{DeliveryTag}
	out = binary.BigEndian.AppendUint16(out, uint16(len(d.Tenant)))
	out = append(out, d.Tenant...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(d.Channel)))
	out = append(out, d.Channel...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(d.Payload)))
	out = append(out, d.Payload...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(d.Patterns)))
	for _, p := range d.Patterns {
		out = binary.BigEndian.AppendUint16(out, uint16(len(p)))
		out = append(out, p...)
	}
	return out
}

// ServerText is a parsed text frame from the edge. Kind is OK, PONG, ERR, RECONNECT or unknown.
type ServerText struct {
	Kind, Op, Tenant, Pattern, Code, Detail, Text string
	HasDetail                                     bool
}

// ParseServerText parses edge text like the reference SDK (trimming OK's tenant and pattern).
func ParseServerText(text string) ServerText {
	switch {
	case text == "PONG":
		return ServerText{Kind: "PONG"}
	case text == "RECONNECT":
		return ServerText{Kind: "RECONNECT"}
	case strings.HasPrefix(text, "ERR:"):
		code, detail, found := strings.Cut(text[4:], ":")
		return ServerText{Kind: "ERR", Code: code, Detail: detail, HasDetail: found}
	}
	for _, op := range []string{"SUB", "UNSUB"} {
		prefix := "OK:" + op + ":"
		if !strings.HasPrefix(text, prefix) {
			continue
		}
		tenant, pattern, found := strings.Cut(text[len(prefix):], ":")
		if !found {
			break
		}
		return ServerText{Kind: "OK", Op: op, Tenant: strings.TrimSpace(tenant), Pattern: strings.TrimSpace(pattern)}
	}
	return ServerText{Kind: "unknown", Text: text}
}

// ClientText is a parsed client command (the relay's side; used by the vector tests). Latest is
// the `:L` suffix of a SUB (latest-mode delivery; patterns never contain ':').
type ClientText struct {
	Kind, Tenant, Pattern string
	Latest                bool
}

// ParseClientText accepts `PING`, `SUB:t:p`, `UNSUB:t:p`; anything else is bad_command.
func ParseClientText(text string) (ClientText, error) {
	if text == "PING" {
		return ClientText{Kind: "PING"}, nil
	}
	var kind, rest string
	switch {
	case strings.HasPrefix(text, "SUB:"):
		kind, rest = "SUB", text[4:]
	case strings.HasPrefix(text, "UNSUB:"):
		kind, rest = "UNSUB", text[6:]
	default:
		return ClientText{}, fail("bad_command", "unknown command %q", text)
	}
	tenant, pattern, found := strings.Cut(rest, ":")
	if !found {
		return ClientText{}, fail("bad_command", "%s needs {tenant}:{pattern}", kind)
	}
	if p, ok := strings.CutSuffix(pattern, ":L"); ok && kind == "SUB" {
		return ClientText{Kind: kind, Tenant: tenant, Pattern: p, Latest: true}, nil
	}
	return ClientText{Kind: kind, Tenant: tenant, Pattern: pattern}, nil
}

// FormatSub, FormatUnsub and FormatOK build text commands.
func FormatSub(tenant, pattern string) string       { return "SUB:" + tenant + ":" + pattern }
func FormatSubLatest(tenant, pattern string) string { return FormatSub(tenant, pattern) + ":L" }
func FormatUnsub(tenant, pattern string) string     { return "UNSUB:" + tenant + ":" + pattern }
func FormatOK(op, tenant, pattern string) string {
	return "OK:" + op + ":" + tenant + ":" + pattern
}

// FormatErr builds `ERR:{code}` or `ERR:{code}:{detail}`.
func FormatErr(code, detail string, hasDetail bool) string {
	if !hasDetail {
		return "ERR:" + code
	}
	return "ERR:" + code + ":" + detail
}
