import { describe, expect, it } from "vitest";
import {
  extractHashtags,
  extractMentions,
  htmlToText,
  renderMarkdown,
  sanitizeHtml,
} from "../../src/content/markdown.ts";

describe("Markdown and sanitizing", () => {
  it("renders Markdown and links hashtags and mentions with absolute URLs", () => {
    const html = renderMarkdown(
      "**Pacing** helps #LongCovid, ask @alice or @bob@mastodon.example",
      "https://k.example",
    );
    expect(html).toContain("<strong>Pacing</strong>");
    expect(html).toContain('<a href="https://k.example/tags/longcovid" class="hashtag"');
    expect(html).toContain('<span class="h-card"><a href="https://k.example/@alice" class="u-url mention"');
    expect(html).toContain('href="https://k.example/@bob@mastodon.example"');
  });

  it("finds tags and mentions outside code and links only", () => {
    const source = "#one `#two @code` [#three @link](https://x.example) @dora #four\n\n```\n#five @fence\n```";
    expect(extractHashtags(source)).toEqual(["one", "four"]);
    expect(extractMentions(source)).toEqual([{ username: "dora", host: null }]);
  });

  it("does not take e-mail addresses, C# or #1 for mentions or tags", () => {
    expect(extractMentions("write to me@example.org")).toEqual([]);
    expect(extractHashtags("C# and issue #1")).toEqual([]);
  });

  it("strips scripts, event handlers, styles, images and javascript: links", () => {
    const dirty = `<p onclick="x()">hi<script>alert(1)</script><img src="https://tracker.example/p.gif"><a href="javascript:alert(1)">x</a><span style="color:red" class="h-card">y</span></p>`;
    const clean = sanitizeHtml(dirty);
    expect(clean).toBe('<p>hi<a rel="nofollow noopener noreferrer">x</a><span class="h-card">y</span></p>');
  });

  it("escapes raw HTML written in Markdown", () => {
    expect(renderMarkdown("<b>bold</b>")).toBe("<p>&lt;b&gt;bold&lt;/b&gt;</p>\n");
  });

  it("turns remote HTML into plain text with entities decoded", () => {
    expect(htmlToText("<p>Fish &amp; chips &lt;3</p>")).toBe("Fish & chips <3");
  });
});
