// Drives Debian's Chromium (through playwright-core) on the real chat
// program, for the Go interop tests: several users, each in a browser
// context of their own (their own cookies), like separate browsers.
// Usage: node js/chat-browser.mjs BASE_URL
//
// Like client.mjs, it reads commands on stdin and prints reports on stdout,
// one JSON object per line; "c" names the user (context). Commands:
//   {"op":"open","c":"alice","width":1280,"height":800,"url":"…","cookie":"name=value"}
//       a new context with that viewport (and that cookie of BASE_URL), its
//       page at url (default BASE_URL/)
//   {"op":"tab","c":"alice-2","of":"alice","path":"/chat"}
//       another page (tab) in alice's context, at BASE_URL + path
//   {"op":"register","c":"alice","username":"…","password":"…"}
//       fills the "Create an account" form of / and submits it; waits for /chat
//   {"op":"send","c":"alice","text":"…"}      types text in #m and submits the form (Enter)
//   {"op":"click","c":"alice","selector":"…","url":"**/path"}
//       clicks the element, then waits for the page to be at url (if given)
//   {"op":"waitText","c":"alice","selector":"#num-users","text":"…"}
//       waits until the element's trimmed textContent is text
//   {"op":"waitItem","c":"alice","text":"…"}  waits for an #messages item with exactly that text
//   {"op":"waitFor","c":"alice","expr":"…"}   waits until the expression is truthy in the page
//   {"op":"eval","c":"alice","expr":"…"}      evaluates an expression in the page
//   {"op":"viewport","c":"alice","width":390,"height":844}
//   {"op":"screenshot","c":"alice","path":"/abs/file.png"}
//   {"op":"offline","c":"alice","offline":true}  cuts alice's context off the network (or back on)
//   {"op":"close","c":"alice"}                closes the tab, and the context if opened by "open"
//
// Reports: ready, opened (n: the status, data: {csp: the page's
// Content-Security-Policy header}), registered, sent, clicked, shown, eval,
// viewport, screenshot, offline, closed, console (the page's console
// messages; a content security policy violation is one too), http (a
// response with an error status: n the status, text the method and URL),
// error.
import readline from "node:readline";
import { chromium } from "playwright-core";

const base = process.argv[2];
// How long a page waits for something to show before it reports an error:
// generous, for a busy machine running the race-enabled server (the Go side
// waits a little longer, to receive that error).
const WAIT_MS = 45000;

function out(report) {
  process.stdout.write(JSON.stringify(report) + "\n");
}

process.on("unhandledRejection", (err) => {
  out({ t: "error", message: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});

// The flags that keep Chromium off the network: this machine has no
// internet access, and background services would only wait.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
out({ t: "ready" });

const pages = new Map(); // c → {context, page, tab}

async function newPage(c, context, url, tab) {
  const pg = await context.newPage();
  pg.setDefaultTimeout(WAIT_MS);
  pg.on("console", (msg) => out({ t: "console", c, text: `${msg.type()}: ${msg.text()}` }));
  // Which request an error status answered (the console says only the status).
  pg.on("response", (res) => {
    if (res.status() >= 400) out({ t: "http", c, n: res.status(), text: `${res.request().method()} ${res.url()}` });
  });
  pg.on("pageerror", (err) => out({ t: "error", c, message: `page error: ${err.message}` }));
  await pg.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} by ${e.blockedURI || "inline code"} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  pages.set(c, { context, page: pg, tab });
  const res = await pg.goto(url);
  const csp = res ? (await res.allHeaders())["content-security-policy"] || "" : "";
  return out({ t: "opened", c, n: res ? res.status() : 0, text: await pg.title(), data: { csp } });
}

function page(c) {
  const p = pages.get(c);
  if (!p) throw new Error(`no page ${c}`);
  return p.page;
}

async function handle(cmd) {
  const c = cmd.c;
  switch (cmd.op) {
    case "open": {
      const context = await browser.newContext({ viewport: { width: cmd.width || 1280, height: cmd.height || 800 } });
      if (cmd.cookie) {
        const eq = cmd.cookie.indexOf("=");
        await context.addCookies([{ name: cmd.cookie.slice(0, eq), value: cmd.cookie.slice(eq + 1), url: base }]);
      }
      if (cmd.hidden) { // as a page that loads in a tab behind another
        await context.addInitScript(() => {
          Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
        });
      }
      return newPage(c, context, cmd.url || base + "/", false);
    }
    case "tab": {
      const owner = pages.get(cmd.of);
      if (!owner) throw new Error(`no page ${cmd.of}`);
      return newPage(c, owner.context, base + cmd.path, true);
    }
    case "register": {
      const pg = page(c);
      const form = pg.locator('form[action="/register"]');
      await form.locator('input[name="username"]').fill(cmd.username);
      await form.locator('input[name="password"]').fill(cmd.password);
      await Promise.all([pg.waitForURL("**/chat"), form.locator('button[type="submit"]').click()]);
      return out({ t: "registered", c, text: new URL(pg.url()).pathname });
    }
    case "fill": { // types into the message box without sending
      await page(c).fill("#m", cmd.text);
      return out({ t: "filled", c, text: cmd.text });
    }
    case "send": {
      const pg = page(c);
      await pg.fill("#m", cmd.text);
      await pg.press("#m", "Enter");
      return out({ t: "sent", c, text: cmd.text });
    }
    case "click": {
      const pg = page(c);
      await Promise.all([cmd.url ? pg.waitForURL(cmd.url) : null, pg.click(cmd.selector)]);
      return out({ t: "clicked", c, text: pg.url() });
    }
    case "waitText":
      await page(c).waitForFunction(
        ([sel, text]) => {
          const el = document.querySelector(sel);
          return el !== null && el.textContent.trim() === text;
        },
        [cmd.selector, cmd.text],
      );
      return out({ t: "shown", c, text: cmd.text });
    case "waitItem":
      await page(c).waitForFunction(
        (text) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent === text),
        cmd.text,
      );
      return out({ t: "shown", c, text: cmd.text });
    case "waitFor": {
      // Polled from here: waitForFunction would compile the expression in
      // the page, which its content security policy forbids.
      const pg = page(c);
      const deadline = Date.now() + WAIT_MS;
      while (!(await pg.evaluate(cmd.expr))) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${cmd.expr}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return out({ t: "shown", c, text: cmd.expr });
    }
    case "offline":
      await pages.get(c).context.setOffline(Boolean(cmd.offline));
      return out({ t: "offline", c });
    case "blockSockets": {
      // Engine.IO requests (not the client bundle) of the page's browser
      // context fail as if the server could not be reached.
      const { context } = pages.get(c);
      if (cmd.block) await context.route(engineRequest, (route) => route.abort("connectionrefused"));
      else await context.unroute(engineRequest);
      return out({ t: "blocked", c });
    }
    case "eval":
      return out({ t: "eval", c, text: JSON.stringify(await page(c).evaluate(cmd.expr)) });
    case "viewport":
      await page(c).setViewportSize({ width: cmd.width, height: cmd.height });
      return out({ t: "viewport", c });
    case "screenshot":
      await page(c).screenshot({ path: cmd.path });
      return out({ t: "screenshot", c, text: cmd.path });
    case "close": {
      const p = pages.get(c);
      pages.delete(c);
      await (p.tab ? p.page.close() : p.context.close());
      return out({ t: "closed", c });
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
  }
}

// engineRequest matches the Engine.IO requests blockSockets fails.
function engineRequest(url) {
  return url.pathname === "/socket.io/" && url.searchParams.has("EIO");
}

// Commands run one at a time, in order.
let chain = Promise.resolve();
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  chain = chain
    .then(() => handle(JSON.parse(line)))
    .catch((err) => out({ t: "error", message: String(err && err.stack ? err.stack : err), line: line.slice(0, 200) }));
});
rl.on("close", () => {
  chain.finally(async () => {
    try {
      await browser.close();
    } catch {}
    process.exit(0);
  });
});
