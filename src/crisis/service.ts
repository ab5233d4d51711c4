// Crisis resources (issue 13): an instance-wide notice per language, which
// admins edit, with a default that says to contact local emergency services;
// each community may add its own lines. It shows on threads whose warning
// category asks for it, and to an author whose draft matches the crisis
// keywords of its language, before the post goes out. Everything is matched
// and shown by this server: nothing is sent to any third party.
import { z } from "zod";
import type { Db } from "../../db/schema.ts";
import { parseInput } from "../errors.ts";

const SETTINGS_KEY = "crisis";

export const DEFAULT_NOTICE = `**You're not alone.** If you are thinking about ending your life or hurting yourself,
please reach out now: call your local emergency number (112 in Europe, 911 in North America, 999 in the UK) or go to
the nearest emergency department. A crisis line in your country can listen at any hour: ask your doctor or search
"crisis line" with your country's name.`;

/** Phrases that suggest someone may be in crisis; admins edit the list for each language. */
export const DEFAULT_KEYWORDS = [
  "kill myself",
  "killing myself",
  "end my life",
  "ending my life",
  "want to die",
  "wanna die",
  "suicide",
  "suicidal",
  "self harm",
  "self-harm",
  "hurt myself",
  "no reason to live",
  "better off dead",
].join("\n");

const locale = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z]{2,3}(-[a-z0-9]{2,8})?$/, "must be a language tag such as en, de or pt-br");

export const crisisSchema = z.object({
  /** The first language is the fallback. */
  languages: z
    .array(
      z.object({
        locale,
        notice: z.string().trim().min(1, "write the notice").max(5000, "must be at most 5000 characters"),
        keywords: z.string().max(10_000, "must be at most 10000 characters"),
      }),
    )
    .min(1, "keep at least one language")
    .max(40),
});
export type CrisisSettings = z.output<typeof crisisSchema>;

const ENGLISH = { locale: "en", notice: DEFAULT_NOTICE, keywords: DEFAULT_KEYWORDS };
const DEFAULTS: CrisisSettings = { languages: [ENGLISH] };

export async function crisisSettings(db: Db): Promise<CrisisSettings> {
  const row = await db
    .selectFrom("instance_settings")
    .select("value")
    .where("key", "=", SETTINGS_KEY)
    .executeTakeFirst();
  if (!row) return DEFAULTS;
  const parsed = crisisSchema.safeParse(JSON.parse(row.value));
  return parsed.success ? parsed.data : DEFAULTS;
}

export async function saveCrisisSettings(db: Db, input: z.input<typeof crisisSchema>): Promise<CrisisSettings> {
  const data = parseInput(crisisSchema, input);
  const seen = new Set<string>();
  data.languages = data.languages.filter((l) => !seen.has(l.locale) && seen.add(l.locale));
  const value = JSON.stringify(data);
  await db
    .insertInto("instance_settings")
    .values({ key: SETTINGS_KEY, value })
    .onConflict((oc) => oc.column("key").doUpdateSet({ value }))
    .execute();
  return data;
}

/** The language to use: the first wanted one configured (exactly, then by its primary tag), else the first. */
export function pickLanguage(settings: CrisisSettings, wanted: readonly string[]) {
  const all = settings.languages;
  for (const w of wanted.map((x) => x.toLowerCase())) {
    const exact = all.find((l) => l.locale === w) ?? all.find((l) => l.locale === w.split("-")[0]);
    if (exact) return exact;
  }
  return all[0] ?? ENGLISH;
}

/** Languages from an Accept-Language header, most wanted first. */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(",")
    .slice(0, 20)
    .map((part) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = Number(
        params
          .find((p) => p.trim().startsWith("q="))
          ?.trim()
          .slice(2) ?? "1",
      );
      return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0 };
    })
    .filter((x) => /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(x.tag) && x.q > 0)
    .sort((a, b) => b.q - a.q)
    .map((x) => x.tag);
}

/** Lower case, accents and punctuation folded, so "Self–Harm" and "self harm" meet. */
const fold = (text: string) =>
  ` ${text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()} `;

/** Whether `text` holds one of the newline-separated `keywords`, as whole words. */
export function matchesKeywords(text: string, keywords: string): boolean {
  const haystack = fold(text);
  return keywords
    .split("\n")
    .map((k) => fold(k))
    .some((k) => k.trim() !== "" && haystack.includes(k));
}
