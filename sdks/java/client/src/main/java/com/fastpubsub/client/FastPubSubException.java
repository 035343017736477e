package com.fastpubsub.client;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Every error the SDK raises: a stable {@link ErrorCode}, plus the edge's wire code for {@code SERVER}. */
public class FastPubSubException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final String serverCode;
    private final String detail;
    private final int status;

    public FastPubSubException(ErrorCode code, String message) {
        this(code, message, null, null, 0, null);
    }

    public FastPubSubException(ErrorCode code, String message, Throwable cause) {
        this(code, message, null, null, 0, cause);
    }

    public FastPubSubException(ErrorCode code, String message, String serverCode, String detail, int status, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.serverCode = serverCode;
        this.detail = detail;
        this.status = status;
    }

    public ErrorCode code() {
        return code;
    }

    /** For {@link ErrorCode#SERVER}: the wire code, e.g. {@code permission_denied}; otherwise null. */
    public String serverCode() {
        return serverCode;
    }

    /** Extra detail: the rest of an {@code ERR:} line, an HTTP body; may be null. */
    public String detail() {
        return detail;
    }

    /** The HTTP status when one is known (401, 403, a REST status), else 0. */
    public int status() {
        return status;
    }

    static FastPubSubException server(String serverCode, String detail) {
        String text = "edge error: " + serverCode + (detail == null ? "" : ": " + detail);
        return new FastPubSubException(ErrorCode.SERVER, text, serverCode, detail, 0, null);
    }

    static FastPubSubException badArgument(String message) {
        return new FastPubSubException(ErrorCode.BAD_ARGUMENT, message);
    }

    static FastPubSubException closed() {
        return new FastPubSubException(ErrorCode.CLOSED, "client closed");
    }

    /** Unwraps CompletionException/ExecutionException layers; wraps anything foreign. */
    public static FastPubSubException from(Throwable t) {
        Throwable cur = t;
        while ((cur instanceof CompletionException || cur instanceof ExecutionException) && cur.getCause() != null) {
            cur = cur.getCause();
        }
        if (cur instanceof FastPubSubException) return (FastPubSubException) cur;
        return new FastPubSubException(ErrorCode.CONNECT_FAILED, String.valueOf(cur.getMessage()), cur);
    }
}
