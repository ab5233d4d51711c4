// Outgoing mail through the instance's own SMTP server (SMTP_URL): email
// digests now, password resets later. No third-party service, and nothing
// here logs: callers log what they sent by user id and count, never an
// address or a message's content.
import nodemailer from "nodemailer";
import type { Config } from "../config.ts";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra header fields, such as List-Unsubscribe. */
  headers?: Record<string, string>;
}

export interface Mailer {
  /** The From address: SMTP_FROM, or noreply@ the instance's host. */
  readonly from: string;
  /** Hands the message to the SMTP server; rejects with nodemailer's error (its `code` says what failed). */
  send(mail: Mail): Promise<void>;
}

type MailConfig = Pick<Config, "smtpUrl" | "smtpFrom" | "origin">;

/**
 * A mailer for SMTP_URL, or null when the instance sends no mail. smtps://
 * speaks TLS from the start (port 465 by default); smtp:// upgrades with
 * STARTTLS whenever the server offers it (port 587 by default), as
 * Mastodon's "auto" setting does. Every stage has a timeout, so a silent
 * server cannot hold a background job.
 */
export function createMailer(config: MailConfig): Mailer | null {
  if (!config.smtpUrl) return null;
  const url = new URL(config.smtpUrl);
  const secure = url.protocol === "smtps:";
  const transport = nodemailer.createTransport({
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    dnsTimeout: 10_000,
    // Its own logging would print addresses and message text.
    logger: false,
    debug: false,
    // Messages are built from our strings only: never a file or URL read into one.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const from = config.smtpFrom ?? `noreply@${new URL(config.origin).hostname}`;
  return {
    from,
    async send(mail) {
      await transport.sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: mail.headers,
      });
    },
  };
}

const mailers = new WeakMap<MailConfig, Mailer | null>();

/** One mailer per configuration, made on first use. */
export function mailerFor(config: MailConfig): Mailer | null {
  if (!mailers.has(config)) mailers.set(config, createMailer(config));
  return mailers.get(config) ?? null;
}

/** nodemailer's codes for failures of the server or the connection, not of one message or recipient. */
const SERVER_FAILURES = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "EAUTH", "ETLS", "EPROTOCOL"]);

/** Whether a send failed because the mail server is unreachable or refuses us (every other send would too). */
export function serverFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SERVER_FAILURES.has(code);
}

/** A failure's nodemailer code and SMTP reply code, fit to log (the message may name the recipient). */
export function failureSummary(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const parts = [typeof code === "string" ? code : "error"];
  if (typeof responseCode === "number") parts.push(String(responseCode));
  return parts.join(" ");
}
