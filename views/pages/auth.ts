import { html } from "hono/html";
import {
  choice,
  csrfField,
  describedBy,
  type FormState,
  fieldError,
  formErrors,
  type Html,
  hint,
  layout,
  type PageContext,
} from "../layout.ts";

export type { FormState };

import { recoverySection } from "./recovery.ts";

/** `emailReset`: the instance sends mail, so a forgotten password can be reset by email too. */
export function logInPage(page: PageContext, state: FormState = {}, next = "", emailReset = false): Html {
  const v = state.values ?? {};
  return layout(
    page,
    "Log in",
    html`<h1>Log in</h1>
${formErrors(state.message)}
<form method="post" action="/login" class="stack">
  ${csrfField(page.csrf)}
  <input type="hidden" name="next" value="${next}">
  <label for="username">Username</label>
  <input id="username" name="username" required maxlength="30" autocomplete="username" value="${v.username ?? ""}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required maxlength="256" autocomplete="current-password">
  <button type="submit">Log in</button>
</form>
<p>New here? <a href="/signup">Create an account</a>.
  Forgot your password? ${emailReset ? html`<a href="/forgot-password">Reset it by email</a> or ` : ""}<a
  href="/recover">${emailReset ? "use" : "Use"} a recovery code</a>.</p>`,
  );
}

const filtersLink = html`<a href="/settings/filters">Muted and blocked people and servers</a> ·
  <a href="/settings/warnings">Content warnings</a> ·
  <a href="/settings/notifications">Notifications</a>`;
const dataLink = html`<a href="/settings/data">Your data: download or erase it</a>`;

export interface SettingsView {
  displayName: string;
  bio: string;
  email: string;
  avatarUrl: string | null;
  /** Unused recovery codes. */
  recoveryLeft: number;
}

export function settingsPage(
  page: PageContext,
  profile: SettingsView,
  state: FormState & {
    saved?: boolean;
    passwordErrors?: Record<string, string>;
    passwordMessage?: string;
    recovery?: FormState;
  } = {},
): Html {
  const e = state.errors;
  return layout(
    page,
    "Settings",
    html`<h1>Settings</h1>
<p>${filtersLink} · ${dataLink}</p>
${state.saved ? html`<div class="notice" role="status">Saved.</div>` : ""}
<section aria-labelledby="profile-h">
<h2 id="profile-h">Profile</h2>
${formErrors(state.message)}
<form method="post" action="/settings/profile" class="stack" enctype="multipart/form-data">
  ${csrfField(page.csrf)}
  <label for="displayName">Display name</label>
  <input id="displayName" name="displayName" maxlength="100"
    value="${profile.displayName}"${describedBy(e, "displayName")}>
  ${fieldError(e, "displayName")}
  <label for="bio">Bio ${hint("Markdown")}</label>
  <textarea id="bio" name="bio" rows="5" maxlength="5000"${describedBy(e, "bio")}>${profile.bio}</textarea>
  ${fieldError(e, "bio")}
  <label for="email">Email ${hint("optional, private")}</label>
  <input id="email" name="email" type="email" maxlength="254" value="${profile.email}"${describedBy(e, "email")}>
  ${fieldError(e, "email")}
  ${
    profile.avatarUrl
      ? html`<p><img class="avatar large" src="${profile.avatarUrl}" alt="Your current avatar"
    width="96" height="96"></p>
  ${choice("checkbox", "removeAvatar", "1", "Remove avatar")}`
      : ""
  }
  <label for="avatar">Avatar ${hint("PNG, JPEG, GIF or WebP, up to 512 KiB")}</label>
  <input id="avatar" name="avatar" type="file"
    accept="image/png,image/jpeg,image/gif,image/webp"${describedBy(e, "avatar")}>
  ${fieldError(e, "avatar")}
  <button type="submit">Save profile</button>
</form>
</section>
<section aria-labelledby="password-h">
<h2 id="password-h">Password</h2>
${formErrors(state.passwordMessage)}
<form method="post" action="/settings/password" class="stack">
  ${csrfField(page.csrf)}
  <label for="current">Current password</label>
  <input id="current" name="current" type="password" required autocomplete="current-password">
  ${fieldError(state.passwordErrors, "current")}
  <label for="new-password">New password</label>
  <input id="new-password" name="password" type="password" required minlength="8" maxlength="256"
    autocomplete="new-password">
  ${fieldError(state.passwordErrors, "password")}
  <button type="submit">Change password</button>
</form>
<p class="hint">Changing your password signs out every other device.</p>
</section>
${recoverySection(page.csrf, profile.recoveryLeft, state.recovery)}`,
  );
}
