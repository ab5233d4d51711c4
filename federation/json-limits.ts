// Bounds on JSON from other servers, checked before any JSON-LD processing:
// the cost of expanding a document grows with its nesting and its size, so a
// body past these limits is refused with a reason, never processed. The
// limits sit far above what real servers send (the deepest of 124 captured
// payloads from 14 servers nests 8 levels).

export interface JsonLimits {
  /** Nesting of objects and arrays. */
  maxDepth: number;
  /** Items in one array (a post's tags, a collection page). */
  maxArrayLength: number;
  /** Objects, arrays and values in the whole document. */
  maxNodes: number;
}

export const JSON_LIMITS: JsonLimits = { maxDepth: 32, maxArrayLength: 20_000, maxNodes: 200_000 };

/** A body or document we will not process, with the reason other servers' admins can read. */
export class JsonLimitError extends Error {
  override name = "JsonLimitError";
}

/** Parses `text`, then checks it against `limits`; throws JsonLimitError naming the first problem. */
export function parseBoundedJson(text: string, limits: JsonLimits = JSON_LIMITS): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Also what a nesting too deep for the parser itself ends in.
    throw new JsonLimitError("the body is not valid JSON");
  }
  checkJsonLimits(value, limits);
  return value;
}

/** Walks `value` without recursion (so no depth can overflow the stack) and checks it against `limits`. */
export function checkJsonLimits(value: unknown, limits: JsonLimits = JSON_LIMITS): void {
  const stack: [unknown, number][] = [[value, 1]];
  let nodes = 0;
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [v, depth] = next;
    if (++nodes > limits.maxNodes) throw new JsonLimitError(`the document has more than ${limits.maxNodes} values`);
    if (v === null || typeof v !== "object") continue;
    if (depth > limits.maxDepth) throw new JsonLimitError(`the document nests deeper than ${limits.maxDepth} levels`);
    if (Array.isArray(v)) {
      if (v.length > limits.maxArrayLength)
        throw new JsonLimitError(`an array has more than ${limits.maxArrayLength} items`);
      for (const item of v) stack.push([item, depth + 1]);
    } else {
      for (const item of Object.values(v)) stack.push([item, depth + 1]);
    }
  }
}
