import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });
const text = readFileSync(0, "utf8");
const blocks = [...text.matchAll(/```mermaid\n([\s\S]*?)```/g)].map((m) => m[1]);
let failed = 0;
for (const [i, block] of blocks.entries()) {
  try { await mermaid.parse(block); console.log(`block ${i + 1}: ok`); }
  catch (e) { failed++; console.log(`block ${i + 1}: ${String(e.message || e).split("\n").slice(0, 4).join(" | ")}`); }
}
console.log(`${blocks.length} block(s), ${failed} failed`);
process.exit(failed ? 1 : 0);
