package wire

import "encoding/binary"

// Native frame types (spec/protocol.md §3).
const (
	TypeAUTH  = 0x01
	TypeSUB   = 0x02
	TypeUNSUB = 0x03
	TypePUB   = 0x04
	TypeMSG   = 0x05
	TypeOK    = 0x06
	TypeERR   = 0x07
	TypePING  = 0x08
	TypePONG  = 0x09
	TypeDMSG  = 0x0A
)

// Frame is one native frame: header type, topic and payload (a view into the input).
type Frame struct {
	Type    byte
	Topic   string
	Payload []byte
}

func isClientType(t byte) bool { return t >= TypeAUTH && t <= TypeDMSG }

// AppendFrame appends a native frame. The caller keeps topic ≤ 255 bytes.
func AppendFrame(dst []byte, typ byte, topic string, payload ...[]byte) []byte {
	n := 0
	for _, p := range payload {
		n += len(p)
	}
	dst = append(dst, typ, byte(len(topic)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, topic...)
	for _, p := range payload {
		dst = append(dst, p...)
	}
	return dst
}

func readHeader(b []byte, maxPayload int) (byte, int, int, error) {
	t := b[0]
	if !isClientType(t) {
		return 0, 0, 0, badFrame("unknown frame type 0x%02x", t)
	}
	p := binary.BigEndian.Uint32(b[2:6])
	if uint64(p) > uint64(maxPayload) {
		return 0, 0, 0, fail("payload_too_large", "frame declares a %d-byte payload, more than %d", p, maxPayload)
	}
	return t, int(b[1]), int(p), nil
}

// DecodeFrame decodes exactly one whole frame (datagram rules: no missing or trailing bytes).
func DecodeFrame(b []byte) (Frame, error) {
	if len(b) < HeaderSize {
		return Frame{}, badFrame("frame is %d bytes, shorter than the header", len(b))
	}
	t, tl, pl, err := readHeader(b, MaxFramePayload)
	if err != nil {
		return Frame{}, err
	}
	if len(b) != HeaderSize+tl+pl {
		return Frame{}, badFrame("frame declares %d bytes but has %d", HeaderSize+tl+pl, len(b))
	}
	topic, err := checkUTF8(b[HeaderSize:HeaderSize+tl], "topic")
	if err != nil {
		return Frame{}, err
	}
	return Frame{Type: t, Topic: topic, Payload: b[HeaderSize+tl:]}, nil
}

func expect(f Frame, t byte) error {
	if f.Type != t {
		return badFrame("expected frame type 0x%02x, got 0x%02x", t, f.Type)
	}
	return nil
}

// Auth, Sub, Unsub, Pub, Msg, OK, Err, Dmsg are the typed native frames.
type (
	Auth struct{ Token string }
	Sub  struct {
		ID              uint32
		Flags           byte
		Tenant, Pattern string
	}
	Unsub struct {
		ID              uint32
		Tenant, Pattern string
	}
	Pub struct {
		Mode            byte
		Tenant, Channel string
		Data            []byte
	}
	Msg struct {
		Channel string
		Data    []byte
	}
	OK struct {
		ID    uint32
		Topic string
	}
	Err struct {
		Code   string
		ID     uint32
		Detail string
	}
	Dmsg struct {
		ID      uint32
		Channel string
		Data    []byte
	}
)

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// Encoders. They assume valid input (the client validated names and sizes before).
func EncodeAuth(a Auth) []byte { return AppendFrame(nil, TypeAUTH, "", []byte(a.Token)) }
func EncodeSub(s Sub) []byte {
	return AppendFrame(nil, TypeSUB, s.Pattern, u32(s.ID), []byte{s.Flags}, []byte(s.Tenant))
}
func EncodeUnsub(u Unsub) []byte {
	return AppendFrame(nil, TypeUNSUB, u.Pattern, u32(u.ID), []byte(u.Tenant))
}

// AppendPub appends a PUB frame without intermediate allocations (the publish hot path).
func AppendPub(dst []byte, mode byte, tenant, channel string, data []byte) []byte {
	dst = append(dst, TypePUB, byte(len(channel)))
	dst = binary.BigEndian.AppendUint32(dst, uint32(2+len(tenant)+len(data)))
	dst = append(dst, channel...)
	dst = append(dst, mode, byte(len(tenant)))
	dst = append(dst, tenant...)
	return append(dst, data...)
}
func EncodePub(p Pub) []byte { return AppendPub(nil, p.Mode, p.Tenant, p.Channel, p.Data) }
func EncodeMsg(m Msg) []byte { return AppendFrame(nil, TypeMSG, m.Channel, m.Data) }
func EncodeOK(o OK) []byte   { return AppendFrame(nil, TypeOK, o.Topic, u32(o.ID)) }
func EncodeErr(e Err) []byte { return AppendFrame(nil, TypeERR, e.Code, u32(e.ID), []byte(e.Detail)) }
func EncodePing(nonce []byte) []byte {
	return AppendFrame(nil, TypePING, "", nonce)
}
func EncodePong(nonce []byte) []byte {
	return AppendFrame(nil, TypePONG, "", nonce)
}
func EncodeDmsg(d Dmsg) []byte { return AppendFrame(nil, TypeDMSG, d.Channel, u32(d.ID), d.Data) }

func DecodeAuth(f Frame) (Auth, error) {
	if err := expect(f, TypeAUTH); err != nil {
		return Auth{}, err
	}
	if f.Topic != "" {
		return Auth{}, badFrame("AUTH topic must be empty")
	}
	if len(f.Payload) == 0 {
		return Auth{}, badFrame("AUTH token is empty")
	}
	tok, err := checkUTF8(f.Payload, "AUTH token")
	return Auth{Token: tok}, err
}

func DecodeSub(f Frame) (Sub, error) {
	if err := expect(f, TypeSUB); err != nil {
		return Sub{}, err
	}
	p := f.Payload
	if len(p) < 5 {
		return Sub{}, badFrame("SUB payload is %d bytes, shorter than 5", len(p))
	}
	id := binary.BigEndian.Uint32(p)
	if id == 0 {
		return Sub{}, badFrame("SUB subscription id must be nonzero")
	}
	tenant, err := checkUTF8(p[5:], "tenant")
	return Sub{ID: id, Flags: p[4], Tenant: tenant, Pattern: f.Topic}, err
}

func DecodeUnsub(f Frame) (Unsub, error) {
	if err := expect(f, TypeUNSUB); err != nil {
		return Unsub{}, err
	}
	p := f.Payload
	if len(p) < 4 {
		return Unsub{}, badFrame("UNSUB payload is %d bytes, shorter than 4", len(p))
	}
	id := binary.BigEndian.Uint32(p)
	if id == 0 {
		return Unsub{}, badFrame("UNSUB subscription id must be nonzero")
	}
	tenant, err := checkUTF8(p[4:], "tenant")
	return Unsub{ID: id, Tenant: tenant, Pattern: f.Topic}, err
}

func checkData(what string, d []byte) error {
	if len(d) > MaxPayload {
		return fail("payload_too_large", "%s data is %d bytes, more than %d", what, len(d), MaxPayload)
	}
	return nil
}

func DecodePub(f Frame) (Pub, error) {
	if err := expect(f, TypePUB); err != nil {
		return Pub{}, err
	}
	p := f.Payload
	if f.Topic == "" {
		return Pub{}, badFrame("PUB channel is empty")
	}
	if len(p) < 2 {
		return Pub{}, badFrame("PUB payload is %d bytes, shorter than 2", len(p))
	}
	if p[0] > 2 {
		return Pub{}, badFrame("unknown publish mode %d", p[0])
	}
	tl := int(p[1])
	if tl == 0 {
		return Pub{}, badFrame("PUB tenant is empty")
	}
	if 2+tl > len(p) {
		return Pub{}, badFrame("PUB tenant length %d overruns the payload", tl)
	}
	data := p[2+tl:]
	if err := checkData("PUB", data); err != nil {
		return Pub{}, err
	}
	tenant, err := checkUTF8(p[2:2+tl], "tenant")
	return Pub{Mode: p[0], Tenant: tenant, Channel: f.Topic, Data: data}, err
}

func DecodeMsg(f Frame) (Msg, error) {
	if err := expect(f, TypeMSG); err != nil {
		return Msg{}, err
	}
	if f.Topic == "" {
		return Msg{}, badFrame("MSG channel is empty")
	}
	if err := checkData("MSG", f.Payload); err != nil {
		return Msg{}, err
	}
	return Msg{Channel: f.Topic, Data: f.Payload}, nil
}

func DecodeOK(f Frame) (OK, error) {
	if err := expect(f, TypeOK); err != nil {
		return OK{}, err
	}
	if len(f.Payload) != 4 {
		return OK{}, badFrame("OK payload is %d bytes, not 4", len(f.Payload))
	}
	return OK{ID: binary.BigEndian.Uint32(f.Payload), Topic: f.Topic}, nil
}

func DecodeErr(f Frame) (Err, error) {
	if err := expect(f, TypeERR); err != nil {
		return Err{}, err
	}
	if f.Topic == "" {
		return Err{}, badFrame("ERR code is empty")
	}
	if len(f.Payload) < 4 {
		return Err{}, badFrame("ERR payload is %d bytes, shorter than 4", len(f.Payload))
	}
	detail, err := checkUTF8(f.Payload[4:], "ERR detail")
	return Err{Code: f.Topic, ID: binary.BigEndian.Uint32(f.Payload), Detail: detail}, err
}

func decodeLiveness(f Frame, t byte, what string) ([]byte, error) {
	if err := expect(f, t); err != nil {
		return nil, err
	}
	if f.Topic != "" {
		return nil, badFrame("%s topic must be empty", what)
	}
	if len(f.Payload) > MaxNonce {
		return nil, badFrame("%s nonce is %d bytes, more than %d", what, len(f.Payload), MaxNonce)
	}
	return f.Payload, nil
}

func DecodePing(f Frame) ([]byte, error) { return decodeLiveness(f, TypePING, "PING") }
func DecodePong(f Frame) ([]byte, error) { return decodeLiveness(f, TypePONG, "PONG") }

func DecodeDmsg(f Frame) (Dmsg, error) {
	if err := expect(f, TypeDMSG); err != nil {
		return Dmsg{}, err
	}
	p := f.Payload
	if f.Topic == "" {
		return Dmsg{}, badFrame("DMSG channel is empty")
	}
	if len(p) < 4 {
		return Dmsg{}, badFrame("DMSG payload is %d bytes, shorter than 4", len(p))
	}
	id := binary.BigEndian.Uint32(p)
	if id == 0 {
		return Dmsg{}, badFrame("DMSG subscription id must be nonzero")
	}
	if err := checkData("DMSG", p[4:]); err != nil {
		return Dmsg{}, err
	}
	return Dmsg{ID: id, Channel: f.Topic, Data: p[4:]}, nil
}

// Decoder is the streaming native-frame decoder (spec/protocol.md §4): it resumes at any byte
// boundary, rejects a bad header from its 6 bytes alone, and stays failed after an error.
type Decoder struct {
	MaxPayload int
	buf        []byte
	err        error
}

// Feed appends bytes and returns every complete frame; frames own their bytes. After an error
// it returns the frames decoded before it and the same error on every later call.
func (d *Decoder) Feed(chunk []byte) ([]Frame, error) {
	if d.err != nil {
		return nil, d.err
	}
	max := d.MaxPayload
	if max == 0 {
		max = MaxFramePayload
	}
	d.buf = append(d.buf, chunk...)
	var out []Frame
	off := 0
	for len(d.buf)-off >= HeaderSize {
		t, tl, pl, err := readHeader(d.buf[off:], max)
		if err != nil {
			d.err = err
			break
		}
		end := off + HeaderSize + tl + pl
		if end > len(d.buf) {
			break
		}
		topic, err := checkUTF8(d.buf[off+HeaderSize:off+HeaderSize+tl], "topic")
		if err != nil {
			d.err = err
			break
		}
		payload := make([]byte, pl)
		copy(payload, d.buf[off+HeaderSize+tl:end])
		out = append(out, Frame{Type: t, Topic: topic, Payload: payload})
		off = end
	}
	d.buf = append(d.buf[:0], d.buf[off:]...)
	if d.err != nil {
		d.buf = nil
	}
	return out, d.err
}
