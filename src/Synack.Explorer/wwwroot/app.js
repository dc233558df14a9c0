"use strict";
// The explorer's page: a lab run fetched from the server, stepped one event at a time.
// Everything is drawn here (SVG for the ladder and the state diagram); nothing is loaded from elsewhere.
const OPTION_FIELDS = ["mss", "ws", "sack", "ts", "ecn", "reorder", "cisn", "sisn"];
const SVG = "http://www.w3.org/2000/svg";
// The RFC 9293 diagram, laid out as its figure is: opening at the top, closing below.
const STATES = {
    "CLOSED": [360, 34], "LISTEN": [200, 100], "SYN-RECEIVED": [110, 180], "SYN-SENT": [610, 180],
    "ESTABLISHED": [360, 250], "FIN-WAIT-1": [110, 320], "CLOSE-WAIT": [610, 320], "CLOSING": [360, 360],
    "FIN-WAIT-2": [110, 420], "LAST-ACK": [610, 420], "TIME-WAIT": [360, 470],
};
const EDGES = [
    ["CLOSED", "LISTEN", "passive OPEN"], ["CLOSED", "SYN-SENT", "active OPEN / snd SYN"],
    ["LISTEN", "SYN-RECEIVED", "rcv SYN / snd SYN,ACK"], ["LISTEN", "SYN-SENT", "SEND / snd SYN"],
    ["SYN-SENT", "SYN-RECEIVED", "rcv SYN / snd SYN,ACK"], ["SYN-RECEIVED", "LISTEN", "rcv RST"],
    ["SYN-RECEIVED", "ESTABLISHED", "rcv ACK of SYN"], ["SYN-SENT", "ESTABLISHED", "rcv SYN,ACK / snd ACK"],
    ["SYN-RECEIVED", "FIN-WAIT-1", "CLOSE / snd FIN"], ["ESTABLISHED", "FIN-WAIT-1", "CLOSE / snd FIN"],
    ["ESTABLISHED", "CLOSE-WAIT", "rcv FIN / snd ACK"], ["FIN-WAIT-1", "FIN-WAIT-2", "rcv ACK of FIN"],
    ["FIN-WAIT-1", "CLOSING", "rcv FIN / snd ACK"], ["FIN-WAIT-1", "TIME-WAIT", "rcv FIN,ACK / snd ACK"],
    ["FIN-WAIT-2", "TIME-WAIT", "rcv FIN / snd ACK"], ["CLOSING", "TIME-WAIT", "rcv ACK of FIN"],
    ["CLOSE-WAIT", "LAST-ACK", "CLOSE / snd FIN"], ["LAST-ACK", "CLOSED", "rcv ACK of FIN"],
    ["TIME-WAIT", "CLOSED", "timeout 2 MSL"], ["SYN-SENT", "CLOSED", "CLOSE"], ["LISTEN", "CLOSED", "CLOSE"],
];
let lab = null;
let step = 0;
let absolute = false;
// A capture opened in the page: the server keeps it and sends the window of packets looked at.
let mode = "lab";
let captureId = "";
let stream = 0;
let total = 0;
const rows = new Map();
const WINDOW = 200;
function el(id) {
    const e = document.getElementById(id);
    if (!e)
        throw new Error(`no element #${id}`);
    return e;
}
function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs))
        e.setAttribute(k, String(v));
    if (text !== undefined)
        e.textContent = text;
    return e;
}
function form() {
    return {
        scenario: el("scenario").value,
        profile: el("profile").value,
        loss: Number(el("loss").value),
        latencyMs: Number(el("latency").value),
        seed: Number(el("seed").value),
        timeline: el("scenario").value === "custom" ? el("timeline").value : null,
        options: Object.fromEntries(OPTION_FIELDS.map(f => [f, document.getElementById(`opt-${f}`).value.trim()])),
    };
}
function showComposer() {
    el("composer").hidden = el("scenario").value !== "custom";
}
function query(r) {
    const q = new URLSearchParams({ scenario: r.scenario, profile: r.profile, loss: String(r.loss), latency: String(r.latencyMs), seed: String(r.seed) });
    if (r.scenario === "custom" && r.timeline !== null)
        q.set("timeline", r.timeline);
    for (const [k, v] of Object.entries(r.options ?? {}))
        if (v !== "" && v !== "profile")
            q.set(k, v);
    return q.toString();
}
async function load(r, at) {
    const res = await fetch(`api/lab?${query(r)}`);
    const body = await res.json();
    if (!res.ok) {
        el("error").textContent = body.error ?? `the server answered ${res.status}`;
        return;
    }
    el("error").textContent = "";
    lab = body;
    lab.request = r; // the page's own form of it: the URL it shares is the one it was asked with
    el("title").textContent = `${lab.note}: ${lab.title}`;
    el("description").textContent = lab.description;
    el("capture").href = `api/lab.pcapng?${query(r)}`;
    el("capture").hidden = false;
    go(Math.min(Math.max(at, 0), lab.steps.length - 1));
}
function go(i) {
    if (!lab)
        return;
    step = Math.min(Math.max(i, 0), lab.steps.length - 1);
    const s = lab.steps[step];
    const url = `?${query(lab.request)}&step=${step}`;
    history.replaceState(null, "", url);
    el("step-index").textContent = `${step + 1} of ${lab.steps.length}`;
    el("step-time").textContent = `${s.timeMs.toFixed(3)} ms`;
    el("step-kind").textContent = `${s.endpoint}: ${s.kind}`;
    el("sentence").textContent = s.sentence;
    el("client-state").textContent = s.clientState;
    el("server-state").textContent = s.serverState;
    const lit = litTransition();
    el("lit-transition").textContent = lit ? `${lit.endpoint}: ${lit.from} → ${lit.to}` : "none yet";
    tcb("client", s.client);
    tcb("server", s.server);
    bytes(s.segment);
    drawDiagram(s, lit);
    drawLadder();
    el("prev").disabled = step === 0;
    el("first").disabled = step === 0;
    el("next").disabled = step === lab.steps.length - 1;
    el("last").disabled = step === lab.steps.length - 1;
}
/** The transition of this step, or the latest one before it. */
function litTransition() {
    if (!lab)
        return null;
    for (let i = step; i >= 0; i--) {
        const s = lab.steps[i];
        if (s.kind === "StateChanged")
            return s;
    }
    return null;
}
function tcb(who, t) {
    if (!t) {
        packetTable(`${who}-tcb`, `${who} TCB`, [["", "no connection yet"]]);
        return;
    }
    const rel = (v, base) => absolute ? String(v) : `${(v - base) >>> 0} (${v})`;
    packetTable(`${who}-tcb`, `${who} TCB`, [
        ["State", t.state], ["ISS", String(t.iss)], ["IRS", String(t.irs)],
        ["SND.UNA", rel(t.sndUna, t.iss)], ["SND.NXT", rel(t.sndNxt, t.iss)], ["SND.WND", String(t.sndWnd)],
        ["RCV.NXT", rel(t.rcvNxt, t.irs)], ["RCV.WND", String(t.rcvWnd)],
        ["cwnd", String(t.cwnd)], ["ssthresh", t.ssthresh >= 0x7fffffff ? "∞" : String(t.ssthresh)],
        ["RTO", `${t.rtoMs.toFixed(0)} ms`],
        ["timers", t.timers.length === 0 ? "none armed" : t.timers.map(x => `${x.name} at ${x.atMs.toFixed(1)} ms`).join(", ")],
    ]);
}
function bytes(seg) {
    const box = el("bytes");
    box.replaceChildren();
    if (!seg) {
        box.textContent = "This event carries no segment.";
        return;
    }
    const table = document.createElement("table");
    table.id = "fields";
    const caption = document.createElement("caption");
    caption.textContent = `${seg.from} → ${seg.to}: the headers, field by field`;
    table.append(caption);
    for (const [name, value] of seg.fields) {
        const row = table.insertRow();
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = name;
        row.append(th);
        row.insertCell().textContent = value;
    }
    const hex = document.createElement("pre");
    hex.textContent = seg.hex.match(/.{1,32}/g)?.map(l => l.match(/.{2}/g)?.join(" ")).join("\n") ?? "";
    box.append(table, hex);
}
function drawDiagram(s, lit) {
    const g = el("diagram");
    g.replaceChildren();
    const defs = svg("defs", {});
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "currentColor" }));
    defs.append(marker);
    g.append(defs);
    const edges = [...EDGES];
    if (lit && lit.from && lit.to && !edges.some(([a, b]) => a === lit.from && b === lit.to))
        edges.push([lit.from, lit.to, lit.text]);
    for (const [a, b, label] of edges) {
        const [x1, y1] = STATES[a] ?? [0, 0];
        const [x2, y2] = STATES[b] ?? [0, 0];
        const on = lit !== null && lit.from === a && lit.to === b;
        const line = svg("line", { x1, y1, x2, y2, class: on ? "edge lit" : "edge", "marker-end": "url(#arrow)" });
        const title = svg("title", {}, `${a} → ${b}: ${label}`);
        line.append(title);
        g.append(line);
        if (on)
            g.append(svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, class: "edge-label", "text-anchor": "middle" }, label));
    }
    for (const [name, [x, y]] of Object.entries(STATES)) {
        const classes = ["state"];
        if (s.clientState === name)
            classes.push("client");
        if (s.serverState === name)
            classes.push("server");
        const box = svg("g", { class: classes.join(" "), "data-state": name });
        box.append(svg("rect", { x: x - 62, y: y - 15, width: 124, height: 30, rx: 6 }));
        box.append(svg("text", { x, y: y + 5, "text-anchor": "middle" }, name));
        const who = [s.clientState === name ? "client" : "", s.serverState === name ? "server" : ""].filter(Boolean).join(" and ");
        if (who)
            box.append(svg("title", {}, `${who} in ${name}`));
        g.append(box);
    }
}
/** The ladder's frame: its size, the arrowhead, both lifelines and their names. */
function ladderFrame(rowsDrawn, rowH, leftName, rightName) {
    const g = el("ladder");
    g.replaceChildren();
    const height = LADDER.top + rowsDrawn * rowH + 20;
    g.setAttribute("viewBox", `0 0 720 ${height}`);
    g.setAttribute("height", String(height));
    const defs = svg("defs", {});
    const marker = svg("marker", { id: "ladder-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 10, markerHeight: 10, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "currentColor" }));
    defs.append(marker);
    g.append(defs);
    g.append(svg("text", { x: LADDER.left, y: 20, "text-anchor": "middle", class: "who" }, leftName));
    g.append(svg("text", { x: LADDER.right, y: 20, "text-anchor": "middle", class: "who" }, rightName));
    g.append(svg("line", { x1: LADDER.left, y1: LADDER.top - 10, x2: LADDER.left, y2: height, class: "lifeline" }));
    g.append(svg("line", { x1: LADDER.right, y1: LADDER.top - 10, x2: LADDER.right, y2: height, class: "lifeline" }));
    return g;
}
const LADDER = { left: 160, right: 560, top: 40 };
function drawLadder() {
    if (!lab)
        return;
    const rowH = 22, { left, right, top } = LADDER;
    const steps = lab.steps;
    const g = ladderFrame(steps.length, rowH, "client", "server");
    const y = (i) => top + i * rowH;
    for (const s of steps) {
        const seen = s.index <= step ? "" : " future";
        // A segment is current from when it leaves until it arrives (or is lost).
        const current = s.index === step || (s.kind === "Sent" && s.pair === step) ? " current" : "";
        if (s.kind === "StateChanged") {
            const x = s.endpoint === "client" ? left - 8 : right + 8;
            g.append(svg("text", { x, y: y(s.index) + 4, "text-anchor": s.endpoint === "client" ? "end" : "start", class: `state-mark${seen}${current}` }, s.to ?? ""));
        }
        else if (s.kind === "Sent" && s.segment) {
            const seg = s.segment;
            const from = seg.from === "client" ? left : right, to = seg.from === "client" ? right : left;
            const end = s.pair !== null ? steps[s.pair] : null;
            const lost = end !== null && end.kind === "Dropped";
            const y2 = end ? y(end.index) : y(s.index) + rowH;
            const x2 = lost ? (from + to) / 2 : to;
            const line = svg("line", { x1: from, y1: y(s.index), x2, y2, class: `segment${lost ? " lost" : ""}${seen}${current}`, "marker-end": lost ? "" : "url(#ladder-arrow)" });
            g.append(line);
            const label = absolute
                ? `${seg.flags} seq=${seg.seq}${seg.hasAck ? ` ack=${seg.ack}` : ""} len=${seg.length}`
                : `${seg.flags} ${seg.relSeq}:${seg.relSeq + seg.length}(${seg.length})${seg.hasAck ? ` ack ${seg.relAck}` : ""}`;
            g.append(svg("text", { x: (from + x2) / 2, y: (y(s.index) + y2) / 2 - 4, "text-anchor": "middle", class: `segment-label${seen}${current}` }, label));
            if (lost)
                g.append(svg("text", { x: x2, y: y2 + 5, "text-anchor": "middle", class: `lost-mark${seen}` }, "✕"));
        }
        else if (s.kind === "TimerFired" || s.kind === "UserCall") {
            const side = s.endpoint === "client" ? "end" : s.endpoint === "server" ? "start" : "middle";
            const x = side === "end" ? left - 8 : side === "start" ? right + 8 : (left + right) / 2;
            g.append(svg("text", { x, y: y(s.index) + 4, "text-anchor": side, class: `note${seen}${current}` }, s.kind === "TimerFired" ? `timer: ${s.text}` : s.text));
        }
    }
    g.append(svg("line", { x1: 20, y1: y(step), x2: 700, y2: y(step), class: "cursor" }));
    const box = el("ladder-box");
    const want = y(step) - box.clientHeight / 2;
    box.scrollTop = Math.max(0, want);
}
async function openCapture(file) {
    el("error").textContent = `reading ${file.name} …`;
    const res = await fetch(`api/captures?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const body = await res.json();
    if (!res.ok) {
        el("error").textContent = body.error ?? `the server answered ${res.status}`;
        return;
    }
    const view = body;
    el("error").textContent = "";
    if (view.conversations.length === 0) {
        el("error").textContent = `${view.name}: ${view.frames} frames, no TCP conversation${view.error ? ` (${view.error})` : ""}`;
        return;
    }
    const pick = el("conversation");
    pick.replaceChildren();
    for (const c of view.conversations) {
        const o = document.createElement("option");
        o.value = String(c.stream);
        o.textContent = `#${c.stream} ${c.client} → ${c.server} (${c.packets} packets, ${c.closeKind})`;
        pick.append(o);
    }
    el("capture-pick").hidden = false;
    el("report").href = `api/captures/${view.id}/report`;
    el("report").hidden = false;
    el("title").textContent = `${view.name}: ${view.frames} frames (${view.format}${view.compression ? `, ${view.compression}` : ""})`;
    el("description").textContent = "States are inferred from the packets by the analyzer, as `synack analyze` shows them.";
    await openStream(view.id, view.conversations[0].stream, 0);
}
async function openStream(id, s, at) {
    mode = "capture";
    el("capture").hidden = true; // the lab's run download; a capture is already the user's
    captureId = id;
    stream = s;
    rows.clear();
    el("conversation").value = String(s);
    // The analyzer's report, at this conversation's stream graphs (the report draws its first conversations):
    // fetched only when asked for, since a long capture's report is far larger than a window of packets.
    const graphs = el("graphs");
    graphs.dataset.src = `api/captures/${id}/report#s${s}`;
    if (el("graphs-box").open)
        graphs.src = graphs.dataset.src;
    el("graphs-box").hidden = false;
    await goPacket(at);
}
async function fetchWindow(from) {
    const res = await fetch(`api/captures/${captureId}/packets?stream=${stream}&from=${Math.max(0, from)}&count=${WINDOW}`);
    const body = await res.json();
    if (!res.ok) {
        el("error").textContent = body.error ?? `the server answered ${res.status}`;
        return false;
    }
    const w = body;
    total = w.total;
    if (rows.size > 20 * WINDOW)
        rows.clear(); // a long walk keeps only what is near
    for (const p of w.packets)
        rows.set(p.index, p);
    return true;
}
async function goPacket(i) {
    if (total > 0)
        i = Math.min(Math.max(i, 0), total - 1);
    else
        i = Math.max(i, 0);
    // The rows around the one shown: fetched when missing, a window at a time.
    for (const need of [i, i - 30, i + 30]) {
        if (need < 0 || (total > 0 && need >= total) || rows.has(need))
            continue;
        if (!(await fetchWindow(need - WINDOW / 2)))
            return;
        if (total > 0)
            i = Math.min(i, total - 1);
    }
    const p = rows.get(i);
    if (!p)
        return;
    step = i;
    history.replaceState(null, "", `?capture=${captureId}&stream=${stream}&step=${step}`);
    el("step-index").textContent = `${step + 1} of ${total}`;
    el("step-time").textContent = `${p.timeMs.toFixed(3)} ms`;
    el("step-kind").textContent = `frame ${p.frame}: ${p.fromClient ? "client → server" : "server → client"}`;
    const who = p.fromClient ? "client" : "server";
    const numbers = `${p.flags} seq ${p.seq} (raw ${p.seqRaw})${p.flags.includes(".") ? `, ack ${p.ack} (raw ${p.ackRaw})` : ""}, ${p.length} byte${p.length === 1 ? "" : "s"}, window ${p.window}`;
    el("sentence").textContent = `The ${who} sends ${numbers}.` + (p.findings.length ? ` The analyzer finds: ${p.findings.join("; ")}.` : "") + (p.comment ? ` Comment: ${p.comment}` : "");
    el("client-state").textContent = p.clientState;
    el("server-state").textContent = p.serverState;
    const before = rows.get(i - 1);
    let lit = null;
    if (before && before.clientState !== p.clientState)
        lit = { endpoint: "client", from: before.clientState, to: p.clientState, text: "inferred" };
    else if (before && before.serverState !== p.serverState)
        lit = { endpoint: "server", from: before.serverState, to: p.serverState, text: "inferred" };
    el("lit-transition").textContent = lit ? `${lit.endpoint}: ${lit.from} → ${lit.to}` : "none at this packet";
    packetTable("client-tcb", "this packet", [["frame", String(p.frame)], ["from", who], ["flags", p.flags], ["seq", `${p.seq} (${p.seqRaw})`],
        ["ack", `${p.ack} (${p.ackRaw})`], ["length", String(p.length)], ["window", String(p.window)]]);
    packetTable("server-tcb", "what the analyzer found", p.findings.length ? p.findings.map((f, k) => [String(k + 1), f]) : [["", "nothing unusual"]]);
    el("bytes").textContent = "A capture's bytes are in the capture: open it in Wireshark at this frame.";
    drawDiagram(p, lit);
    drawCaptureLadder();
    el("prev").disabled = step === 0;
    el("first").disabled = step === 0;
    el("next").disabled = step === total - 1;
    el("last").disabled = step === total - 1;
}
function packetTable(id, title, entries) {
    const table = el(id);
    table.replaceChildren();
    const caption = document.createElement("caption");
    caption.textContent = title;
    table.append(caption);
    for (const [k, v] of entries) {
        const row = table.insertRow();
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = k;
        row.append(th);
        const td = row.insertCell();
        td.textContent = v;
        td.dataset.field = k;
    }
}
function drawCaptureLadder() {
    const rowH = 26, { left, right, top } = LADDER, around = 25;
    const first = Math.max(0, step - around), last = Math.min(total - 1, step + around);
    const g = ladderFrame(last - first + 1, rowH, "client", "server");
    for (let i = first; i <= last; i++) {
        const p = rows.get(i);
        if (!p)
            continue;
        const y = top + (i - first) * rowH;
        const from = p.fromClient ? left : right, to = p.fromClient ? right : left;
        const cls = `${i === step ? " current" : ""}${i > step ? " future" : ""}`;
        g.append(svg("line", { x1: from, y1: y, x2: to, y2: y + rowH * 0.6, class: `segment${cls}`, "marker-end": "url(#ladder-arrow)" }));
        const label = absolute ? `${p.flags} seq=${p.seqRaw}${p.flags.includes(".") ? ` ack=${p.ackRaw}` : ""} len=${p.length}`
            : `${p.flags} ${p.seq}:${p.seq + p.length}(${p.length})${p.flags.includes(".") ? ` ack ${p.ack}` : ""}`;
        g.append(svg("text", { x: (left + right) / 2, y: y + rowH * 0.3 - 4, "text-anchor": "middle", class: `segment-label${cls}` }, label));
        g.append(svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: `state-mark${cls}` }, p.clientState));
        g.append(svg("text", { x: right + 8, y: y + 4, "text-anchor": "start", class: `state-mark${cls}` }, p.serverState));
        if (p.findings.length)
            g.append(svg("text", { x: (left + right) / 2, y: y + rowH * 0.6 + 9, "text-anchor": "middle", class: `note${cls}` }, p.findings.join("; ")));
    }
}
// The live page: connections of a running stack, as they happen (server-sent events).
const liveEvents = new Map();
let liveConnection = 0;
async function startLive() {
    const res = await fetch("api/live");
    const body = await res.json();
    if (!body.enabled)
        return;
    el("live-pick").hidden = false;
    for (const c of body.connections)
        addLiveConnection(c.id, `${c.local} ⇄ ${c.remote}`);
    const source = new EventSource("api/live/stream");
    source.onmessage = m => {
        const e = JSON.parse(m.data);
        if (!liveEvents.has(e.connection)) {
            liveEvents.set(e.connection, []);
            addLiveConnection(e.connection, `connection ${e.connection}`);
        }
        const list = liveEvents.get(e.connection);
        if (list.length === 0 || list[list.length - 1].index < e.index)
            list.push(e);
        if (mode === "live" && e.connection === liveConnection) {
            if (el("follow").checked)
                goLive(list.length - 1);
            else
                el("step-index").textContent = `${step + 1} of ${list.length}`;
        }
    };
}
function addLiveConnection(id, label) {
    const pick = el("live-connection");
    if ([...pick.options].some(o => o.value === String(id)))
        return;
    const o = document.createElement("option");
    o.value = String(id);
    o.textContent = `#${id} ${label}`;
    pick.append(o);
    el("live-count").textContent = `${pick.options.length} seen`;
}
async function openLive(id) {
    mode = "live";
    el("graphs-box").hidden = true;
    liveConnection = id;
    el("capture").hidden = true;
    el("live-capture").href = `api/live/${id}/capture`;
    const known = await (await fetch(`api/live/${id}/events`)).json();
    const current = liveEvents.get(id) ?? [];
    const merged = [...known, ...current.filter(e => known.length === 0 || e.index > known[known.length - 1].index)];
    liveEvents.set(id, merged);
    el("title").textContent = `live: connection ${id}`;
    el("description").textContent = "Each segment the stack sends and receives on this connection, and its states, as they happen.";
    goLive(el("follow").checked ? merged.length - 1 : 0);
}
function goLive(i) {
    const list = liveEvents.get(liveConnection) ?? [];
    if (list.length === 0)
        return;
    step = Math.min(Math.max(i, 0), list.length - 1);
    const e = list[step];
    el("step-index").textContent = `${step + 1} of ${list.length}`;
    el("step-time").textContent = `${e.timeMs.toFixed(3)} ms`;
    el("step-kind").textContent = `stack: ${e.kind}`;
    const seg = e.segment;
    el("sentence").textContent = seg
        ? `${e.kind === "In" ? "The peer sends" : "The stack sends"} ${seg.flags} seq ${seg.relSeq} (${seg.seq})${seg.hasAck ? `, ack ${seg.relAck} (${seg.ack})` : ""}, ${seg.length} bytes, window ${seg.window}.`
        : e.kind === "StateChanged" ? `The stack's end moves from ${e.from} to ${e.to} (${e.text}).` : `The stack's ${e.text} timer fires.`;
    el("client-state").textContent = "not seen (the peer)";
    el("server-state").textContent = e.state;
    let lit = null;
    for (let k = step; k >= 0; k--) {
        if (list[k].kind === "StateChanged") {
            lit = { endpoint: "stack", from: list[k].from, to: list[k].to, text: list[k].text };
            break;
        }
    }
    el("lit-transition").textContent = lit ? `stack: ${lit.from} → ${lit.to}` : "none yet";
    packetTable("client-tcb", "this event", seg ? [["kind", e.kind], ["flags", seg.flags], ["seq", `${seg.relSeq} (${seg.seq})`], ["ack", `${seg.relAck} (${seg.ack})`], ["length", String(seg.length)], ["window", String(seg.window)]] : [["kind", e.kind], ["what", e.text]]);
    packetTable("server-tcb", "the stack's end", [["state", e.state]]);
    el("bytes").textContent = "Export the connection as pcapng for its bytes.";
    drawDiagram({ clientState: "", serverState: e.state }, lit);
    drawLiveLadder(list);
    el("prev").disabled = step === 0;
    el("first").disabled = step === 0;
    el("next").disabled = step === list.length - 1;
    el("last").disabled = step === list.length - 1;
}
function drawLiveLadder(list) {
    const rowH = 24, { left, right, top } = LADDER, around = 40;
    const first = Math.max(0, step - around), last = Math.min(list.length - 1, step + around);
    const g = ladderFrame(last - first + 1, rowH, "Synack", "peer");
    for (let i = first; i <= last; i++) {
        const e = list[i];
        const y = top + (i - first) * rowH;
        const cls = `${i === step ? " current" : ""}${i > step ? " future" : ""}`;
        if (e.segment) {
            const from = e.kind === "Out" ? left : right, to = e.kind === "Out" ? right : left;
            g.append(svg("line", { x1: from, y1: y, x2: to, y2: y + rowH * 0.6, class: `segment${cls}`, "marker-end": "url(#ladder-arrow)" }));
            const sg = e.segment;
            g.append(svg("text", { x: (left + right) / 2, y: y + rowH * 0.3 - 4, "text-anchor": "middle", class: `segment-label${cls}` }, absolute ? `${sg.flags} seq=${sg.seq}${sg.hasAck ? ` ack=${sg.ack}` : ""} len=${sg.length}` : `${sg.flags} ${sg.relSeq}:${sg.relSeq + sg.length}(${sg.length})${sg.hasAck ? ` ack ${sg.relAck}` : ""}`));
        }
        else {
            g.append(svg("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: `${e.kind === "StateChanged" ? "state-mark" : "note"}${cls}` }, e.kind === "StateChanged" ? (e.to ?? "") : `timer: ${e.text}`));
        }
    }
}
function move(to) {
    if (mode === "lab")
        go(to);
    else if (mode === "live")
        goLive(to);
    else
        void goPacket(to);
}
function downloadSvg() {
    const g = el("ladder");
    const text = new XMLSerializer().serializeToString(g);
    const blob = new Blob([`<?xml version="1.0" encoding="UTF-8"?>\n`, text], { type: "image/svg+xml" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${lab?.title ?? "ladder"}.svg`;
    a.click();
    URL.revokeObjectURL(a.href);
}
async function start() {
    const scenarios = (await (await fetch("api/scenarios")).json());
    const pick = el("scenario");
    for (const s of scenarios) {
        const o = document.createElement("option");
        o.value = s.name;
        o.textContent = `${s.note} — ${s.name}`;
        pick.append(o);
    }
    const own = document.createElement("option");
    own.value = "custom";
    own.textContent = "Compose your own…";
    pick.append(own);
    const q = new URLSearchParams(location.search);
    pick.value = q.get("scenario") ?? "combined-fin";
    const timeline = q.get("timeline");
    if (timeline !== null)
        el("timeline").value = timeline;
    pick.addEventListener("change", showComposer);
    showComposer();
    el("profile").value = q.get("profile") ?? "note";
    el("loss").value = q.get("loss") ?? "0";
    el("latency").value = q.get("latency") ?? "10";
    el("seed").value = q.get("seed") ?? "1";
    for (const f of OPTION_FIELDS) {
        const v = q.get(f);
        if (v !== null)
            document.getElementById(`opt-${f}`).value = v;
    }
    el("lab").addEventListener("submit", ev => { ev.preventDefault(); mode = "lab"; el("capture-pick").hidden = true; el("report").hidden = true; el("graphs-box").hidden = true; void load(form(), 0); });
    el("first").addEventListener("click", () => move(0));
    el("prev").addEventListener("click", () => move(step - 1));
    el("next").addEventListener("click", () => move(step + 1));
    el("last").addEventListener("click", () => move(Number.MAX_SAFE_INTEGER));
    el("absolute").addEventListener("change", ev => { absolute = ev.target.checked; move(step); });
    el("capture-file").addEventListener("change", ev => {
        const f = ev.target.files?.[0];
        if (f)
            void openCapture(f);
    });
    el("conversation").addEventListener("change", ev => void openStream(captureId, Number(ev.target.value), 0));
    el("graphs-box").addEventListener("toggle", () => {
        const graphs = el("graphs");
        if (el("graphs-box").open && graphs.dataset.src && graphs.src !== new URL(graphs.dataset.src, location.href).href)
            graphs.src = graphs.dataset.src;
    });
    el("live-connection").addEventListener("change", ev => void openLive(Number(ev.target.value)));
    el("live-open").addEventListener("click", () => { const v = el("live-connection").value; if (v)
        void openLive(Number(v)); });
    el("download-svg").addEventListener("click", downloadSvg);
    document.addEventListener("keydown", ev => {
        const t = ev.target;
        if (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA")
            return;
        if (ev.key === "ArrowRight") {
            move(step + 1);
            ev.preventDefault();
        }
        else if (ev.key === "ArrowLeft") {
            move(step - 1);
            ev.preventDefault();
        }
        else if (ev.key === "Home") {
            move(0);
            ev.preventDefault();
        }
        else if (ev.key === "End") {
            move(Number.MAX_SAFE_INTEGER);
            ev.preventDefault();
        }
    });
    const shared = q.get("capture");
    if (shared !== null) {
        el("capture-pick").hidden = false;
        el("title").textContent = "a capture";
        await openStream(shared, Number(q.get("stream") ?? "0"), Number(q.get("step") ?? "0"));
        const o = document.createElement("option");
        o.value = String(stream);
        o.textContent = `#${stream}`;
        el("conversation").append(o);
    }
    else {
        await load(form(), Number(q.get("step") ?? "0"));
    }
    await startLive();
    document.body.dataset.ready = "true";
}
void start();
