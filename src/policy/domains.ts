// Domain names as policy keys: lower case, no trailing dot, port kept (so a
// policy can name one of several instances on one host, as in tests).
import { domainToASCII } from "node:url";
import { z } from "zod";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function normalizeDomain(input: string): string | null {
  let d = input.trim().toLowerCase().replace(/\.$/, "");
  if (d.startsWith("http://") || d.startsWith("https://")) {
    try {
      d = new URL(d).host;
    } catch {
      return null;
    }
  }
  if (d.startsWith("*.")) d = d.slice(2);
  if (!/^[^\s/?#@\\]+$/.test(d)) return null;
  const [unicodeHost, port, extra] = d.split(":");
  if (
    extra !== undefined ||
    !unicodeHost ||
    (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
  )
    return null;
  // Internationalized names are kept in their ASCII (punycode) form, as hosts appear in URLs.
  const host = domainToASCII(unicodeHost);
  if (!host) return null;
  d = port === undefined ? host : `${host}:${port}`;
  const labels = host.split(".");
  if (labels.length < 1 || !labels.every((l) => LABEL.test(l))) return null;
  return d;
}

export const domainSchema = z.string().transform((v, ctx) => {
  const d = normalizeDomain(v);
  if (d === null) {
    ctx.addIssue({ code: "custom", message: `"${v}" is not a domain name` });
    return z.NEVER;
  }
  return d;
});

/**
 * The keys a host is looked up under: itself, then each parent domain, so a
 * block of `example.com` covers `social.example.com` (and `example.com:8443`).
 */
export function domainKeys(host: string): string[] {
  const h = host.toLowerCase();
  const [name = "", port] = h.split(":");
  const labels = name.split(".");
  const keys: string[] = port ? [h] : [];
  for (let i = 0; i < labels.length; i++) keys.push(labels.slice(i).join("."));
  return keys;
}

/**
 * Why `domain` may not be blocked by the instance at `origin`: it is the
 * instance's own host (with the port it listens on). Null when it may.
 */
export function ownHostProblem(domain: string, origin: string): string | null {
  const own = new URL(origin);
  const port = own.port || (own.protocol === "https:" ? "443" : "80");
  if (domain !== own.host && domain !== `${own.hostname}:${port}`) return null;
  return `${domain} is this instance's own host: it cannot be blocked`;
}

/** Mastodon's obfuscation for the public list: the middle half of the name becomes '*', dots stay. */
export function obfuscateDomain(domain: string): string {
  const visible = Math.floor(domain.length / 4);
  return [...domain].map((ch, i) => (i > visible && i < domain.length - visible && ch !== "." ? "*" : ch)).join("");
}

/**
 * Parses a one-domain-per-line list (blank lines and `#` comments skipped);
 * returns the domains and the lines that are not domains.
 */
export function parseDomainList(text: string): { domains: string[]; invalid: string[] } {
  const domains = new Set<string>();
  const invalid: string[] = [];
  for (const raw of text.split(/[\r\n,]+/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const d = normalizeDomain(line);
    if (d) domains.add(d);
    else invalid.push(line);
  }
  return { domains: [...domains].sort(), invalid };
}

/** Whether `host` is covered by a list of allowed domains (an empty list allows every host). */
export function allowedBy(list: string[], host: string): boolean {
  if (list.length === 0) return true;
  const keys = domainKeys(host);
  return list.some((d) => keys.includes(d));
}
