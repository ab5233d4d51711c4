import { hash, verify } from "@node-rs/argon2";

// Argon2id with the library's defaults (19 MiB, 2 passes: OWASP's baseline).
export const hashPassword = (password: string): Promise<string> => hash(password);

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

// A fixed hash to verify against when the username does not exist, so a
// log-in attempt takes the same time whether or not the account exists.
let dummy: Promise<string> | undefined;
export const dummyHash = (): Promise<string> => (dummy ??= hash("kindred-timing-equalizer"));
