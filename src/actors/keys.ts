import type { Db } from "../../db/schema.ts";
import { now } from "../ids.ts";

export interface StoredKey {
  kind: "rsa" | "ed25519";
  privateJwk: JsonWebKey;
  publicJwk: JsonWebKey;
}

/** An actor's key pairs, RSA first (the one Mastodon reads), then Ed25519. */
export async function loadKeys(db: Db, actorId: string): Promise<StoredKey[]> {
  const rows = await db.selectFrom("actor_keys").selectAll().where("actor_id", "=", actorId).execute();
  return rows
    .sort((a, b) => (a.kind === "rsa" ? -1 : b.kind === "rsa" ? 1 : 0))
    .map((r) => ({ kind: r.kind, privateJwk: JSON.parse(r.private_jwk), publicJwk: JSON.parse(r.public_jwk) }));
}

/** Stores generated keys unless another process stored some first; returns what is stored. */
export async function saveKeys(db: Db, actorId: string, keys: StoredKey[]): Promise<StoredKey[]> {
  for (const k of keys) {
    await db
      .insertInto("actor_keys")
      .values({
        actor_id: actorId,
        kind: k.kind,
        private_jwk: JSON.stringify(k.privateJwk),
        public_jwk: JSON.stringify(k.publicJwk),
        created_at: now(),
      })
      .onConflict((oc) => oc.columns(["actor_id", "kind"]).doNothing())
      .execute();
  }
  return loadKeys(db, actorId);
}
