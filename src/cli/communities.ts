// `kindred community …`: create and list communities.
import { findOldestAdmin } from "../accounts/service.ts";
import { communitySettingsInput, createCommunity, listCommunities } from "../communities/service.ts";
import { DomainError } from "../errors.ts";
import { type Command, choice, command, must, str } from "./args.ts";
import { table } from "./output.ts";
import { requireUser } from "./users.ts";

const visibilityChoice = communitySettingsInput.shape.visibility.unwrap();
const joinChoice = communitySettingsInput.shape.join.unwrap();
const federationChoice = communitySettingsInput.shape.federation.unwrap();

export const communities: Command[] = [
  command({
    name: "community create",
    args:
      "<slug> --name <name> [--description <markdown>] [--rules <markdown>] [--visibility public|members] " +
      "[--join open|approval] [--federation federated|local] [--owner <username>]",
    summary: "Create a community; --owner (default: the oldest admin) becomes its first moderator.",
    positionals: ["slug"],
    options: {
      name: { type: "string" },
      description: { type: "string" },
      rules: { type: "string" },
      visibility: { type: "string" },
      join: { type: "string" },
      federation: { type: "string" },
      owner: { type: "string" },
    },
    required: ["name"],
    check(values) {
      choice("--visibility", values.visibility, visibilityChoice);
      choice("--join", values.join, joinChoice);
      choice("--federation", values.federation, federationChoice);
    },
    async run({ values, args, io, rt }) {
      const visibility = choice("--visibility", values.visibility, visibilityChoice);
      const join = choice("--join", values.join, joinChoice);
      const federation = choice("--federation", values.federation, federationChoice);
      const ownerName = str(values.owner);
      let owner: { actorId: string; username: string };
      if (ownerName !== undefined) {
        owner = await requireUser(rt.db, ownerName);
      } else {
        const admin = await findOldestAdmin(rt.db);
        if (!admin) {
          throw new DomainError(
            "not_found",
            "there is no admin user to own the community; create one first with: " +
              "kindred user create <name> --admin (or pass --owner <username>)",
          );
        }
        owner = admin;
      }
      const community = await createCommunity(
        rt.db,
        rt.config.origin,
        { actorId: owner.actorId, role: "admin" },
        {
          slug: args.slug,
          name: must(values.name),
          description: str(values.description),
          rules: str(values.rules),
          visibility,
          join,
          federation,
        },
        { allowReserved: true },
      );
      io.stdout.write(`created community ${community.slug}, moderated by ${owner.username}\n${community.iri}\n`);
    },
  }),
  command({
    name: "community list",
    args: "",
    summary: "List communities with their settings, members and threads.",
    positionals: [],
    options: {},
    async run({ io, rt }) {
      const rows: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await listCommunities(rt.db, { limit: 500, cursor });
        for (const c of page.items) {
          rows.push([
            c.slug,
            c.name ?? "",
            c.visibility,
            c.joinPolicy,
            c.federation,
            String(c.members),
            String(c.threads),
          ]);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      if (rows.length === 0) {
        io.stdout.write("no communities yet; create one with: kindred community create <slug> --name <name>\n");
        return;
      }
      io.stdout.write(table(["SLUG", "NAME", "VISIBILITY", "JOIN", "FEDERATION", "MEMBERS", "THREADS"], rows));
    },
  }),
];
