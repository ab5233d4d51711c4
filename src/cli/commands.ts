// Every command of the CLI, namespace by namespace, in the order `kindred help` lists them.
import type { Command } from "./args.ts";
import { communities } from "./communities.ts";
import { database } from "./database.ts";
import { domains } from "./domains.ts";
import { federation } from "./federation.ts";
import { media } from "./media.ts";
import { moderation } from "./moderation.ts";
import { posts } from "./posts.ts";
import { processes } from "./processes.ts";
import { registrations } from "./registrations.ts";
import { reports } from "./reports.ts";
import { sanctions } from "./sanctions.ts";
import { users } from "./users.ts";

export const commands: readonly Command[] = [
  ...database,
  ...users,
  ...sanctions,
  ...registrations,
  ...communities,
  ...posts,
  ...reports,
  ...moderation,
  ...domains,
  ...federation,
  ...media,
  ...processes,
];
