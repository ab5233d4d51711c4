import { Hono } from "hono";
import { conversationPage, deleteConversationPage, inboxPage } from "../../views/pages/messages.ts";
import { findLocalUser } from "../accounts/service.ts";
import { findRemoteActorByHandle } from "../actors/remote.ts";
import { DomainError, notFound } from "../errors.ts";
import { imageLimits, readUploads, withStoredImages } from "../media/form.ts";
import { postImages } from "../media/shown.ts";
import { pageContext, type WebContext, type WebEnv } from "../web/env.ts";
import { formBody, formFields } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { conversation, conversations, deleteConversation, sendMessage } from "./service.ts";

export const messageRoutes = new Hono<WebEnv>();

const handleOfActor = (a: { username: string; host: string; local: number }) =>
  a.local === 1 ? a.username : `${a.username}@${a.host}`;

/** The person a conversation is with: a local username or `name@host`. */
async function counterpart(c: WebContext) {
  const handle = c.req.param("handle") ?? "";
  const db = c.get("app").db;
  const at = handle.lastIndexOf("@");
  if (at > 0) {
    const remote = await findRemoteActorByHandle(db, handle.slice(0, at), handle.slice(at + 1));
    if (remote && remote.type === "Person" && !remote.deleted_at) return { id: remote.id, handle, name: remote.name };
  } else {
    const local = await findLocalUser(db, handle);
    if (local) return { id: local.actorId, handle: local.username, name: local.name };
  }
  throw notFound(`@${handle}`);
}

messageRoutes.get("/messages", async (c) => {
  const user = requireUser(c);
  const items = await conversations(c.get("app").db, user.actorId);
  return c.html(
    inboxPage(
      pageContext(c),
      items.map((i) => ({ handle: handleOfActor(i), name: i.name, lastAt: i.lastAt })),
    ),
  );
});

async function renderConversation(
  c: WebContext,
  state: Parameters<typeof conversationPage>[3] = {},
  status: 200 | 422 = 200,
) {
  const user = requireUser(c);
  const other = await counterpart(c);
  const messages = await conversation(c.get("app").db, user.actorId, other.id);
  const images = await postImages(
    c.get("app"),
    messages.map((m) => m.id),
  );
  return c.html(
    conversationPage(
      pageContext(c),
      other,
      messages.map((m) => ({
        ...m,
        sensitive: m.sensitive === 1,
        images: images.get(m.id),
        mine: m.authorId === user.actorId,
        authorName: m.authorId === user.actorId ? "You" : (m.authorName ?? m.authorUsername),
      })),
      state,
    ),
    status,
  );
}

messageRoutes.get("/messages/:handle", (c) => renderConversation(c));

messageRoutes.post("/messages/:handle", async (c) => {
  const user = requireUser(c);
  const app = c.get("app");
  const other = await counterpart(c);
  const body = await formBody(c);
  const form = await formFields(c);
  try {
    const uploads = await readUploads(body);
    const input = { body: form.body ?? "", cw: form.cw, sensitive: form.sensitive === "1" };
    await withStoredImages(app.media, uploads, imageLimits(app.config), (images) =>
      sendMessage(app.db, app.config.origin, user.actorId, other.id, input, images),
    );
    return c.redirect(`/messages/${other.handle}`, 303);
  } catch (e) {
    if (!(e instanceof DomainError) || e.code !== "invalid") throw e;
    return renderConversation(c, { values: form, errors: e.fields, message: e.message }, 422);
  }
});

/** Deleting a conversation asks first: how many messages go, and which server hears of it. */
messageRoutes.get("/messages/:handle/delete", async (c) => {
  const user = requireUser(c);
  const other = await counterpart(c);
  const messages = await conversation(c.get("app").db, user.actorId, other.id, 1000);
  const sent = messages.filter((m) => m.authorId === user.actorId && !m.deletedAt).length;
  const at = other.handle.lastIndexOf("@");
  return c.html(
    deleteConversationPage(
      pageContext(c),
      { ...other, host: at > 0 ? other.handle.slice(at + 1) : null },
      { sent, received: messages.length - messages.filter((m) => m.authorId === user.actorId).length },
    ),
  );
});

messageRoutes.post("/messages/:handle/delete", async (c) => {
  const user = requireUser(c);
  const other = await counterpart(c);
  await deleteConversation(c.get("app").db, user.actorId, other.id);
  return c.redirect("/messages", 303);
});
