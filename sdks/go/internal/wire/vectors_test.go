package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The normative vectors of spec/vectors (spec/protocol.md §7), read from the repository.
type vector struct {
	Name        string          `json:"name"`
	Kind        string          `json:"kind"`
	Hex         *string         `json:"hex"`
	AppendZeros int             `json:"append_zeros"`
	Text        *string         `json:"text"`
	Input       *string         `json:"input"`
	Fields      json.RawMessage `json:"fields"`
	Frames      []frameFields   `json:"frames"`
	MaxPayload  int             `json:"max_payload"`
	Error       string          `json:"error"`
	Encode      *bool           `json:"encode"`
}

type frameFields struct {
	Type    byte   `json:"type"`
	Topic   string `json:"topic"`
	Payload string `json:"payload"`
}

func loadVectors(t *testing.T, file string) []vector {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "spec", "vectors", file))
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var doc struct {
		Schema  string   `json:"schema"`
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	if doc.Schema != "fastpubsub-vectors/1" || len(doc.Vectors) == 0 {
		t.Fatalf("%s: unexpected schema %q or no vectors", file, doc.Schema)
	}
	return doc.Vectors
}

func (v vector) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := hex.DecodeString(*v.Hex)
	if err != nil {
		t.Fatalf("%s: bad hex: %v", v.Name, err)
	}
	return append(b, make([]byte, v.AppendZeros)...)
}

func (v vector) wantEncode() bool { return v.Encode == nil || *v.Encode }

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// expectError checks that a vector with `error` failed with exactly that code.
func expectError(t *testing.T, v vector, err error) bool {
	t.Helper()
	if v.Error == "" {
		if err != nil {
			t.Errorf("%s: unexpected error %v", v.Name, err)
			return true
		}
		return false
	}
	if CodeOf(err) != v.Error {
		t.Errorf("%s: want error %s, got %v", v.Name, v.Error, err)
	}
	return true
}

func TestPublishVectors(t *testing.T) {
	for _, v := range loadVectors(t, "publish.json") {
		in := v.bytes(t)
		p, err := DecodePublish(in)
		if expectError(t, v, err) {
			continue
		}
		var f struct {
			Version int    `json:"version"`
			Mode    byte   `json:"mode"`
			Tenant  string `json:"tenant"`
			Channel string `json:"channel"`
			Payload string `json:"payload"`
		}
		if err := json.Unmarshal(v.Fields, &f); err != nil {
			t.Fatal(err)
		}
		if p.Version != f.Version || p.Mode != f.Mode || p.Tenant != f.Tenant || p.Channel != f.Channel || hex.EncodeToString(p.Payload) != f.Payload {
			t.Errorf("%s: decoded %+v, want %+v", v.Name, p, f)
		}
		if v.wantEncode() {
			out, err := EncodePublish(f.Tenant, f.Channel, unhex(t, f.Payload), f.Mode, f.Version == 2)
			if err != nil || !bytes.Equal(out, in) {
				t.Errorf("%s: encode gave %x (%v), want %x", v.Name, out, err, in)
			}
		}
	}
}

func TestDeliveryVectors(t *testing.T) {
	for _, v := range loadVectors(t, "delivery.json") {
		in := v.bytes(t)
		d, err := DecodeDelivery(in)
		if expectError(t, v, err) {
			continue
		}
		var f struct {
			Tenant   string   `json:"tenant"`
			Channel  string   `json:"channel"`
			Payload  string   `json:"payload"`
			Patterns []string `json:"patterns"`
		}
		if err := json.Unmarshal(v.Fields, &f); err != nil {
			t.Fatal(err)
		}
		if d.Tenant != f.Tenant || d.Channel != f.Channel || hex.EncodeToString(d.Payload) != f.Payload || !reflect.DeepEqual(d.Patterns, f.Patterns) {
			t.Errorf("%s: decoded %+v, want %+v", v.Name, d, f)
		}
		if v.wantEncode() {
			out := EncodeDelivery(Delivery{Tenant: f.Tenant, Channel: f.Channel, Payload: unhex(t, f.Payload), Patterns: f.Patterns})
			if !bytes.Equal(out, in) {
				t.Errorf("%s: encode gave %x, want %x", v.Name, out, in)
			}
		}
	}
}

func TestTextVectors(t *testing.T) {
	for _, v := range loadVectors(t, "text.json") {
		want := map[string]string{}
		wantLatest := false
		if v.Fields != nil {
			var raw map[string]any
			if err := json.Unmarshal(v.Fields, &raw); err != nil {
				t.Fatal(err)
			}
			for k, x := range raw {
				if k == "latest" {
					wantLatest, _ = x.(bool)
					continue
				}
				want[k] = fmt.Sprint(x)
			}
		}
		text := *v.Text
		switch v.Kind {
		case "client-text":
			c, err := ParseClientText(text)
			if expectError(t, v, err) {
				continue
			}
			got := map[string]string{"kind": c.Kind}
			if c.Kind != "PING" {
				got["tenant"], got["pattern"] = c.Tenant, c.Pattern
			}
			if !reflect.DeepEqual(got, want) || c.Latest != wantLatest {
				t.Errorf("%s: got %v (latest %v), want %v (latest %v)", v.Name, got, c.Latest, want, wantLatest)
			}
			if v.wantEncode() && c.Kind != "PING" {
				enc := FormatSub(c.Tenant, c.Pattern)
				if c.Latest {
					enc = FormatSubLatest(c.Tenant, c.Pattern)
				}
				if c.Kind == "UNSUB" {
					enc = FormatUnsub(c.Tenant, c.Pattern)
				}
				if enc != text {
					t.Errorf("%s: format gave %q", v.Name, enc)
				}
			}
		case "server-text":
			s := ParseServerText(text)
			got := map[string]string{"kind": s.Kind}
			var enc string
			switch s.Kind {
			case "OK":
				got["op"], got["tenant"], got["pattern"] = s.Op, s.Tenant, s.Pattern
				enc = FormatOK(s.Op, s.Tenant, s.Pattern)
			case "ERR":
				got["code"] = s.Code
				if s.HasDetail {
					got["detail"] = s.Detail
				}
				enc = FormatErr(s.Code, s.Detail, s.HasDetail)
			case "unknown":
				got["text"] = s.Text
			default:
				enc = s.Kind
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %v, want %v", v.Name, got, want)
			}
			if v.wantEncode() && enc != text {
				t.Errorf("%s: format gave %q", v.Name, enc)
			}
		default:
			t.Errorf("%s: unknown kind %s", v.Name, v.Kind)
		}
	}
}

func TestNameVectors(t *testing.T) {
	check := map[string]func(string) error{"tenant": ValidateTenant, "channel": ValidateChannel, "pattern": ValidatePattern}
	for _, v := range loadVectors(t, "names.json") {
		fn, ok := check[v.Kind]
		if !ok {
			t.Fatalf("%s: unknown kind %s", v.Name, v.Kind)
		}
		expectError(t, v, fn(*v.Input))
	}
}

func TestNativeStreamVectors(t *testing.T) {
	for _, v := range loadVectors(t, "native-stream.json") {
		in := v.bytes(t)
		// Whole input at once, then one byte at a time: the same frames and error (§4).
		for _, step := range []int{len(in) + 1, 1} {
			d := Decoder{MaxPayload: v.MaxPayload}
			var frames []Frame
			var err error
			for off := 0; off < len(in) && err == nil; off += step {
				var got []Frame
				got, err = d.Feed(in[off:min(off+step, len(in))])
				frames = append(frames, got...)
			}
			if v.Error == "" && err != nil || v.Error != "" && CodeOf(err) != v.Error {
				t.Errorf("%s (step %d): error %v, want %q", v.Name, step, err, v.Error)
			}
			if len(frames) != len(v.Frames) {
				t.Errorf("%s (step %d): %d frames, want %d", v.Name, step, len(frames), len(v.Frames))
				continue
			}
			for i, f := range frames {
				w := v.Frames[i]
				if f.Type != w.Type || f.Topic != w.Topic || hex.EncodeToString(f.Payload) != w.Payload {
					t.Errorf("%s (step %d): frame %d = %+v, want %+v", v.Name, step, i, f, w)
				}
			}
		}
	}
}
