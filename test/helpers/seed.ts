// Seeding and inspection helpers for the HTTP suites: users, communities and
// threads written straight through the services (as the CLI does), row counts,
// and small HTML readers. Everything a test asserts on still goes over HTTP.
import { request as httpRequest } from "node:http";
import { crc32, deflateSync } from "node:zlib";
import { expect } from "vitest";
import type { Database } from "../../db/schema.ts";
import { createUser, type LocalUser } from "../../src/accounts/service.ts";
import { type CreateCommunityInput, createCommunity, getCommunity } from "../../src/communities/service.ts";
import { createThread } from "../../src/posts/service.ts";
import { WebClient } from "./client.ts";
import type { TestInstance } from "./instance.ts";

export const PASSWORD = "correct horse battery";

/** A user created directly in the database, as `kindred user create` does. */
export function seedUser(
  instance: TestInstance,
  username: string,
  options: { role?: "admin" | "member"; password?: string } = {},
): Promise<LocalUser> {
  return createUser(
    instance.runtime.db,
    instance.url,
    { username, password: options.password ?? PASSWORD },
    { role: options.role ?? "member", allowReserved: options.role === "admin" },
  );
}

/** A community created directly by `owner` (an admin unless the instance lets members create). */
export async function seedCommunity(
  instance: TestInstance,
  owner: LocalUser,
  input: Partial<CreateCommunityInput> & { slug: string },
) {
  await createCommunity(instance.runtime.db, instance.url, owner, { name: input.slug, ...input });
  return getCommunity(instance.runtime.db, input.slug);
}

/** A thread created directly through the posts service. */
export async function seedThread(
  instance: TestInstance,
  community: { id: string; visibility: "public" | "members"; joinPolicy: "open" | "approval" },
  author: LocalUser,
  title: string,
  body = "",
) {
  return createThread(instance.runtime.db, instance.url, community, author.actorId, { title, body });
}

/** A browser that has logged in (and checked that it worked). */
export async function loggedIn(instance: TestInstance, username: string, password = PASSWORD): Promise<WebClient> {
  const client = new WebClient(instance.url);
  const res = await client.logIn(username, password);
  expect(res.status, `log-in of ${username}: ${res.text.slice(0, 300)}`).toBe(303);
  expect(client.cookie("kindred_session")).toBeTruthy();
  return client;
}

/**
 * A browser behind a reverse proxy, seen at `address` (X-Forwarded-For). Only
 * meaningful on an instance started with TRUST_PROXY=true, where per-address
 * rate limits then count it apart from other clients.
 */
export class ClientAt extends WebClient {
  readonly address: string;
  constructor(base: string, address: string) {
    super(base);
    this.address = address;
  }
  override request(method: string, path: string, body: BodyInit | undefined, headers: Record<string, string>) {
    return super.request(method, path, body, { ...headers, "x-forwarded-for": this.address });
  }
}

type Table = keyof Database;

/** Number of rows of `table`, optionally restricted to rows where `column = value`. */
export async function countRows(
  instance: TestInstance,
  table: Table,
  where?: [string, string | number],
): Promise<number> {
  const db = instance.runtime.db;
  // Kysely cannot type a column name chosen at run time.
  let q = db.selectFrom(table as "users").select((eb) => eb.fn.countAll<string | number>().as("n")) as any;
  if (where) q = q.where(where[0], "=", where[1]);
  const row = (await q.executeTakeFirstOrThrow()) as { n: string | number };
  return Number(row.n);
}

/** A real, decodable 1×1 PNG (opaque red), chunks and CRCs built by hand. */
export function tinyPng(): Uint8Array<ArrayBuffer> {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const typed = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(typed) >>> 0);
    return Buffer.concat([len, typed, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const scanline = Buffer.from([0, 0xff, 0x00, 0x00]); // filter 0, one RGB pixel
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", deflateSync(scanline)),
      chunk("IEND", Buffer.alloc(0)),
    ]),
  );
}

/** Undoes the escaping hono/html applies to text. */
export const unescapeHtml = (text: string) =>
  text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&amp;", "&");

/** The text of the page's alert box (form-level error message), unescaped, if any. */
export const alertText = (html: string) => {
  const m = /<div class="alert" role="alert">([^<]*)<\/div>/.exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
};

/**
 * The outer HTML of the first element whose opening tag starts with `opening`
 * (e.g. `<li id="post-1"`), matching nested tags of the same name.
 */
export function element(html: string, opening: string): string | undefined {
  const start = html.indexOf(opening);
  if (start < 0) return undefined;
  const name = /^<([a-z0-9]+)/i.exec(opening)?.[1];
  if (!name) throw new Error(`not an opening tag: ${opening}`);
  const tag = new RegExp(`<(/?)${name}(?=[\\s>])[^>]*>`, "gi");
  tag.lastIndex = start;
  let depth = 0;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return html.slice(start, m.index + m[0].length);
  }
  return undefined;
}

/** Every `<form ...>...</form>` in a page. */
export const forms = (html: string) => [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/gi)].map((m) => m[0]);

/** Thread titles linked from a listing (community page, tag page). */
export const threadTitles = (html: string) =>
  [...html.matchAll(/<article class="thread-summary[^"]*">\s*<h3><a href="\/posts\/[0-9a-f-]{36}">([^<]*)<\/a>/g)].map(
    (m) => m[1]!,
  );

/** The `rel="next"` link of a page, if any. */
export const nextLink = (html: string) => /<a href="([^"]+)" rel="next">/.exec(html)?.[1]?.replaceAll("&amp;", "&");

/**
 * A POST on a connection of its own that is closed afterwards. For requests
 * the server may answer before reading the body (413): a pooled fetch
 * connection would be left in an unknown state for the next request. The
 * answer counts as soon as it arrives, even if the upload is cut short.
 */
export function postOnOwnConnection(
  url: string,
  headers: Record<string, string>,
  body: string | Uint8Array,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: "POST",
        agent: false,
        headers: { ...headers, connection: "close", "content-length": String(Buffer.byteLength(body)) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
        res.on("error", reject);
      },
    );
    // An early answer may close the socket mid-upload; only a missing answer is a failure.
    req.on("error", (error) => setTimeout(() => reject(error), 1000).unref());
    req.end(body);
  });
}
