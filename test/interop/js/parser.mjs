// The reference Socket.IO decoder (npm socket.io-parser, pinned in
// package.json) for the parser differential test (parser_diff_test.go).
// Each stdin line is one case, {"msgs": [{"t": text} | {"b": base64}, ...]},
// fed to a new Decoder in order; each stdout line is the outcome:
// {"packets": [{type, nsp, id, data}], "error": message, "pending": bool},
// binary values in data as {"$bin": base64}.
import readline from "node:readline";
import { Decoder } from "socket.io-parser";

function enc(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
  if (Array.isArray(v)) return v.map(enc);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, enc(x)]));
  return v;
}

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
out({ t: "ready" });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const { msgs } = JSON.parse(line);
  const d = new Decoder();
  const packets = [];
  d.on("decoded", (p) => packets.push({ type: p.type, nsp: p.nsp, id: p.id ?? null, data: enc(p.data) ?? null }));
  let error = null;
  try {
    for (const m of msgs) d.add(m.t !== undefined ? m.t : Buffer.from(m.b, "base64"));
  } catch (e) {
    error = String(e.message);
  }
  out({ t: "result", packets, error, pending: !error && d.reconstructor != null });
});
