// Drives Debian's Chromium (through playwright-core) on a page of the Go
// test server, for the Go interop tests. Usage: node js/browser.mjs URL
//
// Like client.mjs, it reads commands on stdin and prints reports on stdout,
// one JSON object per line; every report has "c": "page".
//
// Commands:
//   {"op":"type","text":"…"}      types text in #m and presses Enter
//   {"op":"waitText","text":"…"}  waits for an #messages item with exactly that text
//   {"op":"waitFor","expr":"…"}   waits for a JavaScript expression to be truthy in the page
//   {"op":"eval","expr":"…"}      evaluates an expression in the page
//
// Reports: ready, loaded (with the status of /socket.io/socket.io.js),
// shown, waited, eval, console, error.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import readline from "node:readline";
import { chromium } from "playwright-core";

const url = process.argv[2];
const c = "page";

function out(report) {
  process.stdout.write(JSON.stringify({ c, ...report }) + "\n");
}

out({ t: "ready" });
process.on("unhandledRejection", (err) => {
  out({ t: "error", message: String(err && err.stack ? err.stack : err) });
  process.exit(1);
});

// A fresh profile, and the flags that keep Chromium off the network: this
// machine has no internet access, and background services would only wait.
const userDataDir = mkdtempSync(path.join(tmpdir(), "switchboard-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
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
let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  try {
    await context.close();
  } catch {}
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(code);
}

const page = context.pages()[0] || (await context.newPage());
page.setDefaultTimeout(20000);
page.on("console", (msg) => out({ t: "console", text: `${msg.type()}: ${msg.text()}` }));
page.on("pageerror", (err) => out({ t: "error", message: `page error: ${err.message}` }));

let bundleStatus = 0;
page.on("response", (res) => {
  if (new URL(res.url()).pathname === "/socket.io/socket.io.js") bundleStatus = res.status();
});
await page.goto(url);
out({ t: "loaded", n: bundleStatus, text: await page.title() });

async function handle(cmd) {
  switch (cmd.op) {
    case "type":
      await page.fill("#m", cmd.text);
      await page.press("#m", "Enter");
      return;
    case "waitText":
      await page.waitForFunction(
        (text) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent === text),
        cmd.text,
      );
      return out({ t: "shown", text: cmd.text });
    case "waitFor":
      await page.waitForFunction(cmd.expr);
      return out({ t: "waited", text: cmd.expr });
    case "eval":
      return out({ t: "eval", text: JSON.stringify(await page.evaluate(cmd.expr)) });
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  Promise.resolve()
    .then(() => handle(JSON.parse(line)))
    .catch((err) => out({ t: "error", message: String(err && err.stack ? err.stack : err) }));
});
rl.on("close", () => shutdown(0));
