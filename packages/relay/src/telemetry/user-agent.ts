// A coarse, bounded classification of a connection's User-Agent header, for the bot signals:
// the label set is closed (AGENT_CLASSES), so it can be a metric label.

export const AGENT_CLASSES = ['browser', 'sdk', 'crawler', 'scripted', 'none', 'other'] as const;
export type AgentClass = (typeof AGENT_CLASSES)[number];

// Crawlers and scanners announce themselves; checked before "browser" because many embed Mozilla.
const CRAWLER = /bot\b|crawler|spider|slurp|scanner|masscan|zgrab|nmap|nuclei|headless/i;
// HTTP libraries and command-line tools: a person is rarely behind these.
const SCRIPTED = /^(curl|wget|python|go-http-client|java\/|okhttp|libwww|httpie|axios|node-fetch|undici|ruby|php|perl|powershell)/i;
const SDK = /^fastpubsub|^node\b|^ws\b/i;
const BROWSER = /^mozilla\/5\.0 .*(gecko|applewebkit|chrome|safari|firefox)/i;

export function classifyUserAgent(userAgent: string | undefined): AgentClass {
  const ua = (userAgent ?? '').trim();
  if (ua === '') return 'none';
  if (CRAWLER.test(ua)) return 'crawler';
  if (SDK.test(ua)) return 'sdk';
  if (SCRIPTED.test(ua)) return 'scripted';
  if (BROWSER.test(ua)) return 'browser';
  return 'other';
}
