// Marking a thread as a question and its replies as answers, from the thread page.
import { Hono } from "hono";
import { DomainError } from "../errors.ts";
import { readablePost } from "../posts/queries.ts";
import type { WebEnv } from "../web/env.ts";
import { formFields } from "../web/forms.ts";
import { requireUser } from "../web/session.ts";
import { setAnswerMark, setQuestion } from "./service.ts";

export const answerRoutes = new Hono<WebEnv>();

answerRoutes.post("/posts/:id/question", async (c) => {
  const user = requireUser(c);
  const db = c.get("app").db;
  // A thread the reader may not see is not found, whatever they may do in it.
  const post = await readablePost(db, c.req.param("id"), user.actorId);
  const form = await formFields(c);
  await setQuestion(db, post.id, user.actorId, form.question !== "0");
  return c.redirect(`/posts/${post.id}`, 303);
});

answerRoutes.post("/posts/:id/answer", async (c) => {
  const user = requireUser(c);
  const db = c.get("app").db;
  const post = await readablePost(db, c.req.param("id"), user.actorId);
  const form = await formFields(c);
  const kind = form.kind;
  if (kind !== "accepted" && kind !== "clinician")
    throw new DomainError("bad_request", 'kind must be "accepted" or "clinician"');
  const { threadId } = await setAnswerMark(db, post.id, user.actorId, kind, form.marked !== "0");
  return c.redirect(`/posts/${threadId}#post-${post.id}`, 303);
});
