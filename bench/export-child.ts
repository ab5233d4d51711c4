// One export in a process of its own, so its peak RSS (the kernel's high-water
// mark, `maxRSS`) is the export's alone, not the bench's: prints the figures as JSON.
import { exportBench } from "./export.ts";

const posts = Number(process.argv[2] ?? 20_000);
const before = process.memoryUsage().rss;
const figures = await exportBench(posts);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ ...figures, startRssMiB: before / 2 ** 20, processPeakRssMiB: peakRssMiB }));
