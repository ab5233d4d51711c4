// `kindred migrate`: the database schema.
import { migrateToLatest } from "../../db/migrate.ts";
import { type Command, command } from "./args.ts";

export const database: Command[] = [
  command({
    name: "migrate",
    args: "",
    summary: "Apply pending database migrations.",
    positionals: [],
    options: {},
    migrates: true,
    async run({ io, rt }) {
      const { applied } = await migrateToLatest(rt.db);
      if (applied.length === 0) io.stdout.write("database already up to date\n");
      else io.stdout.write(applied.map((name) => `applied migration ${name}\n`).join(""));
    },
  }),
];
