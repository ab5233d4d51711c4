import { Hono } from "hono";
import { federationAdminPage, importReviewPage, moderatedServersPage } from "../../views/pages/federation-admin.ts";
import { DomainError } from "../errors.ts";
import { getSettings } from "../instance/settings.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { httpStatus } from "../web/errors.ts";
import { formBody, formFields } from "../web/forms.ts";
import { requireAdmin } from "../web/session.ts";
import { blockCsv, parseBlockCsv } from "./csv.ts";
import { obfuscateDomain } from "./domains.ts";
import { applyImport, planImport } from "./import.ts";
import {
  allowDomain,
  blockDomain,
  disallowDomain,
  listDomainAllows,
  listDomainBlocks,
  setFederationMode,
  unblockDomain,
} from "./service.ts";

export const policyRoutes = new Hono<WebEnv>();

async function renderAdmin(
  c: WebContext,
  state: { errors?: Record<string, string>; message?: string; notice?: string } = {},
  status: 200 | 404 | 409 | 422 = 200,
) {
  const db = c.get("app").db;
  const [settings, blocks, allows] = await Promise.all([getSettings(db), listDomainBlocks(db), listDomainAllows(db)]);
  return c.html(
    federationAdminPage(pageContext(c), {
      mode: settings.federationMode,
      blocks,
      allows: allows.map((a) => a.domain),
      ...state,
    }),
    status,
  );
}

/** Runs an admin change, refreshes this process's policy at once, and shows the page again. */
async function change(c: WebContext, work: () => Promise<string>) {
  requireAdmin(c);
  try {
    const notice = await work();
    await c.get("app").policy.refresh();
    return renderAdmin(c, { notice });
  } catch (e) {
    if (!(e instanceof DomainError) || !["invalid", "not_found", "conflict"].includes(e.code)) throw e;
    return renderAdmin(c, { errors: e.fields, message: e.message }, httpStatus(e.code) as 404 | 409 | 422);
  }
}

policyRoutes.get("/admin/federation", (c) => {
  requireAdmin(c);
  return renderAdmin(c);
});

policyRoutes.post("/admin/federation/mode", async (c) => {
  const form = await formFields(c);
  return change(c, async () => {
    const mode = form.mode === "allowlist" ? "allowlist" : "open";
    await setFederationMode(c.get("app").db, mode);
    return mode === "allowlist" ? "Limited federation is on: only allowed servers federate." : "Open federation is on.";
  });
});

policyRoutes.post("/admin/federation/blocks", async (c) => {
  const form = await formFields(c);
  return change(c, async () => {
    const { db, config } = c.get("app");
    const result = await blockDomain(
      db,
      {
        domain: form.domain ?? "",
        severity: (form.severity ?? "suspend") as "suspend",
        rejectMedia: form.rejectMedia === "1",
        rejectReports: form.rejectReports === "1",
        publicComment: form.publicComment,
        privateComment: form.privateComment,
        obfuscate: form.obfuscate === "1",
      },
      { origin: config.origin },
    );
    const purged = result.purged
      ? ` Purged ${result.purged.actors} accounts, ${result.purged.posts} posts and ${result.purged.follows} follows.`
      : "";
    return `${result.created ? "Blocked" : "Updated the block of"} ${form.domain?.trim().toLowerCase()}.${purged}`;
  });
});

policyRoutes.post("/admin/federation/blocks/:domain/remove", (c) =>
  change(c, async () => {
    await unblockDomain(c.get("app").db, c.req.param("domain"));
    return `Unblocked ${c.req.param("domain")}.`;
  }),
);

policyRoutes.get("/admin/federation/blocks.csv", async (c) => {
  requireAdmin(c);
  return c.body(blockCsv(await listDomainBlocks(c.get("app").db)), 200, {
    "Content-Type": "text/csv; charset=utf-8",
    "Content-Disposition": 'attachment; filename="domain_blocks.csv"',
  });
});

// Import, step 1: parse and show what would change. Nothing is written yet.
policyRoutes.post("/admin/federation/import", async (c) => {
  requireAdmin(c);
  const body = await formBody(c);
  const file = body.csv;
  const text = file instanceof File ? await file.text() : typeof file === "string" ? file : "";
  if (text.trim() === "") return renderAdmin(c, { message: "Choose a CSV file to import." }, 422);
  const parsed = parseBlockCsv(text, { origin: c.get("app").config.origin });
  const plan = await planImport(c.get("app").db, parsed);
  return c.html(
    importReviewPage(pageContext(c), {
      rows: plan.map((p) => ({
        domain: p.block.domain,
        severity: p.block.severity,
        status: p.status,
        coveredBy: p.coveredBy,
        followsCut: p.followsCut,
      })),
      problems: parsed.problems,
      csv: text,
    }),
  );
});

// Step 2: the admin confirmed; the same file is parsed again and applied at once.
policyRoutes.post("/admin/federation/import/confirm", async (c) => {
  const form = await formFields(c);
  return change(c, async () => {
    const { db, config } = c.get("app");
    const parsed = parseBlockCsv(form.csv ?? "", { origin: config.origin });
    const result = await applyImport(db, await planImport(db, parsed), { origin: config.origin });
    const { actors, posts, follows } = result.purged;
    return (
      `Imported ${result.applied} blocks (${parsed.problems.length} rows rejected). ` +
      `Purged ${actors} accounts, ${posts} posts and ${follows} follows.`
    );
  });
});

policyRoutes.post("/admin/federation/allows", async (c) => {
  const form = await formFields(c);
  return change(c, async () => {
    await allowDomain(c.get("app").db, form.domain ?? "");
    return `Allowed ${form.domain?.trim().toLowerCase()}.`;
  });
});

policyRoutes.post("/admin/federation/allows/:domain/remove", (c) =>
  change(c, async () => {
    await disallowDomain(c.get("app").db, c.req.param("domain"));
    return `Removed ${c.req.param("domain")} from the allow list.`;
  }),
);

// Public, as on Mastodon's about page: which servers are moderated, and why.
policyRoutes.get("/about/moderated-servers", async (c) => {
  const blocks = await listDomainBlocks(c.get("app").db);
  const rows = blocks
    .filter((b) => b.severity !== "noop")
    .map((b) => ({
      domain: b.obfuscate ? obfuscateDomain(b.domain) : b.domain,
      severity: b.severity as "suspend" | "silence",
      comment: b.public_comment,
    }));
  return c.html(moderatedServersPage(pageContext(c), rows));
});
