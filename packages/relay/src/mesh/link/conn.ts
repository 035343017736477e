// What a mesh link runs over: the part of a QUIC connection (and stream) that MeshLink and
// MeshTransport use. A QUIC connection from @fastpubsub/quic is one; the WebSocket-on-TLS
// fallback of edge agents (ws-conn.ts) is the other.
import type { X509Certificate } from 'node:crypto';

export interface MeshStream {
  readonly direction: 'bidi' | 'uni';
  write(chunk: Uint8Array): boolean;
  pause(): void;
  resume(): void;
  stopSending(code: number): void;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'drain' | 'close', listener: () => void): this;
  off(event: 'data', listener: (chunk: Buffer) => void): this;
}

export interface MeshCloseInfo {
  how: string;
  code: number | undefined;
  reason: string;
}

export interface MeshConnection {
  readonly peerX509: X509Certificate | undefined;
  readonly remoteAddress: { host: string; port: number };
  openBidiStream(): MeshStream;
  openUniStream(): MeshStream;
  sendDatagram(data: Uint8Array): void;
  close(code: number, reason: string): void;
  stats(): { rttMs: number; udpDatagramsReceived: number } | undefined;
  on(event: 'stream', listener: (stream: MeshStream) => void): this;
  on(event: 'datagram', listener: (data: Buffer) => void): this;
  on(event: 'close', listener: (info: MeshCloseInfo) => void): this;
  once(event: 'stream', listener: (stream: MeshStream) => void): this;
  once(event: 'close', listener: (info: MeshCloseInfo) => void): this;
  off(event: 'stream', listener: (stream: MeshStream) => void): this;
  off(event: 'close', listener: (info: MeshCloseInfo) => void): this;
}
