// `kindred post …`: start a thread.
import { getCommunity } from "../communities/service.ts";
import { createThread } from "../posts/service.ts";
import { type Command, command, must, str } from "./args.ts";
import { requireUser } from "./users.ts";

export const posts: Command[] = [
  command({
    name: "post create",
    args: "--as <username> --community <slug> --title <title> --body <markdown> [--cw <text>]",
    summary: "Start a thread in a community as a user; prints the thread's IRI on the last line.",
    positionals: [],
    options: {
      as: { type: "string" },
      community: { type: "string" },
      title: { type: "string" },
      body: { type: "string" },
      cw: { type: "string" },
    },
    required: ["as", "community", "title", "body"],
    async run({ values, io, rt }) {
      const author = await requireUser(rt.db, must(values.as));
      const community = await getCommunity(rt.db, must(values.community));
      const post = await createThread(
        rt.db,
        rt.config.origin,
        { id: community.id, visibility: community.visibility, joinPolicy: community.joinPolicy },
        author.actorId,
        { title: must(values.title), body: must(values.body), cw: str(values.cw) },
      );
      // The text itself is never echoed: it may be health information.
      io.stdout.write(`created thread in ${community.slug} as ${author.username}\n${post.iri}\n`);
    },
  }),
];
