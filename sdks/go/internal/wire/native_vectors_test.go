package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
)

// nativeCodec decodes a typed frame into the vector's JSON field shape and encodes it back.
type nativeCodec struct {
	decode func(Frame) (map[string]any, error)
	encode func(map[string]any) []byte
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func num(v any) uint32 { return uint32(v.(float64)) }

func str(v any) string { return v.(string) }

func hexField(v any) []byte {
	b, _ := hex.DecodeString(v.(string))
	return b
}

var nativeCodecs = map[string]nativeCodec{
	"AUTH": {func(f Frame) (map[string]any, error) {
		a, err := DecodeAuth(f)
		return map[string]any{"token": a.Token}, err
	}, func(m map[string]any) []byte { return EncodeAuth(Auth{Token: str(m["token"])}) }},
	"SUB": {func(f Frame) (map[string]any, error) {
		s, err := DecodeSub(f)
		return map[string]any{"id": float64(s.ID), "flags": float64(s.Flags), "tenant": s.Tenant, "pattern": s.Pattern}, err
	}, func(m map[string]any) []byte {
		return EncodeSub(Sub{ID: num(m["id"]), Flags: byte(num(m["flags"])), Tenant: str(m["tenant"]), Pattern: str(m["pattern"])})
	}},
	"UNSUB": {func(f Frame) (map[string]any, error) {
		s, err := DecodeUnsub(f)
		return map[string]any{"id": float64(s.ID), "tenant": s.Tenant, "pattern": s.Pattern}, err
	}, func(m map[string]any) []byte {
		return EncodeUnsub(Unsub{ID: num(m["id"]), Tenant: str(m["tenant"]), Pattern: str(m["pattern"])})
	}},
	"PUB": {func(f Frame) (map[string]any, error) {
		p, err := DecodePub(f)
		return map[string]any{"mode": float64(p.Mode), "tenant": p.Tenant, "channel": p.Channel, "data": hx(p.Data)}, err
	}, func(m map[string]any) []byte {
		return EncodePub(Pub{Mode: byte(num(m["mode"])), Tenant: str(m["tenant"]), Channel: str(m["channel"]), Data: hexField(m["data"])})
	}},
	"MSG": {func(f Frame) (map[string]any, error) {
		p, err := DecodeMsg(f)
		return map[string]any{"channel": p.Channel, "data": hx(p.Data)}, err
	}, func(m map[string]any) []byte {
		return EncodeMsg(Msg{Channel: str(m["channel"]), Data: hexField(m["data"])})
	}},
	"OK": {func(f Frame) (map[string]any, error) {
		o, err := DecodeOK(f)
		return map[string]any{"id": float64(o.ID), "topic": o.Topic}, err
	}, func(m map[string]any) []byte { return EncodeOK(OK{ID: num(m["id"]), Topic: str(m["topic"])}) }},
	"ERR": {func(f Frame) (map[string]any, error) {
		e, err := DecodeErr(f)
		return map[string]any{"code": e.Code, "id": float64(e.ID), "detail": e.Detail}, err
	}, func(m map[string]any) []byte {
		return EncodeErr(Err{Code: str(m["code"]), ID: num(m["id"]), Detail: str(m["detail"])})
	}},
	"PING": {func(f Frame) (map[string]any, error) {
		n, err := DecodePing(f)
		return map[string]any{"nonce": hx(n)}, err
	}, func(m map[string]any) []byte { return EncodePing(hexField(m["nonce"])) }},
	"PONG": {func(f Frame) (map[string]any, error) {
		n, err := DecodePong(f)
		return map[string]any{"nonce": hx(n)}, err
	}, func(m map[string]any) []byte { return EncodePong(hexField(m["nonce"])) }},
	"DMSG": {func(f Frame) (map[string]any, error) {
		d, err := DecodeDmsg(f)
		return map[string]any{"id": float64(d.ID), "channel": d.Channel, "data": hx(d.Data)}, err
	}, func(m map[string]any) []byte {
		return EncodeDmsg(Dmsg{ID: num(m["id"]), Channel: str(m["channel"]), Data: hexField(m["data"])})
	}},
	"frame": {func(f Frame) (map[string]any, error) {
		return map[string]any{"type": float64(f.Type), "topic": f.Topic, "payload": hx(f.Payload)}, nil
	}, func(m map[string]any) []byte {
		return AppendFrame(nil, byte(num(m["type"])), str(m["topic"]), hexField(m["payload"]))
	}},
}

func TestNativeFrameVectors(t *testing.T) {
	for _, v := range loadVectors(t, "native-frames.json") {
		codec, ok := nativeCodecs[v.Kind]
		if !ok {
			t.Fatalf("%s: unknown kind %s", v.Name, v.Kind)
		}
		in := v.bytes(t)
		var got map[string]any
		f, err := DecodeFrame(in)
		if err == nil {
			got, err = codec.decode(f)
		}
		if expectError(t, v, err) {
			continue
		}
		var want map[string]any
		if err := json.Unmarshal(v.Fields, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decoded %v, want %v", v.Name, got, want)
		}
		if v.wantEncode() {
			if out := codec.encode(want); !bytes.Equal(out, in) {
				t.Errorf("%s: encode gave %x, want %x", v.Name, out, in)
			}
		}
	}
}
