// Attacks on issue 13's inbound limits, as an attacker: mallory, on her own
// server, signs her deliveries validly with her own key, but makes the limiter
// charge them to alice (another server) by adding a second key id to the
// Signature header. Fedify verifies with the last `keyId` parameter (and
// ignores unknown ones such as `xkeyId`); the limiter reads the first match.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import { Peer, type PeerActor, snowflake } from "../helpers/peer.ts";
import { seedCommunity, seedUser } from "../helpers/seed.ts";
import { mastodonNote } from "../policy/support.ts";

describe("inbox limits charged to someone else's key", () => {
  let instance: TestInstance;
  let victimServer: Peer;
  let attackerServer: Peer;
  let alice: PeerActor;
  let mallory: PeerActor;
  let community: Awaited<ReturnType<typeof seedCommunity>>;
  const inbox = () => `${instance.url}/inbox`;
  const note = (peer: Peer, actor: PeerActor) =>
    mastodonNote(peer, actor, { text: `hello ${snowflake()}`, mentioned: { iri: community.iri, name: "pots" } });

  beforeAll(async () => {
    [instance, victimServer, attackerServer] = await Promise.all([
      startTestInstance({
        env: { INBOX_LIMIT_PER_ACTOR: "3", INBOX_LIMIT_PER_SERVER: "50", INBOX_LIMIT_WINDOW_S: "3600" },
      }),
      Peer.start("mastodon"),
      Peer.start("mastodon"),
    ]);
    const admin = await seedUser(instance, "admin", { role: "admin" });
    community = await seedCommunity(instance, admin, { slug: "pots", name: "POTS" });
    alice = await victimServer.addActor("alice");
    mallory = await attackerServer.addActor("mallory");
  });
  afterAll(async () => {
    await Promise.all([victimServer?.stop(), attackerServer?.stop()]);
    await instance?.stop();
  });

  it("mallory's valid deliveries with a decoy keyId first don't use up alice's allowance", async () => {
    for (let i = 0; i < 3; i++) {
      const signed = await attackerServer.signedRequest(mallory, inbox(), note(attackerServer, mallory));
      const headers = new Headers(signed.headers);
      // A duplicate parameter: Fedify's parser keeps the last one (mallory's real key).
      headers.set("signature", `keyId="${alice.keyId}",${headers.get("signature")}`);
      const res = await fetch(inbox(), { method: "POST", headers, body: await signed.text() });
      await res.arrayBuffer();
      // Refused: a header naming two keys could be charged to one and verified with the other.
      expect(res.status).toBe(400);
    }
    for (let i = 0; i < 3; i++) {
      // A parameter that only ends in "keyId" is not a key id: charged to mallory's own key.
      const signed = await attackerServer.signedRequest(mallory, inbox(), note(attackerServer, mallory));
      const headers = new Headers(signed.headers);
      headers.set("signature", `xkeyId="${alice.keyId}",${headers.get("signature")}`);
      const res = await fetch(inbox(), { method: "POST", headers, body: await signed.text() });
      await res.arrayBuffer();
      expect(res.status).toBe(202);
    }
    // alice has sent nothing yet: her first delivery must be accepted.
    const res = await victimServer.send(alice, inbox(), note(victimServer, alice));
    expect(res.status, "alice's first delivery of the window").toBe(202);
  });
});
