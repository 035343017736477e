package com.fastpubsub.client;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Contract v0.1 wire formats (§3 binary frames, §4 text frames, §5 names). Pure functions, no I/O:
 * the unit tests run them against spec/vectors/*.json.
 */
public final class Wire {
    public static final int MAX_PAYLOAD = 65_535;
    public static final int MAX_TENANT = 128;
    public static final int MAX_CHANNEL = 256;
    public static final int MAX_PATTERN = 256;

    public static final String PING = "PING";
    public static final String PONG = "PONG";
    public static final String RECONNECT = "RECONNECT";

    private static final byte DELIVERY_TAG = 0x01;
    private static final byte PUBLISH_V2_TAG = 0x02;

    private Wire() {}

    /** A wire-level rejection; {@code code} is the contract's ERR code (bad_frame, invalid_name, …). */
    public static final class WireException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String code;

        WireException(String code, String message) {
            super(message);
            this.code = code;
        }

        public String code() {
            return code;
        }
    }

    /** A name check that throws on invalid input (for tables of validators). */
    @FunctionalInterface
    public interface WireCheck {
        void check(String s) throws WireException;
    }

    /** A decoded publish frame (the relay's view; the SDK only encodes these). */
    public record Publish(int version, int mode, String tenant, String channel, byte[] payload) {}

    /** A decoded delivery frame. */
    public record Delivery(String tenant, String channel, byte[] payload, List<String> patterns) {}

    /** A server text frame: kind is OK, PONG, ERR, RECONNECT or unknown. */
    public record ServerText(String kind, String op, String tenant, String pattern, String code, String detail, String text) {}

    // ---- names (§5) -----------------------------------------------------------------------

    private static boolean nameChar(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-' || c == '~' || c == '@' || c == '.';
    }

    private static boolean wildcard(char c) {
        return c == '*' || c == '#' || c == '>';
    }

    private static String quote(String s) {
        return '"' + (s.length() > 80 ? s.substring(0, 80) + "…" : s) + '"';
    }

    private static void checkEmpty(String code, String what, String s) throws WireException {
        if (s.isEmpty()) throw new WireException(code, "invalid " + what + " " + quote(s) + ": empty");
    }

    /** Called after the per-char checks: names are ASCII then, so the UTF-8 length is the char count. */
    private static void checkLength(String code, String what, String s, int max) throws WireException {
        if (s.length() > max) throw new WireException(code, "invalid " + what + " " + quote(s) + ": " + s.length() + " bytes, more than " + max);
    }

    private static void checkTokens(String code, String what, String s) throws WireException {
        if (s.charAt(0) == '.' || s.charAt(s.length() - 1) == '.' || s.contains("..")) {
            throw new WireException(code, "invalid " + what + " " + quote(s) + ": empty token");
        }
    }

    public static void validateTenant(String s) throws WireException {
        checkEmpty("invalid_name", "tenant", s);
        for (int i = 0; i < s.length(); i++) {
            if (!nameChar(s.charAt(i))) throw new WireException("invalid_name", "invalid tenant " + quote(s) + ": character not allowed (A-Za-z0-9_-~@.)");
        }
        checkLength("invalid_name", "tenant", s, MAX_TENANT);
    }

    public static void validateChannel(String s) throws WireException {
        checkEmpty("invalid_name", "channel", s);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (wildcard(c)) throw new WireException("invalid_name", "invalid channel " + quote(s) + ": wildcard '" + c + "' is not allowed in a publish channel");
            if (!nameChar(c)) throw new WireException("invalid_name", "invalid channel " + quote(s) + ": character not allowed (A-Za-z0-9_-~@.)");
        }
        checkTokens("invalid_name", "channel", s);
        checkLength("invalid_name", "channel", s, MAX_CHANNEL);
    }

    /** Tokens {@code abc}, {@code *}, {@code p*} anywhere; {@code #}, {@code >} (also {@code p#}, {@code p>}) only last. */
    public static void validatePattern(String s) throws WireException {
        checkEmpty("invalid_pattern", "pattern", s);
        checkTokens("invalid_pattern", "pattern", s);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.') continue;
            if (wildcard(c)) {
                boolean last = i + 1 == s.length();
                if (!last && s.charAt(i + 1) != '.') throw new WireException("invalid_pattern", "invalid pattern " + quote(s) + ": a wildcard must end its token");
                if (c != '*' && !last) throw new WireException("invalid_pattern", "invalid pattern " + quote(s) + ": '" + c + "' is allowed only in the last token");
                continue;
            }
            if (!nameChar(c)) throw new WireException("invalid_pattern", "invalid pattern " + quote(s) + ": character not allowed");
        }
        checkLength("invalid_pattern", "pattern", s, MAX_PATTERN);
    }

    // ---- binary frames (§3) ----------------------------------------------------------------

    /** Publish v1 when {@code mode == 0} (broadcast, as the reference SDK sends it), else v2. */
    public static byte[] encodePublish(String tenant, String channel, byte[] payload, int mode) throws WireException {
        validateTenant(tenant);
        validateChannel(channel);
        if (mode < 0 || mode > 2) throw new WireException("bad_frame", "unknown publish mode " + mode);
        if (payload.length > MAX_PAYLOAD) throw new WireException("payload_too_large", "payload is " + payload.length + " bytes, more than " + MAX_PAYLOAD);
        byte[] t = tenant.getBytes(StandardCharsets.US_ASCII);
        byte[] c = channel.getBytes(StandardCharsets.US_ASCII);
        int head = mode == 0 ? 0 : 2;
        ByteBuffer buf = ByteBuffer.allocate(head + 4 + t.length + c.length + payload.length);
        if (mode != 0) buf.put(PUBLISH_V2_TAG).put((byte) mode);
        buf.putShort((short) t.length).put(t).putShort((short) c.length).put(c).put(payload);
        return buf.array();
    }

    /** The relay's parser; the SDK uses it only in tests, to check what it encodes. */
    public static Publish decodePublish(byte[] msg) throws WireException {
        if (msg.length == 0) throw new WireException("bad_frame", "publish is empty");
        int version;
        int mode = 0;
        int off;
        if (msg[0] == 0x00) {
            version = 1;
            off = 0;
        } else if (msg[0] == PUBLISH_V2_TAG) {
            version = 2;
            if (msg.length < 2) throw new WireException("bad_frame", "publish v2 truncated before the mode");
            mode = msg[1] & 0xff;
            if (mode > 2) throw new WireException("bad_frame", "unknown publish mode " + mode);
            off = 2;
        } else {
            throw new WireException("bad_frame", String.format("publish starts with 0x%02x", msg[0] & 0xff));
        }
        Reader r = new Reader(msg, off);
        String tenant = r.str16("tenant");
        String channel = r.str16("channel");
        validateTenant(tenant);
        validateChannel(channel);
        int payloadLen = msg.length - r.off;
        if (payloadLen > MAX_PAYLOAD) throw new WireException("payload_too_large", "payload is " + payloadLen + " bytes");
        byte[] payload = new byte[payloadLen];
        System.arraycopy(msg, r.off, payload, 0, payloadLen);
        return new Publish(version, mode, tenant, channel, payload);
    }

    /** {@code 0x01 | str16 tenant | str16 channel | u32 len | payload | u16 count | count × str16 pattern}. */
    public static Delivery decodeDelivery(byte[] msg) throws WireException {
        if (msg.length == 0 || msg[0] != DELIVERY_TAG) throw new WireException("bad_frame", "delivery must start with 0x01");
        Reader r = new Reader(msg, 1);
        String tenant = r.str16("tenant");
        String channel = r.str16("channel");
        long len = r.u32("payload length");
        if (len > msg.length - r.off) throw new WireException("bad_frame", "delivery payload length overruns the frame");
        byte[] payload = new byte[(int) len];
        System.arraycopy(msg, r.off, payload, 0, (int) len);
        r.off += (int) len;
        int count = r.u16("pattern count");
        if (count == 0) throw new WireException("bad_frame", "delivery lists no pattern");
        List<String> patterns = new ArrayList<>(count);
        for (int i = 0; i < count; i++) patterns.add(r.str16("pattern"));
        if (r.off != msg.length) throw new WireException("bad_frame", "bytes after the last pattern");
        return new Delivery(tenant, channel, payload, List.copyOf(patterns));
    }

    /** Encodes a delivery frame (tests and tools; the relay sends these). */
    public static byte[] encodeDelivery(String tenant, String channel, byte[] payload, List<String> patterns) {
        byte[] t = tenant.getBytes(StandardCharsets.UTF_8);
        byte[] c = channel.getBytes(StandardCharsets.UTF_8);
        List<byte[]> ps = new ArrayList<>();
        int size = 1 + 2 + t.length + 2 + c.length + 4 + payload.length + 2;
        for (String p : patterns) {
            byte[] b = p.getBytes(StandardCharsets.UTF_8);
            ps.add(b);
            size += 2 + b.length;
        }
        ByteBuffer buf = ByteBuffer.allocate(size);
        buf.put(DELIVERY_TAG).putShort((short) t.length).put(t).putShort((short) c.length).put(c);
        buf.putInt(payload.length).put(payload).putShort((short) ps.size());
        for (byte[] b : ps) buf.putShort((short) b.length).put(b);
        return buf.array();
    }

    private static final class Reader {
        final byte[] buf;
        int off;

        Reader(byte[] buf, int off) {
            this.buf = buf;
            this.off = off;
        }

        int u16(String what) throws WireException {
            if (off + 2 > buf.length) throw new WireException("bad_frame", "truncated before the " + what);
            int v = ((buf[off] & 0xff) << 8) | (buf[off + 1] & 0xff);
            off += 2;
            return v;
        }

        long u32(String what) throws WireException {
            if (off + 4 > buf.length) throw new WireException("bad_frame", "truncated before the " + what);
            long v = ByteBuffer.wrap(buf, off, 4).getInt() & 0xffffffffL;
            off += 4;
            return v;
        }

        String str16(String what) throws WireException {
            int len = u16(what + " length");
            if (len == 0) throw new WireException("bad_frame", what + " is empty");
            if (off + len > buf.length) throw new WireException("bad_frame", what + " length " + len + " overruns the frame");
            String s = strictUtf8(buf, off, len, what);
            off += len;
            return s;
        }
    }

    private static String strictUtf8(byte[] buf, int off, int len, String what) throws WireException {
        boolean ascii = true;
        for (int i = off; i < off + len && ascii; i++) ascii = buf[i] >= 0;
        // Names are ASCII in practice: skip the decoder (and its allocations) then.
        if (ascii) return new String(buf, off, len, StandardCharsets.ISO_8859_1);
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            CharBuffer cb = d.decode(ByteBuffer.wrap(buf, off, len));
            return cb.toString();
        } catch (CharacterCodingException e) {
            throw new WireException("bad_frame", what + " is not UTF-8");
        }
    }

    // ---- text frames (§4) ------------------------------------------------------------------

    public static String formatSub(String tenant, String pattern) {
        return "SUB:" + tenant + ":" + pattern;
    }

    /** {@code SUB:{tenant}:{pattern}:L}: a subscription in latest-mode delivery. */
    public static String formatSubLatest(String tenant, String pattern) {
        return formatSub(tenant, pattern) + ":L";
    }

    public static String formatUnsub(String tenant, String pattern) {
        return "UNSUB:" + tenant + ":" + pattern;
    }

    /** The SDK's parser: OK tenant and pattern are trimmed like the reference client; other text is "unknown". */
    public static ServerText parseServerText(String text) {
        if (text.equals(PONG)) return new ServerText("PONG", null, null, null, null, null, text);
        if (text.equals(RECONNECT)) return new ServerText("RECONNECT", null, null, null, null, null, text);
        if (text.startsWith("ERR:")) {
            String rest = text.substring(4);
            int i = rest.indexOf(':');
            String code = i < 0 ? rest : rest.substring(0, i);
            String detail = i < 0 ? null : rest.substring(i + 1);
            return new ServerText("ERR", null, null, null, code, detail, text);
        }
        for (String op : new String[] {"SUB", "UNSUB"}) {
            String prefix = "OK:" + op + ":";
            if (!text.startsWith(prefix)) continue;
            String rest = text.substring(prefix.length());
            int i = rest.indexOf(':');
            if (i < 0) break;
            return new ServerText("OK", op, rest.substring(0, i).trim(), rest.substring(i + 1).trim(), null, null, text);
        }
        return new ServerText("unknown", null, null, null, null, null, text);
    }
}
