import { html } from "hono/html";
import { csrfField, type Html, hint, layout, type PageContext, pager, table, time } from "../layout.ts";

/** What an admin sees of an account's sanctions on its profile, with the forms to change them. */
export interface SanctionPanel {
  /** What the forms name: a local username, or a remote actor's IRI. */
  account: string;
  local: boolean;
  suspended: boolean;
  limited: boolean;
  /** The standing decisions' statements of reasons. */
  suspendStatement: string | null;
  limitStatement: string | null;
}

function sanctionForm(page: PageContext, p: SanctionPanel, action: string, label: string, reason: boolean): Html {
  const id = `sanction-${action}`;
  return html`<form method="post" action="/admin/accounts/${action}" class="stack sanction">
  ${csrfField(page.csrf)}
  <input type="hidden" name="account" value="${p.account}">
  ${
    reason
      ? html`<label for="${id}">Reason, shown to the person ${hint("optional, at most 1000 characters")}</label>
  <textarea id="${id}" name="reason" rows="2" maxlength="1000"></textarea>`
      : ""
  }
  ${
    action === "delete"
      ? html`<label><input type="checkbox" name="confirm" value="yes" required> Erase this account and everything
  it wrote, here and on the servers it reached. This cannot be undone.</label>`
      : ""
  }
  <button type="submit"${action === "delete" ? html` class="danger"` : ""}>${label}</button>
</form>`;
}

export function sanctionPanel(page: PageContext, p: SanctionPanel): Html {
  const why = (href: string | null) => (href ? html` <a href="${href}">Why</a>` : "");
  const state = [
    p.suspended ? html`<p><strong>Suspended.</strong>${why(p.suspendStatement)}</p>` : "",
    p.limited ? html`<p><strong>Limited.</strong>${why(p.limitStatement)}</p>` : "",
  ];
  const suspension = p.suspended
    ? sanctionForm(page, p, "unsuspend", "Lift the suspension", true)
    : sanctionForm(page, p, "suspend", "Suspend", true);
  const limit = p.limited
    ? sanctionForm(page, p, "unlimit", "Lift the limit", true)
    : sanctionForm(page, p, "limit", "Limit", true);
  return html`<details class="admin-sanctions"><summary>Admin: suspend, limit${p.local ? " or delete" : ""}</summary>
${state}
${suspension}
${limit}
${p.local ? sanctionForm(page, p, "delete", "Delete the account", true) : ""}
<p class="hint">The person is told what was decided and why, and may appeal to the admins.
<a href="/admin/accounts">All sanctioned accounts</a></p>
</details>`;
}

export interface SanctionedRow {
  handle: string;
  profileHref: string;
  suspendedAt: string | null;
  limitedAt: string | null;
}

export function sanctionedAccountsPage(page: PageContext, rows: SanctionedRow[], nextHref: string | null): Html {
  return layout(
    page,
    "Sanctioned accounts",
    html`<h1>Sanctioned accounts</h1>
<p>Accounts suspended or limited here, local or on other servers. Open a profile to lift a sanction; whole servers
are on the <a href="/admin/federation">federation page</a>.</p>
${
  rows.length === 0
    ? html`<p>No account is suspended or limited.</p>`
    : table(
        ["Account", "Suspended", "Limited"],
        rows.map(
          (r) => html`<tr><td><a href="${r.profileHref}">${r.handle}</a></td>
<td>${r.suspendedAt ? time(r.suspendedAt) : "—"}</td><td>${r.limitedAt ? time(r.limitedAt) : "—"}</td></tr>`,
        ),
      )
}
${pager(nextHref)}`,
  );
}

/** What a suspended member reads above their statement of reasons (the only page they reach). */
export function suspendedNotice(page: PageContext): Html {
  return html`<section class="notice suspended" role="alert">
<h1>Your account is suspended</h1>
<p>The admins of this instance suspended your account. Others cannot see your profile or your posts, and you cannot
post or take part until the suspension is lifted. Below is their decision and why; you may appeal it once.</p>
<p>You can still <a href="/settings/data">download your data</a>, or log out:</p>
<form method="post" action="/logout" class="inline">
  ${csrfField(page.csrf)}<button type="submit">Log out</button>
</form>
</section>`;
}

export function suspendedWithoutStatementPage(page: PageContext): Html {
  return layout(page, "Your account is suspended", suspendedNotice(page));
}
