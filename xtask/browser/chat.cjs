// The chat example in a real browser: two tabs of headless Chromium, one
// on each of two chat nodes joined through Redis, in one room; a message
// typed in one tab appears in the other, both ways.
//
// node chat.cjs URL_A URL_B SCREENSHOT.png   (playwright-core on NODE_PATH)
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const [urlA, urlB, screenshot] = process.argv.slice(2);
const ROOM = "browsers";
const WAIT = 10000;

async function open(context, url) {
  const page = await context.newPage();
  await page.goto(`${url}/?room=${ROOM}`, { timeout: WAIT });
  await page.waitForSelector(`body[data-joined="${ROOM}"]`, { timeout: WAIT });
  // Joined on the server too (the 101 comes before the subscription).
  const deadline = Date.now() + WAIT;
  for (;;) {
    const members = await page.evaluate(async (room) => {
      const r = await fetch(`/presence?room=${encodeURIComponent(room)}`);
      return (await r.json()).members;
    }, ROOM);
    if (members >= 1) break;
    if (Date.now() > deadline) throw new Error(`${url}: never joined ${ROOM}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return page;
}

async function say(from, to, text) {
  await from.fill("#text", text);
  await from.click("#say button");
  for (const [page, name] of [[to, "the other tab"], [from, "the sender's tab"]]) {
    await page
      .locator("#log li", { hasText: text })
      .first()
      .waitFor({ timeout: WAIT })
      .catch(() => {
        throw new Error(`"${text}" did not appear in ${name}`);
      });
  }
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "wsup-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  });
  try {
    const a = await open(context, urlA);
    const b = await open(context, urlB);
    await say(a, b, `hello from tab A, node ${urlA}`);
    await say(b, a, `hello from tab B, node ${urlB} ✓`);
    await a.screenshot({ path: screenshot });
    console.log("browser: both messages crossed between the nodes");
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})().catch((e) => {
  console.error(`browser test failed: ${e.message}`);
  process.exit(1);
});
