// `kindred media …`: the image store's upkeep, run now rather than by the background loop.
import { pruneMedia } from "../media/upkeep.ts";
import { type Command, command, wholeNumber } from "./args.ts";

const DAYS_MAX = 36_500;

export const media: Command[] = [
  command({
    name: "media prune",
    args: "[--days <n>]",
    summary:
      "Drop cached copies of other servers' images older than --days (default MEDIA_CACHE_DAYS; 0 drops all) " +
      "and remove the files of deleted images; prints the counts.",
    positionals: [],
    options: { days: { type: "string" } },
    check(values) {
      wholeNumber("--days", values.days, 0, DAYS_MAX, "days");
    },
    async run({ values, io, rt }) {
      const days = wholeNumber("--days", values.days, 0, DAYS_MAX, "days");
      const { pruned, swept } = await pruneMedia(rt, days);
      io.stdout.write(`pruned ${pruned} cached remote images\nremoved ${swept} files of deleted images\n`);
    },
  }),
];
