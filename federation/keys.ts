import { exportJwk, generateCryptoKeyPair, importJwk } from "@fedify/fedify";
import type { Db } from "../db/schema.ts";
import { loadKeys, type StoredKey, saveKeys } from "../src/actors/keys.ts";

/**
 * An actor's key pairs, generated on first use and kept: RSA-2048 (what
 * Mastodon uses, and 2.5× faster to sign than Fedify's 4096-bit default)
 * for HTTP signatures, Ed25519 for object integrity proofs. An erased
 * member's keys are only read, never made again.
 */
export async function keyPairsOf(
  db: Db,
  actorId: string,
  options: { generate?: boolean } = {},
): Promise<CryptoKeyPair[]> {
  let stored = await loadKeys(db, actorId);
  if (stored.length < 2 && (options.generate ?? true)) {
    const rsa = (await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const ed = await generateCryptoKeyPair("Ed25519");
    const fresh: StoredKey[] = [
      { kind: "rsa", privateJwk: await exportJwk(rsa.privateKey), publicJwk: await exportJwk(rsa.publicKey) },
      { kind: "ed25519", privateJwk: await exportJwk(ed.privateKey), publicJwk: await exportJwk(ed.publicKey) },
    ];
    stored = await saveKeys(db, actorId, fresh);
  }
  return Promise.all(
    stored.map(async (k) => ({
      privateKey: await imported(k.privateJwk, "private"),
      publicKey: await imported(k.publicJwk, "public"),
    })),
  );
}

/** Imported keys by their JWK text: the rows are still read each time (an erased actor's keys are gone). */
const importedKeys = new Map<string, Promise<CryptoKey>>();
const IMPORTED_KEYS_MAX = 10_000;

/** Importing a JWK cost more than signing with it, on every delivery and every signed fetch. */
function imported(jwk: JsonWebKey, type: "private" | "public"): Promise<CryptoKey> {
  const text = `${type}:${JSON.stringify(jwk)}`;
  let key = importedKeys.get(text);
  if (!key) {
    if (importedKeys.size >= IMPORTED_KEYS_MAX) importedKeys.delete(importedKeys.keys().next().value as string);
    key = importJwk(jwk, type);
    key.catch(() => importedKeys.delete(text));
    importedKeys.set(text, key);
  }
  return key;
}
