import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Reads the messages the local SMTP sink stored (one .eml file each) in
 * MAIL_SINK_DIR, which `cargo xtask test` sets for the server and for us.
 */
export const MAIL_DIR = process.env.MAIL_SINK_DIR ?? '';

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const joined = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The decoded bodies of every MIME part, concatenated; headers kept. */
export function decodeMessage(raw: string): string {
  const parts = raw.split(/\r?\n--[^\r\n]+\r?\n/);
  return parts
    .map((part) => {
      const split = part.search(/\r?\n\r?\n/);
      if (split < 0) return part;
      const headers = part.slice(0, split);
      const body = part.slice(split).trim();
      if (/content-transfer-encoding:\s*base64/i.test(headers)) {
        return headers + '\n\n' + Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
      }
      if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
        return headers + '\n\n' + decodeQuotedPrintable(body);
      }
      return part;
    })
    .join('\n');
}

/** Waits for a message to `to` and returns its decoded text. */
export async function waitForMail(to: string, timeoutMs = 20_000, containing = ''): Promise<string> {
  if (!MAIL_DIR) throw new Error('MAIL_SINK_DIR is not set: run the suite with `cargo xtask test`');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (fs.existsSync(MAIL_DIR)) {
      for (const name of fs.readdirSync(MAIL_DIR).filter((n) => n.endsWith('.eml')).sort()) {
        const raw = fs.readFileSync(path.join(MAIL_DIR, name), 'utf8');
        const headerEnd = raw.search(/\r?\n\r?\n/);
        const headers = raw.slice(0, headerEnd);
        if (!headers.toLowerCase().includes(to.toLowerCase())) continue;
        const decoded = decodeMessage(raw);
        if (decoded.includes(containing)) return decoded;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
}

/** The invitation link in a decoded message. */
export function invitationLink(text: string): string {
  const match = text.match(/https?:\/\/[^\s"<>]+\/invite\/[A-Za-z0-9_-]{43}/);
  if (!match) throw new Error(`no invitation link in:\n${text}`);
  return match[0];
}
