// The attack: getting someone's health data into an admin's logs. A server
// runs as a self-hoster runs it (`node src/main.ts`, LOG_LEVEL=info, then
// LOG_LEVEL=debug) and its real stdout and stderr are kept. A Mastodon-shaped
// peer sends it signed activities of every type Kindred does not handle (a
// report whose comment says "I think this user has HIV", a reaction, a
// featured post, a block, a move, …), notes and edits, a body that is not
// JSON, JSON that is not an activity, and an unsigned activity; a member signs
// up with an email and someone logs in with a wrong password; secret tokens
// travel in paths and queries. Every piece of text carries a unique marker.
//
// At info no marker may appear in the output: no post text, report comment,
// email, password or token. At debug (an admin who asked for detail) bodies
// may appear, but passwords, emails and tokens still never do. Fedify's own
// "Unsupported activity type" error, which quoted whole activities, must not
// appear at all, and every unsupported type is answered 202 and noted in one
// debug line naming only its type and id.
import { randomBytes, randomUUID } from "node:crypto";
import type { LogLevel } from "@logtape/logtape";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebClient } from "../helpers/client.ts";
import { type LoggedServer, startLoggedServer } from "../helpers/logged-server.ts";
import { fixture, Peer, type PeerActor, snowflake } from "../helpers/peer.ts";

const AS = "https://www.w3.org/ns/activitystreams";
const AS_PUBLIC = `${AS}#Public`;

/** A unique marker: a word no log line could contain by chance. */
const mark = (name: string) => `zq${name}${randomUUID().replaceAll("-", "").slice(0, 12)}`;

/** An activity Kindred does not handle, with the marker its text carries. */
interface Unsupported {
  type: string;
  id: string;
  body: Record<string, unknown>;
  status?: number;
}

interface Attack {
  /** Someone's words: must not be logged at info. */
  text: Record<string, string>;
  /** Passwords, emails and tokens: must never be logged. */
  secrets: Record<string, string>;
  unsupported: Unsupported[];
  /** HTTP statuses of the other inbound requests. */
  statuses: Record<string, number>;
}

/** The types other servers send that Kindred does not handle, each in the shape its senders use. */
function unsupportedActivities(peer: Peer, mallory: PeerActor, alice: string, text: Record<string, string>) {
  const activity = (type: string, fields: Record<string, unknown>, context: unknown = AS): Unsupported => {
    const id = `${peer.origin}/activities/${randomUUID()}`;
    text[type] = mark(type.toLowerCase());
    const body = { "@context": context, id, type, actor: mallory.id, ...fields };
    // Every text field the type may carry gets the marker, so none can slip through.
    return { type, id, body: JSON.parse(JSON.stringify(body).replaceAll("MARKER", text[type])) };
  };
  const note = `${mallory.id}/statuses/${snowflake()}`;
  const generic = (type: string) =>
    activity(type, { object: alice, content: `I think this user has HIV MARKER`, summary: "MARKER", to: [alice] });
  return [
    activity("EmojiReact", { object: note, content: "🤒", tag: [{ type: "Emoji", name: ":MARKER:" }], to: [alice] }, [
      AS,
      { EmojiReact: "http://litepub.social/ns#EmojiReact" },
    ]),
    // Mastodon's featured post: a whole note, embedded.
    activity("Add", {
      object: {
        id: note,
        type: "Note",
        attributedTo: mallory.id,
        content: "<p>My HIV diary MARKER</p>",
        to: [AS_PUBLIC],
      },
      target: `${mallory.id}/collections/featured`,
    }),
    activity("Remove", { object: note, target: `${mallory.id}/collections/featured`, summary: "MARKER" }),
    activity("Block", { object: alice, content: "blocked for posting about HIV MARKER" }),
    activity("Move", { object: mallory.id, target: `${peer.origin}/users/mallory_new`, summary: "MARKER" }),
    activity("Question", {
      content: "Who else has HIV? MARKER",
      oneOf: [{ type: "Note", name: "me MARKER", replies: { type: "Collection", totalItems: 1 } }],
      to: [alice],
    }),
    activity("Arrive", { location: { type: "Place", name: "HIV clinic MARKER" }, to: [alice] }),
    activity("Travel", { target: { type: "Place", name: "HIV clinic MARKER" }, to: [alice] }),
    ...["Listen", "Read", "View", "Invite", "Offer", "Join", "Leave", "Dislike", "Ignore"].map(generic),
    ...["TentativeAccept", "TentativeReject"].map((type) =>
      activity(type, { object: `${alice}#follows/1`, content: "MARKER" }),
    ),
    // A type Kindred has never heard of, in the ActivityStreams namespace (Sharkey's Bite is one).
    generic("Bite"),
  ];
}

async function attack(server: LoggedServer, peer: Peer, mallory: PeerActor): Promise<Attack> {
  const text: Record<string, string> = {};
  const secrets: Record<string, string> = {
    password: `${mark("password")} correct horse`,
    wrongPassword: mark("wrongpassword"),
    email: `${mark("email")}@example.org`,
    noteEmail: `${mark("noteemail")}@example.net`,
    receipt: randomBytes(24).toString("base64url"),
    queryToken: mark("token"),
    accessToken: mark("accesstoken"),
  };
  const statuses: Record<string, number> = {};

  // A member signs up with an email; someone tries her account with a wrong password.
  const web = new WebClient(server.origin);
  await web.signUp("alice", secrets.password, secrets.email);
  secrets.session = web.cookie("kindred_session") ?? "";
  secrets.csrf = web.csrf;
  expect(secrets.session).not.toBe("");
  expect(secrets.csrf).not.toBe("");
  const stranger = new WebClient(server.origin);
  statuses.wrongPassword = (await stranger.logIn("alice", secrets.wrongPassword)).status;
  // Secrets in paths and queries, and someone's words in a search.
  text.search = mark("search");
  statuses.receipt = (await web.get(`/erasures/${secrets.receipt}`)).status;
  statuses.queryToken = (await web.get(`/login?next=%2Fsettings&reset_token=${secrets.queryToken}`)).status;
  statuses.accessToken = (await web.get(`/nowhere?access_token=${secrets.accessToken}`)).status;
  statuses.search = (await web.get(`/search?q=HIV+${text.search}`)).status;

  const alice = `${server.origin}/@alice`;
  const inbox = `${alice}/inbox`;
  const shared = `${server.origin}/inbox`;

  // Every type Kindred does not handle, alternately to alice's inbox and the shared inbox.
  const unsupported = unsupportedActivities(peer, mallory, alice, text);
  for (const [i, activity] of unsupported.entries()) {
    activity.status = (await peer.send(mallory, i % 2 ? shared : inbox, activity.body)).status;
  }

  // Mastodon's report about alice, which lands in the admins' queue: its comment is never logged.
  text.flag = mark("flag");
  const flag = {
    "@context": AS,
    id: `${peer.origin}/${randomUUID()}`,
    type: "Flag",
    actor: mallory.id,
    content: `I think this user has HIV ${text.flag}`,
    object: [alice],
    to: alice,
  };
  statuses.flag = (await peer.send(mallory, shared, flag)).status;

  // A note and its edit, to alice.
  text.note = mark("note");
  text.hashtag = mark("hashtag");
  text.update = mark("update");
  const statusId = snowflake();
  const common = {
    origin: peer.origin,
    host: peer.host,
    actor: mallory.id,
    username: mallory.username,
    id: statusId,
    published: new Date().toISOString(),
    inReplyTo: null,
    mentioned: alice,
    mentionedUrl: alice,
    mentionedName: "alice",
    mentionedHost: new URL(alice).host,
  };
  const create = fixture("mastodon/create_note.json", {
    ...common,
    text: `I think I have HIV ${text.note}, write to ${secrets.noteEmail}`,
    hashtag: text.hashtag,
  });
  statuses.create = (await peer.send(mallory, inbox, create)).status;
  const update = fixture("mastodon/update_note.json", {
    ...common,
    updated: new Date().toISOString(),
    updateSeq: 1,
    text: `Edited: my HIV test ${text.update}`,
  });
  statuses.update = (await peer.send(mallory, inbox, update)).status;

  // A body that is not JSON; JSON that is not an activity; an unsigned activity.
  text.malformed = mark("malformed");
  statuses.malformed = (await peer.send(mallory, inbox, `${text.malformed} {"type": "Create", "content": "HIV`)).status;
  text.notActivity = mark("notactivity");
  const notActivity = {
    "@context": AS,
    id: `${mallory.id}/statuses/${snowflake()}`,
    type: "Note",
    attributedTo: mallory.id,
    content: `HIV ${text.notActivity}`,
  };
  statuses.notActivity = (await peer.send(mallory, shared, notActivity)).status;
  text.jsonString = mark("jsonstring");
  statuses.jsonString = (await peer.send(mallory, shared, JSON.stringify(`HIV ${text.jsonString}`))).status;
  // Signed and well formed, but a date field holds text: the parser's error used to quote it.
  text.badDate = mark("baddate");
  const badDate = fixture("mastodon/create_note.json", {
    ...common,
    id: snowflake(),
    published: `I have HIV ${text.badDate}`,
    text: "a note",
    hashtag: "dates",
  });
  statuses.badDate = (await peer.send(mallory, inbox, badDate)).status;
  text.unsigned = mark("unsigned");
  const unsigned = fixture("mastodon/create_note.json", {
    ...common,
    id: snowflake(),
    text: `unsigned HIV ${text.unsigned}`,
    hashtag: "unsigned",
  });
  statuses.unsigned = (await peer.send(mallory, inbox, unsigned, { signAs: null })).status;

  await server.queueIdle();
  return { text, secrets, unsupported, statuses };
}

/** For each marker found in `output`, the lines that contain it. */
function leaks(output: string, markers: Record<string, string>): Record<string, string[]> {
  const lines = output.split("\n");
  const found: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(markers)) {
    // A marker may be logged whole, or cut short (V8 quotes the first characters of a bad body).
    const needles = [value, value.slice(0, 10)];
    const hits = lines.filter((line) => needles.some((n) => line.includes(n)));
    if (hits.length > 0) found[name] = hits.map((l) => l.slice(0, 300));
  }
  return found;
}

function describeAt(level: LogLevel, check: (run: () => { server: LoggedServer; attack: Attack }) => void) {
  describe(`LOG_LEVEL=${level}`, () => {
    let server: LoggedServer | undefined;
    let peer: Peer | undefined;
    let result: Attack | undefined;

    beforeAll(async () => {
      [server, peer] = await Promise.all([startLoggedServer(level), Peer.start("mastodon")]);
      const mallory = await peer.addActor("mallory");
      result = await attack(server, peer, mallory);
      // Everything it processed is logged by now; stopping it drains its output before any scan.
      await server.stop();
    }, 60_000);

    afterAll(async () => {
      await Promise.all([server?.stop(), peer?.stop()]);
    });

    check(() => {
      if (!server || !result) throw new Error("the attack did not run");
      return { server, attack: result };
    });
  });
}

// The console sink shows string values quoted: `unsupported activity dropped: 'Bite' 'https://…'`.
const UNSUPPORTED_LINE = /unsupported activity dropped: '?([^'\s]+)'? '?([^'\s]+)'?/;

describe("no one's words in the logs", () => {
  describeAt("info", (run) => {
    it("answers every activity type it does not handle with 202", () => {
      const { attack } = run();
      expect(attack.unsupported.map((a) => [a.type, a.status])).toEqual(attack.unsupported.map((a) => [a.type, 202]));
      expect(attack.statuses).toMatchObject({
        create: 202,
        update: 202,
        flag: 202,
        malformed: 400,
        badDate: 400,
        unsigned: 401,
      });
    });

    it("logs no post text, report comment, email, password or token", () => {
      const { server, attack } = run();
      const output = server.output();
      expect(leaks(output, { ...attack.text, ...attack.secrets })).toEqual({});
      // The scan is not vacuous: what went wrong was logged, in a form an admin can act on, without the content.
      expect(output).toContain("Failed to parse activity");
      expect(output).toContain("RangeError: invalid RFC 9557 string: …");
      expect(output).toMatch(/GET'? '?\/erasures\/…'?: 404/);
      expect(output).toMatch(/GET'? '?\/nowhere\?access_token=…'?: 404/);
    });

    it("never writes Fedify's unsupported-activity error, nor our debug line", () => {
      const output = run().server.output();
      expect(output).not.toContain("Unsupported activity type");
      expect(output).not.toMatch(UNSUPPORTED_LINE);
    });
  });

  describeAt("debug", (run) => {
    it("notes each unsupported activity in one debug line naming only its type and id", () => {
      const { server, attack } = run();
      const dropped = new Map(
        server
          .output()
          .split("\n")
          .flatMap((line) => {
            const m = UNSUPPORTED_LINE.exec(line);
            return m ? [[m[2]!, { type: m[1]!, line }] as const] : [];
          }),
      );
      expect(attack.unsupported.filter((a) => !dropped.has(a.id)).map((a) => a.type)).toEqual([]);
      for (const activity of attack.unsupported) {
        const entry = dropped.get(activity.id);
        expect(entry?.type, activity.id).toBe(activity.type);
        expect(leaks(entry?.line ?? "", attack.text)).toEqual({});
      }
      expect(attack.unsupported.map((a) => [a.type, a.status])).toEqual(attack.unsupported.map((a) => [a.type, 202]));
      expect(server.output()).not.toContain("Unsupported activity type");
    });

    it("still logs no email, password or token", () => {
      const { server, attack } = run();
      const output = server.output();
      expect(leaks(output, attack.secrets)).toEqual({});
      // Debug output is detailed: requests are there, with their secrets cut out.
      expect(output).toContain("/erasures/…");
      expect(output).toMatch(/reset_token=…/);
    });
  });
});
