// Images of a post: each with its description readable by everyone (an "ALT"
// caption, as Mastodon's badge), blurred behind <details> when the post is
// sensitive (no JavaScript), and only ever served by us.
import { html } from "hono/html";
import { describedBy, fieldError, flag, type Html, hint, plural } from "./layout.ts";

/** An image as a page shows it (src/media/service.ts ShownImage). */
export interface ImageItem {
  key: string;
  /** Our address for it: never another server's. */
  src: string;
  alt: string;
  width: number | null;
  height: number | null;
  /** From a server whose media this instance refuses: its description only. */
  withheld: boolean;
}

const size = (i: ImageItem) =>
  i.width && i.height ? html` width="${String(i.width)}" height="${String(i.height)}"` : "";

function figure(i: ImageItem): Html {
  if (i.withheld)
    return html`<figure class="media-item withheld">
  <p class="media-withheld">${i.alt ? html`Image: ${i.alt}` : "An image without a description."}</p>
  <figcaption class="hint">Images from this server are not shown here (this instance's media policy).</figcaption>
</figure>`;
  const alt = i.alt
    ? html`<details class="alt-text"><summary title="Image description">ALT</summary><p>${i.alt}</p></details>`
    : "";
  return html`<figure class="media-item">
  <a href="${i.src}"><img src="${i.src}" alt="${i.alt}"${size(i)} loading="lazy"></a>
  ${alt}
</figure>`;
}

/** The post's images under its text; sensitive ones blurred until the reader opens them. */
export function gallery(images: readonly ImageItem[] | undefined, sensitive: boolean): Html | string {
  if (!images || images.length === 0) return "";
  const grid = html`<div class="media-grid media-${String(Math.min(images.length, 4))}">${images.map(figure)}</div>`;
  const shown = images.filter((i) => !i.withheld);
  if (!sensitive || shown.length === 0) return grid;
  // The blurred copies are decoration: the descriptions are read from the opened images.
  const previews = shown.map((i) => html`<img src="${i.src}" alt=""${size(i)} loading="lazy" class="blurred-image">`);
  const label = shown.length === 1 ? "Sensitive image: show" : `${shown.length} sensitive images: show`;
  return html`<details class="media sensitive">
  <summary><span class="blurred" aria-hidden="true">${previews}</span><span class="reveal">${label}</span>
  <span class="hide-label">Hide ${shown.length === 1 ? "the image" : "the images"}</span></summary>
  ${grid}
</details>`;
}

/** A marker in a list (a thread's images are seen on the thread itself). */
export const imageCount = (n: number | undefined) => (n ? html` · <span class="tag">${plural(n, "image")}</span>` : "");

/** Up to `free` new image fields, each with its required description. */
export function imageFields(
  idPrefix: string,
  free: number,
  state: { values?: Record<string, string>; errors?: Record<string, string> } | undefined,
  sensitive: boolean,
): Html {
  const e = state?.errors;
  const fields = Array.from({ length: Math.max(0, free) }, (_, i) => {
    const n = i + 1;
    const [file, alt] = [`image${n}`, `alt${n}`];
    return html`<div class="image-field">
  <label for="${idPrefix}-${file}">Image ${n} ${hint("JPEG, PNG, GIF, WebP or AVIF")}</label>
  <input type="file" id="${idPrefix}-${file}" name="${file}" accept="image/*"${describedBy(e, file)}>
  ${fieldError(e, file)}
  <label for="${idPrefix}-${alt}">Description of image ${n} ${hint("required with an image: what it shows")}</label>
  <textarea id="${idPrefix}-${alt}" name="${alt}" rows="2" maxlength="1500"${describedBy(e, alt)}
  >${state?.values?.[alt] ?? ""}</textarea>
  ${fieldError(e, alt)}
</div>`;
  });
  const open = Boolean(e && Object.keys(e).some((k) => /^(image|alt)\d|^images$/.test(k)));
  return html`<details class="image-fields"${flag("open", open)}><summary>Add images</summary>
  ${fieldError(e, "images")}
  ${fields}
  <label class="check"><input type="checkbox" name="sensitive" value="1"${flag("checked", sensitive)}>
  Sensitive images: blur them until opened</label>
</details>`;
}

/** The edit form's images: each description editable, each removable. */
export function existingImageFields(images: readonly ImageItem[], errors: Record<string, string> | undefined): Html {
  if (images.length === 0) return html``;
  const items = images.map(
    (i) => html`<li class="image-field">
  <img src="${i.src}" alt=""${size(i)} loading="lazy" class="thumb">
  <label for="alt-${i.key}">Description</label>
  <textarea id="alt-${i.key}" name="alt-${i.key}" rows="2" maxlength="1500" required>${i.alt}</textarea>
  ${fieldError(errors, `alt-${i.key}`)}
  <label class="check"><input type="checkbox" name="remove-${i.key}" value="1"> Remove this image</label>
</li>`,
  );
  return html`<fieldset><legend>Images</legend><ul class="plain existing-images">${items}</ul></fieldset>`;
}
