// Images in posts through the real app over real HTTP (issue 12): uploads are
// re-encoded (EXIF and GPS gone, at most 2048 px), every image needs its
// description, bad uploads leave nothing behind, sensitive posts blur their
// images, deletion and erasure remove the files, and exports carry them.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalUser } from "../../src/accounts/service.ts";
import { newId } from "../../src/ids.ts";
import { sweepDeletedMedia } from "../../src/media/upkeep.ts";
import { blockDomain } from "../../src/policy/service.ts";
import { unpackArchive } from "../helpers/archive.ts";
import { runMain } from "../helpers/cli.ts";
import type { WebClient } from "../helpers/client.ts";
import { dialects } from "../helpers/databases.ts";
import { startTestInstance, type TestInstance } from "../helpers/instance.ts";
import {
  alertText,
  countRows,
  element,
  loggedIn,
  PASSWORD,
  postOnOwnConnection,
  seedCommunity,
  seedUser,
  unescapeHtml,
} from "../helpers/seed.ts";
import { seedRemoteActor } from "../policy/support.ts";

const CAMERA = "KindredTestCamera";

/** A 3000×2000 photo carrying a camera make and a GPS position, as a phone writes them. */
async function gpsJpeg(): Promise<Buffer> {
  const photo = await sharp({
    create: { width: 3000, height: 2000, channels: 3, background: { r: 40, g: 120, b: 180 } },
  })
    .jpeg()
    .withExif({ IFD0: { Make: CAMERA }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1" } })
    .toBuffer();
  // The fixture itself must carry what the upload has to lose.
  expect((await sharp(photo).metadata()).exif).toBeDefined();
  expect(photo.includes(CAMERA)).toBe(true);
  return photo;
}

const smallPng = (color: { r: number; g: number; b: number }) =>
  sharp({ create: { width: 40, height: 30, channels: 3, background: color } })
    .png()
    .toBuffer();

const POST_PATH = /^\/posts\/([0-9a-f-]{36})(?:#post-([0-9a-f-]{36}))?$/;

/** The <img> tags of a page's post images (the ones in figures, not the blurred copies). */
const figureImages = (html: string) =>
  [...html.matchAll(/<figure class="media-item">\s*<a href="[^"]+"><img ([^>]*)>/g)].map((m) => {
    const attr = (name: string) => {
      const v = new RegExp(`\\b${name}="([^"]*)"`).exec(m[1]!)?.[1];
      return v === undefined ? undefined : unescapeHtml(v);
    };
    return { src: attr("src")!, alt: attr("alt"), width: attr("width"), height: attr("height"), tag: m[0] };
  });

describe.each(dialects)("images in posts over HTTP (%s)", (dialect) => {
  let instance: TestInstance;
  let writer: LocalUser;
  let writerWeb: WebClient;
  let readerWeb: WebClient;

  beforeAll(async () => {
    // 1 MiB uploads keep the "too large" files small.
    instance = await startTestInstance({ dialect, env: { MEDIA_MAX_MB: "1" } });
    const admin = await seedUser(instance, "admin_img", { role: "admin" });
    writer = await seedUser(instance, "snapper");
    await seedUser(instance, "viewer");
    await seedCommunity(instance, admin, { slug: "photos", name: "Photos" });
    [writerWeb, readerWeb] = await Promise.all([loggedIn(instance, "snapper"), loggedIn(instance, "viewer")]);
    for (const web of [writerWeb, readerWeb]) expect((await web.post("/@photos/join", {})).status).toBe(303);
  });
  afterAll(async () => {
    await instance?.stop();
  });

  const postsDir = () => join(instance.config.dataDir, "media", "posts");
  const storedFiles = () => (existsSync(postsDir()) ? readdirSync(postsDir()).sort() : []);
  const page = (web: WebClient, path: string) => web.get(path, { accept: "text/html" });

  /** Posts a new thread through the form; `images` are [file, alt] pairs as image1/alt1… */
  async function submitThread(
    web: WebClient,
    fields: Record<string, string>,
    images: [Blob | File, string][],
  ): Promise<Response & { text: string }> {
    await page(web, "/@photos/submit");
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    images.forEach(([file, alt], i) => {
      form.set(`image${i + 1}`, file, file instanceof File ? file.name : `photo${i + 1}.jpg`);
      form.set(`alt${i + 1}`, alt);
    });
    return web.postMultipart("/@photos/submit", form);
  }

  const jpegFile = async () => new File([new Uint8Array(await gpsJpeg())], "clinic.jpg", { type: "image/jpeg" });

  it("an uploaded JPEG with GPS EXIF comes back without it, at most 2048 px, with its description", async () => {
    const res = await submitThread(writerWeb, { title: "My new waiting room", body: "Look at it." }, [
      [await jpegFile(), "A bright waiting room with blue chairs"],
    ]);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const postId = POST_PATH.exec(res.headers.get("location") ?? "")?.[1];
    expect(postId).toBeDefined();

    // Anyone reading the public thread sees the image, served by us, described.
    const thread = await page(readerWeb, `/posts/${postId}`);
    const [img, ...others] = figureImages(thread.text);
    expect(others).toEqual([]);
    expect(img?.src).toMatch(/^\/media\/[A-Za-z0-9_-]{16,64}\.jpg$/);
    expect(img?.alt).toBe("A bright waiting room with blue chairs");
    expect([img?.width, img?.height]).toEqual(["2048", "1365"]);
    expect(img?.tag).toContain('loading="lazy"');
    expect(thread.text).toContain(
      '<details class="alt-text"><summary title="Image description">ALT</summary>' +
        "<p>A bright waiting room with blue chairs</p></details>",
    );

    const served = await fetch(new URL(img!.src, instance.url));
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("image/jpeg");
    const bytes = Buffer.from(await served.arrayBuffer());
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.format).toBe("jpeg");
    expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(2048);
    expect(bytes.includes(CAMERA)).toBe(false);
    expect(bytes.includes("GPS")).toBe(false);
    // The file on disk is the same re-encoded copy.
    expect(storedFiles()).toContain(img!.src.slice("/media/".length));
  });

  /** A refused upload: a 4xx with the reason, no new post and no new file. */
  async function expectRefused(
    images: [Blob | File, string][],
    status: number,
    reason: RegExp,
    fieldError?: string,
  ): Promise<void> {
    const postsBefore = await countRows(instance, "posts");
    const filesBefore = storedFiles();
    const res = await submitThread(writerWeb, { title: "Refused upload", body: "" }, images);
    expect(res.status, res.text.slice(0, 300)).toBe(status);
    expect(alertText(res.text)).toMatch(reason);
    if (fieldError) expect(res.text).toContain(fieldError);
    expect(await countRows(instance, "posts")).toBe(postsBefore);
    expect(storedFiles()).toEqual(filesBefore);
  }

  it("refuses an image without a description, and stores nothing", async () => {
    await expectRefused(
      [
        [await jpegFile(), "A described photo"],
        [new File([new Uint8Array(await smallPng({ r: 1, g: 2, b: 3 }))], "b.png"), "   "],
      ],
      422,
      /^alt2: describe the image/,
      '<p class="error" id="alt2-error" role="alert">',
    );
  });

  it("refuses a text file named .jpg", async () => {
    await expectRefused(
      [[new File(["these are my notes, not a photo\n"], "notes.jpg", { type: "image/jpeg" }), "Notes"]],
      422,
      /^image1: must be a JPEG, PNG, GIF, WebP or AVIF image$/,
      '<p class="error" id="image1-error" role="alert">',
    );
  });

  it("refuses an image over MEDIA_MAX_MB (422), and a form over four of them (413), with reasons", async () => {
    const padded = Buffer.concat([await gpsJpeg(), Buffer.alloc(1024 * 1024 + 10)]);
    await expectRefused(
      [[new File([new Uint8Array(padded)], "big.jpg", { type: "image/jpeg" }), "Big"]],
      422,
      /^image1: must be at most 1 MiB$/,
    );

    // Past the form's limit the body is refused before it is read.
    const postsBefore = await countRows(instance, "posts");
    await page(writerWeb, "/@photos/submit");
    const form = new FormData();
    form.set("_csrf", writerWeb.csrf);
    form.set("title", "Far too big");
    form.set("image1", new File([new Uint8Array(6 * 1024 * 1024)], "huge.jpg", { type: "image/jpeg" }));
    form.set("alt1", "Huge");
    const request = new Request(instance.url, { method: "POST", body: form });
    const res = await postOnOwnConnection(
      new URL("/@photos/submit", instance.url).href,
      {
        "content-type": request.headers.get("content-type")!,
        cookie: `kindred_session=${writerWeb.cookie("kindred_session")}`,
      },
      new Uint8Array(await request.arrayBuffer()),
    );
    expect(res.status).toBe(413);
    expect(unescapeHtml(res.text)).toContain("the form is too large: at most 4 images of 1 MiB each");
    expect(await countRows(instance, "posts")).toBe(postsBefore);

    // The 1 MiB limit of every other form still holds.
    const other = await postOnOwnConnection(
      new URL("/settings/password", instance.url).href,
      {
        "content-type": request.headers.get("content-type")!,
        cookie: `kindred_session=${writerWeb.cookie("kindred_session")}`,
      },
      new Uint8Array(2 * 1024 * 1024),
    );
    expect(other.status).toBe(413);
  });

  it("refuses five images", async () => {
    const png = new Uint8Array(await smallPng({ r: 9, g: 9, b: 9 }));
    await expectRefused(
      Array.from({ length: 5 }, (_, i) => [new File([png], `p${i}.png`, { type: "image/png" }), `Picture ${i}`]),
      422,
      /^images: at most 4 to a post$/,
    );
  });

  it("shows a sensitive post's images blurred until opened, without JavaScript", async () => {
    const png = new File([new Uint8Array(await smallPng({ r: 200, g: 0, b: 0 }))], "rash.png", { type: "image/png" });
    const res = await submitThread(writerWeb, { title: "Rash after the new cream", sensitive: "1" }, [
      [png, "A red rash on a forearm"],
    ]);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const thread = await page(readerWeb, res.headers.get("location")!);
    const box = element(thread.text, '<details class="media sensitive">');
    expect(box, "the images sit in a closed <details>").toBeDefined();
    expect(box).toMatch(/<summary><span class="blurred" aria-hidden="true"><img src="\/media\/[^"]+" alt=""/);
    expect(box).toContain("Sensitive image: show");
    expect(figureImages(box!).map((i) => i.alt)).toEqual(["A red rash on a forearm"]);

    // A content warning blurs them too; a reply takes images like a thread.
    const threadId = POST_PATH.exec(res.headers.get("location")!)?.[1];
    const form = new FormData();
    form.set("body", "Mine looked like this.");
    form.set("cw", "skin");
    form.set("image1", new File([new Uint8Array(await smallPng({ r: 180, g: 20, b: 20 }))], "m.png"));
    form.set("alt1", "Another red patch of skin");
    const reply = await readerWeb.postMultipart(`/posts/${threadId}/replies`, form);
    expect(reply.status, reply.text.slice(0, 300)).toBe(303);
    const replyId = POST_PATH.exec(reply.headers.get("location")!)?.[2];
    const after = await page(writerWeb, `/posts/${threadId}`);
    const replyBox = element(element(after.text, `<li id="post-${replyId}">`)!, '<details class="media sensitive">');
    expect(figureImages(replyBox!).map((i) => i.alt)).toEqual(["Another red patch of skin"]);
  });

  it("lets the author describe again, remove and add images when editing", async () => {
    const [a, b] = await Promise.all([smallPng({ r: 0, g: 200, b: 0 }), smallPng({ r: 0, g: 0, b: 200 })]);
    const res = await submitThread(writerWeb, { title: "Two pictures" }, [
      [new File([new Uint8Array(a)], "a.png"), "Green square"],
      [new File([new Uint8Array(b)], "b.png"), "Blue square"],
    ]);
    expect(res.status, res.text.slice(0, 300)).toBe(303);
    const postId = POST_PATH.exec(res.headers.get("location") ?? "")?.[1] ?? "";
    const before = figureImages((await page(writerWeb, `/posts/${postId}`)).text);
    expect(before.map((i) => i.alt)).toEqual(["Green square", "Blue square"]);
    const [green, blue] = before.map((i) => i.src.replace(/^\/media\/|\.(jpg|png)$/g, ""));

    const editForm = await page(writerWeb, `/posts/${postId}/edit`);
    expect(editForm.text).toContain(`name="alt-${green}"`);
    expect(editForm.text).toContain(`name="remove-${blue}"`);
    expect(editForm.text).toContain('enctype="multipart/form-data"');

    const form = new FormData();
    form.set("title", "Two pictures, edited");
    form.set("body", "");
    form.set(`alt-${green}`, "A green square, slightly faded");
    form.set(`alt-${blue}`, "Blue square");
    form.set(`remove-${blue}`, "1");
    form.set("image1", new File([new Uint8Array(await smallPng({ r: 250, g: 250, b: 0 }))], "c.png"));
    form.set("alt1", "Yellow square");
    const edit = await writerWeb.postMultipart(`/posts/${postId}/edit`, form);
    expect(edit.status, edit.text.slice(0, 300)).toBe(303);
    const after = figureImages((await page(readerWeb, `/posts/${postId}`)).text);
    expect(after.map((i) => i.alt)).toEqual(["A green square, slightly faded", "Yellow square"]);
    expect(after[0]!.src).toBe(before[0]!.src);
    // The removed image is gone at once; its file goes with the sweep.
    expect((await fetch(new URL(before[1]!.src, instance.url))).status).toBe(404);
    await sweepDeletedMedia(instance.runtime);
    expect(storedFiles()).not.toContain(before[1]!.src.slice("/media/".length));

    // An edit that would leave an image undescribed changes nothing.
    const blank = new FormData();
    blank.set("title", "Blanked");
    blank.set("body", "");
    blank.set(`alt-${green}`, "  ");
    const refused = await writerWeb.postMultipart(`/posts/${postId}/edit`, blank);
    expect(refused.status).toBe(422);
    expect(figureImages((await page(readerWeb, `/posts/${postId}`)).text)[0]?.alt).toBe(
      "A green square, slightly faded",
    );
  });

  it("deleting the post makes its image 404 at once, and `kindred media prune` removes the file", async () => {
    const res = await submitThread(writerWeb, { title: "Short-lived" }, [[await jpegFile(), "A photo I regret"]]);
    const postId = POST_PATH.exec(res.headers.get("location")!)?.[1];
    const [img] = figureImages((await page(writerWeb, `/posts/${postId}`)).text);
    const file = img!.src.slice("/media/".length);
    expect((await fetch(new URL(img!.src, instance.url))).status).toBe(200);

    await page(writerWeb, `/posts/${postId}/delete`);
    expect((await writerWeb.post(`/posts/${postId}/delete`, {})).status).toBe(303);
    expect((await fetch(new URL(img!.src, instance.url))).status).toBe(404);
    expect(await countRows(instance, "media_deletions")).toBeGreaterThan(0);

    const cli = await runMain(
      { DATABASE_URL: instance.config.databaseUrl, DATA_DIR: instance.config.dataDir, ORIGIN: instance.url },
      ["media", "prune"],
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^pruned 0 cached remote images\nremoved [1-9]\d* files of deleted images\n$/);
    expect(storedFiles()).not.toContain(file);
    expect(await countRows(instance, "media_deletions")).toBe(0);
  });

  it("shows a direct message's image to its recipient", async () => {
    await page(writerWeb, "/messages/viewer");
    const form = new FormData();
    form.set("body", "This is the letter from the clinic.");
    form.set("image1", await jpegFile());
    form.set("alt1", "A letter with the clinic's letterhead");
    const sent = await writerWeb.postMultipart("/messages/viewer", form);
    expect(sent.status, sent.text.slice(0, 300)).toBe(303);
    const inbox = await page(readerWeb, "/messages/snapper");
    const [img] = figureImages(inbox.text);
    expect(img?.alt).toBe("A letter with the clinic's letterhead");
    const served = await fetch(new URL(img!.src, instance.url));
    expect(served.status).toBe(200);
    expect((await sharp(Buffer.from(await served.arrayBuffer())).metadata()).exif).toBeUndefined();
  });

  it("puts the member's images in their export archive, with a listing", async () => {
    const { writeArchive } = await import("../../src/export/archive.ts");
    const out = join(instance.config.dataDir, "test-archive.tar.gz");
    await writeArchive(
      {
        db: instance.runtime.db,
        origin: instance.url,
        dataDir: instance.config.dataDir,
        archive: instance.runtime.archive!,
        media: instance.runtime.media,
      },
      writer.actorId,
      out,
    );
    const archive = await unpackArchive(out);
    const listing = archive.json("media_attachments.json") as {
      orderedItems: { file: string; url: string; name: string; mediaType: string }[];
    };
    const alts = listing.orderedItems.map((i) => i.name);
    expect(alts).toContain("A bright waiting room with blue chairs");
    expect(alts).toContain("A letter with the clinic's letterhead");
    // Deleted posts' and removed images are not in it.
    expect(alts).not.toContain("A photo I regret");
    expect(alts).not.toContain("Blue square");
    for (const item of listing.orderedItems) {
      const served = await fetch(new URL(new URL(item.url).pathname, instance.url));
      expect(served.status).toBe(200);
      expect(archive.bytes(item.file)).toEqual(Buffer.from(await served.arrayBuffer()));
    }
    expect(archive.text("README.html")).toContain("media_attachments.json");
  });

  it("shows another server's image through our address, and only its description once that server's media is rejected", async () => {
    const db = instance.runtime.db;
    const res = await submitThread(writerWeb, { title: "Blood pressure charts" }, []);
    const threadId = POST_PATH.exec(res.headers.get("location")!)?.[1] ?? "";
    const thread = await db
      .selectFrom("posts")
      .select(["community_id", "iri"])
      .where("id", "=", threadId)
      .executeTakeFirstOrThrow();
    // A reply from another server, with an image, as the inbox stores one.
    const carer = await seedRemoteActor(db, "withheld.example", "carer");
    const replyId = newId();
    const ts = new Date().toISOString();
    await db
      .insertInto("posts")
      .values({
        id: replyId,
        iri: `https://withheld.example/notes/${replyId}`,
        url: null,
        type: "Note",
        author_id: carer,
        community_id: thread.community_id,
        parent_id: threadId,
        thread_id: threadId,
        title: null,
        source: null,
        content_html: "<p>Mine over a week.</p>",
        summary: null,
        sensitive: 0,
        audience: "public",
        language: null,
        local: 0,
        published_at: ts,
        updated_at: null,
        deleted_at: null,
        removed_at: null,
        removed_by: null,
        locked: 0,
        pinned_at: null,
        created_at: ts,
      })
      .execute();
    const key = "remoteImageKey0123456789";
    await db
      .insertInto("media")
      .values({
        id: newId(),
        key,
        post_id: replyId,
        position: 0,
        local: 0,
        remote_url: "https://withheld.example/files/chart.png",
        file: null,
        media_type: "image/png",
        alt: "A line chart of blood pressure over seven days",
        width: 800,
        height: 600,
        bytes: null,
        created_at: ts,
        fetched_at: null,
        failed_at: null,
      })
      .execute();

    const before = await page(readerWeb, `/posts/${threadId}`);
    const reply = element(before.text, `<li id="post-${replyId}">`)!;
    expect(figureImages(reply)).toEqual([
      expect.objectContaining({ src: `/media/remote/${key}`, alt: "A line chart of blood pressure over seven days" }),
    ]);
    // The reader's browser is never sent to the other server.
    expect(before.text).not.toContain("withheld.example/files");

    await blockDomain(db, { domain: "withheld.example", severity: "noop", rejectMedia: true });
    await instance.runtime.policy.refresh();
    const after = element((await page(readerWeb, `/posts/${threadId}`)).text, `<li id="post-${replyId}">`)!;
    expect(figureImages(after)).toEqual([]);
    expect(after).not.toContain(`/media/remote/${key}`);
    expect(after).toContain("Image: A line chart of blood pressure over seven days");
    expect(after).toContain("not shown here");
  });

  it("erasing an account leaves none of its image files on disk", async () => {
    await seedUser(instance, "leaver");
    const leaverWeb = await loggedIn(instance, "leaver");
    expect((await leaverWeb.post("/@photos/join", {})).status).toBe(303);
    const res = await submitThread(leaverWeb, { title: "Before I go" }, [[await jpegFile(), "My street"]]);
    const postId = POST_PATH.exec(res.headers.get("location")!)?.[1];
    const reply = new FormData();
    reply.set("body", "And my garden.");
    reply.set("image1", new File([new Uint8Array(await smallPng({ r: 0, g: 90, b: 0 }))], "g.png"));
    reply.set("alt1", "A garden");
    expect((await leaverWeb.postMultipart(`/posts/${postId}/replies`, reply)).status).toBe(303);
    const files = figureImages((await page(leaverWeb, `/posts/${postId}`)).text).map((i) =>
      i.src.slice("/media/".length),
    );
    expect(files).toHaveLength(2);
    for (const f of files) expect(storedFiles()).toContain(f);

    await page(leaverWeb, "/settings/erase");
    const erased = await leaverWeb.post("/settings/erase", { password: PASSWORD, confirm: "yes", mode: "delete" });
    expect(erased.status, erased.text.slice(0, 300)).toBe(303);
    await sweepDeletedMedia(instance.runtime);
    for (const f of files) expect(storedFiles()).not.toContain(f);
    expect(await countRows(instance, "media_deletions")).toBe(0);
  });
});
