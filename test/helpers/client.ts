/**
 * A minimal browser stand-in for HTTP tests: keeps cookies, reads the CSRF
 * token from the last page, submits forms, never follows redirects silently.
 */
export class WebClient {
  readonly base: string;
  private cookies = new Map<string, string>();
  csrf = "";

  constructor(base: string) {
    this.base = base;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Response & { text: string }> {
    return this.request("GET", path, undefined, headers);
  }

  /** Submits a form (urlencoded), adding the CSRF token unless `csrf: false`. */
  async post(path: string, fields: Record<string, string>, options: { csrf?: boolean | string } = {}) {
    const body = new URLSearchParams(fields);
    if (options.csrf !== false) body.set("_csrf", typeof options.csrf === "string" ? options.csrf : this.csrf);
    return this.request("POST", path, body, { "content-type": "application/x-www-form-urlencoded" });
  }

  async postMultipart(path: string, form: FormData) {
    form.set("_csrf", this.csrf);
    return this.request("POST", path, form, {});
  }

  async request(method: string, path: string, body: BodyInit | undefined, headers: Record<string, string>) {
    const res = await fetch(new URL(path, this.base), {
      method,
      body,
      redirect: "manual",
      headers: { ...headers, cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, ...rest] = pair!.split("=");
      const value = rest.join("=");
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), value);
    }
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1]!;
    return Object.assign(res, { text });
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** Signs up and stays logged in. */
  async signUp(username: string, password = "correct horse battery", email = "") {
    await this.get("/signup");
    const res = await this.post("/signup", { username, password, email });
    if (res.status !== 303) throw new Error(`sign-up of ${username} failed: ${res.status} ${res.text.slice(0, 300)}`);
    return res;
  }

  async logIn(username: string, password = "correct horse battery") {
    await this.get("/login");
    return this.post("/login", { username, password });
  }
}
