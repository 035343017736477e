// Helpers of the MQTT tests: real mosquitto clients (spawned, bounded in time) and mqtt.js
// connections to a relay's MQTT listener, with every wait bounded.
import { spawn } from 'node:child_process';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a mosquitto client to completion (killed after `ms`). */
export function runTool(cmd: string, args: string[], ms = 8000): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a mosquitto client in the background; `result` settles when it exits (killed after `ms`). */
export function startTool(cmd: string, args: string[], ms = 8000): { result: Promise<Spawned>; kill(): void } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  const result = new Promise<Spawned>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { result, kill: () => child.kill('SIGKILL') };
}

/** Connects; `got` records messages from the first packet on (a resumed session's come with the CONNACK). */
export function connectMqtt(port: number, opts: IClientOptions, got?: Received[]): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect({ host: '127.0.0.1', port, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    if (got !== undefined) recordInto(client, got);
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
}

/** Records every message of a client. */
export function record(client: MqttClient): Received[] {
  return recordInto(client, []);
}

function recordInto(client: MqttClient, got: Received[]): Received[] {
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, qos: packet.qos }));
  return got;
}

/** The SUBACK codes of one SUBSCRIBE (mqtt.js rejects when any is a refusal; the codes are what we test). */
export async function subackCodes(client: MqttClient, topics: string[], qos: 0 | 1): Promise<number[]> {
  try {
    return (await client.subscribeAsync(topics, { qos })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted === undefined) throw err;
    return granted;
  }
}

export async function waitUntil(what: string, ms: number, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
