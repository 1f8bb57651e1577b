// Two tabs of a headless Chromium on the chat page, one on each node, in
// one room: a message typed in either appears in both. Driven by
// playwright-core (no browser download: Debian's chromium).
//
// usage: node chat.mjs DIR ADDR1 ADDR2 CHROMIUM
//   DIR: where playwright-core is installed (DIR/node_modules) and the
//   screenshot goes (DIR/chat.png); ADDR1, ADDR2: the chat nodes.
// Exits 1 with a message if a message does not arrive within 10 s.

import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const WAIT_MS = 10_000;
const [dir, one, two, executablePath] = process.argv.slice(2);
if (!executablePath) {
  console.error("usage: node chat.mjs DIR ADDR1 ADDR2 CHROMIUM");
  process.exit(2);
}
const { chromium } = createRequire(resolve(dir, "package.json"))("playwright-core");
const room = `browser test ${process.pid}`;
const profile = mkdtempSync(join(tmpdir(), "wsup-chromium-"));

/** A tab on the page of the node at `addr`, once it has joined `room`. */
async function open(context, name, addr) {
  const page = await context.newPage();
  page.on("console", (m) => console.log(`[${name} console] ${m.text()}`));
  page.on("pageerror", (e) => console.log(`[${name} error] ${e.message}`));
  await page.goto(`http://${addr}/?room=${encodeURIComponent(room)}`, { timeout: WAIT_MS });
  await page
    .locator(`body[data-joined="${room}"]`)
    .waitFor({ timeout: WAIT_MS })
    .catch(() => { throw new Error(`${name} (${addr}) did not join "${room}" within ${WAIT_MS / 1000} s`); });
  return { name, addr, page };
}

/** Types `text` in `from` and waits until every tab of `all` shows it. */
async function say(from, all, text) {
  await from.page.fill("#text", text);
  await from.page.press("#text", "Enter");
  for (const tab of all) {
    await tab.page
      .locator("#log li")
      .getByText(text, { exact: true })
      .waitFor({ timeout: WAIT_MS })
      .catch(() => {
        throw new Error(`"${text}", typed in ${from.name}, did not appear in ${tab.name} (${tab.addr}) within ${WAIT_MS / 1000} s`);
      });
  }
  console.log(`"${text}": ${from.name} -> ${all.map((t) => t.name).join(", ")}`);
}

let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    timeout: 30_000,
    viewport: { width: 800, height: 600 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  const a = await open(context, "tab A", one);
  const b = await open(context, "tab B", two);
  await say(a, [b, a], "hello from tab A on node 1");
  await say(b, [a, b], "héllo from tab B on node 2 🎉 <b>not html</b>");
  await b.page.screenshot({ path: join(dir, "chat.png") });
  console.log(`passed; screenshot: ${join(dir, "chat.png")}`);
} catch (e) {
  console.error(`browser test FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
