// A remote-controlled socket.io-client for the Go interop tests.
//
// Commands arrive on stdin, one JSON object per line; everything the client
// observes goes to stdout, one JSON object per line ("reports"). Binary
// values travel as {"$bin": "<base64>"} both ways. Closing stdin closes every
// socket and exits.
//
// Commands:
//   {"op":"connect","c":"a","url":"http://host:port/nsp","opts":{...},"replies":{event: spec}}
//       A new socket named c, with its own Manager (forceNew) unless
//       "sameManagerAs" names an existing socket, whose Manager then opens
//       the namespace "nsp" on the same connection. A reply spec answers
//       events the server emits with an acknowledgement:
//       {"args":[...]} | {"echo":true} | {..., "delay": ms}. Events without a
//       spec are reported and never acknowledged. With "retryAuth", the first
//       connect_error sets socket.auth to it and calls socket.connect() at once.
//       With "authSeq" (a list), opts.auth is a function that answers the
//       i-th CONNECT with authSeq[i] (the last one from then on) and reports
//       auth_called.
//   {"op":"emit","c":"a","event":"e","args":[...],"ack":true,"seq":1,"timeout":ms,
//    "withAck":true,"volatile":true,"compress":false}
//       With "withAck" the emit is socket.emitWithAck (a Promise; a rejection
//       is reported as the ack's error); "volatile" and "compress" set those
//       flags.
//   {"op":"burst","c":"a","event":"e","count":N,"interval":ms,"binaryEvery":K}
//       emits event with i = 0…N-1 and the transport, one every interval ms
//       (every K-th with a Buffer [i&255,1,2,3] too), then reports burst_done
//   {"op":"disconnect","c":"a"}   socket.disconnect()
//   {"op":"reconnect","c":"a","auth":{...}}   socket.connect(), with new auth if given
//   {"op":"transport","c":"a"}    reports the engine's current transport (and
//       in "text" the WebSocket's negotiated extensions, in "n" the number of
//       binary WebSocket frames received, on the socket's first Manager)
//   {"op":"closeManager","c":"a"} socket.io.disconnect(): closes the Manager
//       and with it every socket on its connection
//
// Reports: ready, open, upgrade, connect, connect_error, disconnect, event,
// ack, burst_done, reconnect_attempt, reconnect_error, reconnect, transport,
// auth_called, error.
import readline from "node:readline";
import { io } from "socket.io-client";

const sockets = new Map();

function out(report) {
  // stdout is a pipe: writes are synchronous on Linux, so a report is out
  // before the test can act on it (SIGKILL, SIGSTOP).
  process.stdout.write(JSON.stringify(report) + "\n");
}

// enc turns received values into JSON: Buffers and ArrayBuffers become
// {"$bin": base64} (with "$type" telling which), functions {"$fn": true}.
function enc(v) {
  if (Buffer.isBuffer(v)) return { $bin: v.toString("base64"), $type: "Buffer" };
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64"), $type: "ArrayBuffer" };
  if (ArrayBuffer.isView(v)) {
    return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64"), $type: v.constructor.name };
  }
  if (typeof v === "function") return { $fn: true };
  if (v === undefined) return { $undefined: true };
  if (Array.isArray(v)) return v.map(enc);
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = enc(x);
    return o;
  }
  return v;
}

// dec turns command values into what the client sends: {"$bin"} → Buffer.
function dec(v) {
  if (Array.isArray(v)) return v.map(dec);
  if (v !== null && typeof v === "object") {
    if (typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = dec(x);
    return o;
  }
  return v;
}

function transportOf(s) {
  return s.io.engine && s.io.engine.transport ? s.io.engine.transport.name : null;
}

// watchManager reports the Manager's reconnection events and the engine's
// open/upgrade for socket c (the first socket made on that Manager).
function watchManager(c, s) {
  const mgr = s.io;
  const watchEngine = () => {
    const engine = mgr.engine;
    if (!engine || engine.__watched) return;
    engine.__watched = true;
    // count the binary WebSocket frames the engine receives (see "transport")
    engine.__binaryFrames = 0;
    const countFrames = (tr) => {
      if (tr && tr.ws && typeof tr.ws.on === "function") {
        tr.ws.on("message", (_data, isBinary) => { if (isBinary) engine.__binaryFrames++; });
      }
    };
    engine.on("open", () => {
      countFrames(engine.transport);
      out({ t: "open", c, transport: engine.transport.name });
    });
    engine.on("upgrade", (tr) => {
      countFrames(tr);
      out({ t: "upgrade", c, transport: tr.name });
    });
  };
  watchEngine(); // autoConnect made the engine already
  mgr.on("reconnect_attempt", (n) => {
    out({ t: "reconnect_attempt", c, n });
    setImmediate(watchEngine); // the attempt created a new engine
  });
  mgr.on("reconnect_error", (err) => out({ t: "reconnect_error", c, message: String(err && err.message) }));
  mgr.on("reconnect", (n) => out({ t: "reconnect", c, n }));
}

function connect(cmd) {
  const opts = { forceNew: true, ...(cmd.opts || {}) };
  if (cmd.authSeq) {
    let i = 0;
    opts.auth = (cb) => {
      const a = cmd.authSeq[Math.min(i, cmd.authSeq.length - 1)];
      out({ t: "auth_called", c: cmd.c, n: ++i });
      cb(a);
    };
  }
  let s;
  if (cmd.sameManagerAs) {
    const other = sockets.get(cmd.sameManagerAs);
    if (!other) throw new Error(`no socket ${cmd.sameManagerAs}`);
    s = other.io.socket(cmd.nsp, opts); // connects by itself (autoConnect)
  } else {
    s = io(cmd.url, opts);
    watchManager(cmd.c, s);
  }
  sockets.set(cmd.c, s);
  const c = cmd.c;
  const replies = cmd.replies || {};

  s.on("connect", () => out({ t: "connect", c, sid: s.id, transport: transportOf(s), eid: s.io.engine.id }));
  let retryAuth = cmd.retryAuth;
  s.on("connect_error", (err) => {
    out({ t: "connect_error", c, message: err.message, data: enc(err.data), active: s.active });
    if (retryAuth) { // as in the docs: fix the credentials and connect again, at once
      s.auth = retryAuth;
      retryAuth = null;
      s.connect();
    }
  });
  s.on("disconnect", (reason, details) =>
    out({ t: "disconnect", c, reason, active: s.active, description: details ? String(details.description || "") : "" }),
  );
  s.onAny((event, ...args) => {
    let ack = null;
    if (args.length > 0 && typeof args[args.length - 1] === "function") ack = args.pop();
    if (!cmd.quiet) out({ t: "event", c, event, args: enc(args), ack: ack !== null, transport: transportOf(s) });
    const spec = replies[event];
    if (!ack || !spec) return;
    const answer = () => (spec.echo ? ack(...args) : ack(...dec(spec.args || [])));
    if (spec.delay) setTimeout(answer, spec.delay);
    else answer();
  });
}

function emit(cmd) {
  const s = socket(cmd.c);
  const args = dec(cmd.args || []);
  let target = cmd.timeout ? s.timeout(cmd.timeout) : s;
  if (cmd.volatile) target = target.volatile;
  if (cmd.compress !== undefined) target = target.compress(cmd.compress);
  if (cmd.withAck) {
    target.emitWithAck(cmd.event, ...args).then(
      (res) => out({ t: "ack", c: cmd.c, seq: cmd.seq, error: null, args: enc([res]), transport: transportOf(s) }),
      (err) => out({ t: "ack", c: cmd.c, seq: cmd.seq, error: String(err && err.message), args: [], transport: transportOf(s) }),
    );
    return;
  }
  if (!cmd.ack) {
    target.emit(cmd.event, ...args);
    return;
  }
  target.emit(cmd.event, ...args, (...res) => {
    if (cmd.timeout) {
      const [err, ...rest] = res;
      out({ t: "ack", c: cmd.c, seq: cmd.seq, error: err ? err.message : null, args: enc(rest), transport: transportOf(s) });
    } else if (res[0] instanceof Error) { // with the retries option callbacks are error-first
      out({ t: "ack", c: cmd.c, seq: cmd.seq, error: res[0].message, args: enc(res.slice(1)), transport: transportOf(s) });
    } else {
      out({ t: "ack", c: cmd.c, seq: cmd.seq, error: null, args: enc(res), transport: transportOf(s) });
    }
  });
}

function burst(cmd) {
  const s = socket(cmd.c);
  let i = 0;
  const timer = setInterval(() => {
    if (cmd.binaryEvery && i % cmd.binaryEvery === 0) s.emit(cmd.event, i, transportOf(s), Buffer.from([i & 255, 1, 2, 3]));
    else s.emit(cmd.event, i, transportOf(s));
    if (++i === cmd.count) {
      clearInterval(timer);
      out({ t: "burst_done", c: cmd.c, n: i });
    }
  }, cmd.interval);
}

function socket(c) {
  const s = sockets.get(c);
  if (!s) throw new Error(`no socket ${c}`);
  return s;
}

function handle(cmd) {
  switch (cmd.op) {
    case "connect":
      return connect(cmd);
    case "emit":
      return emit(cmd);
    case "burst":
      return burst(cmd);
    case "disconnect":
      return socket(cmd.c).disconnect();
    case "reconnect": {
      const s = socket(cmd.c);
      if (cmd.auth) s.auth = cmd.auth;
      return s.connect();
    }
    case "transport": {
      const s = socket(cmd.c);
      const tr = s.io.engine && s.io.engine.transport;
      const ext = tr && tr.ws && typeof tr.ws.extensions === "string" ? tr.ws.extensions : "";
      const binaryFrames = s.io.engine ? s.io.engine.__binaryFrames || 0 : 0;
      return out({ t: "transport", c: cmd.c, name: transportOf(s), connected: s.connected, text: ext, n: binaryFrames });
    }
    case "closeManager":
      return socket(cmd.c).io.disconnect();
    default:
      throw new Error(`unknown op ${JSON.stringify(cmd.op)}`);
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
  if (!line.trim()) return;
  try {
    handle(JSON.parse(line));
  } catch (err) {
    out({ t: "error", message: String(err && err.stack ? err.stack : err), line: line.slice(0, 200) });
  }
});
rl.on("close", () => {
  for (const s of sockets.values()) s.disconnect();
  setTimeout(() => process.exit(0), 50);
});
process.on("uncaughtException", (err) => {
  out({ t: "error", message: String(err && err.stack ? err.stack : err) });
});

out({ t: "ready" });
