// Draws the app and tray icons (a shield with a check) as PNGs, so resources/ needs no image tools.
// Run once after changing the design: node scripts/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function png(size, pixel) {
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) row.set(pixel(x / size, y / size), 1 + x * 4);
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
// Shield: flat top, sides curving to a point at the bottom.
function inShield(u, v) {
  if (v < 0.1 || v > 0.92) return false;
  const half = v < 0.5 ? 0.38 : 0.38 * Math.sqrt(Math.max(0, 1 - ((v - 0.5) / 0.42) ** 2));
  return Math.abs(u - 0.5) <= half;
}
function onCheck(u, v) {
  const d1 = Math.abs(v - 0.52 - (u - 0.34)) / Math.SQRT2; // down-right stroke
  const d2 = Math.abs(v - 0.66 + (u - 0.46)) / Math.SQRT2; // up-right stroke
  return (u >= 0.33 && u <= 0.47 && d1 < 0.045) || (u >= 0.45 && u <= 0.68 && d2 < 0.045);
}
// Paused: two bars where the check would be.
const onBars = (u, v) => v >= 0.36 && v <= 0.68 && ((u >= 0.38 && u <= 0.46) || (u >= 0.54 && u <= 0.62));
// Running: an arrow pointing down (a copy being written).
const onArrow = (u, v) => (Math.abs(u - 0.5) <= 0.04 && v >= 0.3 && v <= 0.62) || (v >= 0.5 && v <= 0.7 && Math.abs(u - 0.5) <= (0.7 - v) * 0.9);
const icon =
  (color, glyph = onCheck) =>
  (u, v) =>
    glyph(u, v) && inShield(u, v) ? [255, 255, 255, 255] : inShield(u, v) ? [...color, 255] : [0, 0, 0, 0];

writeFileSync('resources/icon.png', png(512, icon([36, 88, 214])));
// One per state of the tray (electron/core/tray/model.ts): colour and glyph both tell it.
writeFileSync('resources/tray-idle.png', png(32, icon([36, 88, 214])));
writeFileSync('resources/tray-running.png', png(32, icon([30, 140, 90], onArrow)));
writeFileSync('resources/tray-warning.png', png(32, icon([220, 130, 20])));
writeFileSync('resources/tray-error.png', png(32, icon([200, 40, 40])));
writeFileSync('resources/tray-paused.png', png(32, icon([120, 128, 140], onBars)));
